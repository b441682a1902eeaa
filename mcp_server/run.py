"""Start the MCP server from settings: over stdio (the local user) or Streamable HTTP (API keys apply)."""

from __future__ import annotations

import anyio
import uvicorn

from agent.context import AgentContext
from catalog_ingest.settings import Settings
from mcp_server.http import Keys, standalone_app
from mcp_server.server import build_server
from mcp_server.tools import fixed_context


def open_lake(settings: Settings) -> AgentContext:
    """The agent context over the ingested index, with the embedding model loaded before the first call."""
    context = AgentContext.from_settings(settings)
    context.retriever.search("warm up", k=1)
    return context


def serve_stdio(settings: Settings) -> None:
    """Serve one client on stdin/stdout until it closes them; logs go to stderr."""
    context = open_lake(settings)
    anyio.run(build_server(fixed_context(context), settings).run_stdio_async)


def serve_http(settings: Settings, keys: Keys, host: str, port: int) -> None:
    """Serve Streamable HTTP at http://HOST:PORT/mcp until interrupted."""
    context = open_lake(settings)
    uvicorn.run(standalone_app(fixed_context(context), settings, keys, host), host=host, port=port,
                timeout_graceful_shutdown=5)  # fmt: skip
