"""The agent: LangGraph over the lake tools, its models (offline rules or a hosted chat model), and SQL checks."""
