"""The API's ``/mcp`` route, with the MCP SDK imported and its session manager started on the first request.

Importing the SDK and building the server (``mcp_server.http``) cost about a quarter of ``lakescout serve``'s
imports, for a route many servers never see used: so the route is registered at once, and the first
request to it imports the transport (in a worker thread, the event loop keeps serving), builds the MCP
server and runs its session manager in a task the app's lifespan holds until the app stops.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from catalog_ingest.settings import Settings

if TYPE_CHECKING:
    from mcp_server.http import Keys, Limiter, McpEndpoint
    from mcp_server.tools import ContextSource

PATH = "/mcp"


class LazyMcpEndpoint:
    """The ASGI endpoint at ``/mcp``: the real one (``mcp_server.http.McpEndpoint``) from the first request on."""

    def __init__(self, build: Callable[[], McpEndpoint]) -> None:
        self._build = build
        self._endpoint: McpEndpoint | None = None
        self._tasks: TaskGroup | None = None
        self._starting = anyio.Lock()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The app's lifespan: holds the task the session manager runs in once a request has started it."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                tasks.cancel_scope.cancel()
        self._endpoint = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoint or await self._start()
        if endpoint is None:
            response = JSONResponse({"error": {"code": "unavailable", "message": "the MCP endpoint is not running"}},
                                    status_code=503)  # fmt: skip
            await response(scope, receive, send)
            return
        await endpoint(scope, receive, send)

    async def _start(self) -> McpEndpoint | None:
        async with self._starting:
            if self._endpoint is None and self._tasks is not None:
                await anyio.to_thread.run_sync(importlib.import_module, "mcp_server.http")
                self._endpoint = await self._tasks.start(self._serve, self._build())
        return self._endpoint

    @staticmethod
    async def _serve(endpoint: McpEndpoint, *, task_status: TaskStatus[McpEndpoint]) -> None:
        async with endpoint.running():
            task_status.started(endpoint)
            await anyio.sleep_forever()


def mount_mcp(
    app: Starlette, settings: Settings, keys: Keys, context_of: ContextSource, *, limiter: Limiter | None = None
) -> None:
    """Serve MCP at the API's ``/mcp``: the route, its session manager inside the app's lifespan (from the first
    request on), and the API's rate limit on every message."""

    def build() -> McpEndpoint:
        from mcp_server.http import McpEndpoint
        from mcp_server.server import build_server

        return McpEndpoint(build_server(context_of, settings), keys, settings.api.host, limiter)

    endpoint = LazyMcpEndpoint(build)
    app.router.routes.append(Route(PATH, endpoint))
    app_lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(instance: Any) -> AsyncIterator[Any]:
        async with endpoint.running(), app_lifespan(instance) as state:
            yield state

    app.router.lifespan_context = lifespan
