"""lakescout as an MCP server (the official ``mcp`` SDK): the agent's read-only tools, table records as
resources and prompts, over stdio, Streamable HTTP, or the API's ``/mcp`` route."""
