"""The chat API: FastAPI routes over the agent, with auth, limits, metrics and ingest jobs."""
