"""Streamable HTTP for the MCP server: on its own (``lakescout mcp --http``) or as the API's ``/mcp`` route
(mounted by ``mcp_server.mount``, which imports this module on the route's first request).

The API's bearer keys apply: a key ring (``api.auth.KeyRing``, passed in so this package never imports the
API) checks each request through the SDK's bearer middleware, so a request without a valid key gets 401
before it reaches the protocol, and the key's scopes travel with the request to the tools (``run_sql`` may
need one, see ``mcp.run_sql_scope``). With ``api.auth_enabled = false`` every caller is the local user.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from starlette.applications import Starlette
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog_ingest.settings import Settings
from mcp_server.server import build_server
from mcp_server.mount import PATH
from mcp_server.tools import SCOPES, ContextSource



class Principal(Protocol):
    name: str

    def allows(self, scope: Any) -> bool: ...


class Keys(Protocol):
    """What the HTTP transport needs of the API's key ring."""

    enabled: bool

    def authenticate(self, key: str) -> Principal | None: ...


class Limiter(Protocol):
    """What the HTTP transport needs of the API's rate limiter: seconds to wait, 0 when a call may go."""

    def acquire(self, key: str) -> float: ...


class KeyVerifier:
    """The SDK's TokenVerifier over API keys: a key's token lists every scope its holder has."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.keys.authenticate(token)
        if principal is None:
            return None
        return AccessToken(token=token, client_id=principal.name, scopes=[s for s in SCOPES if principal.allows(s)])


class McpEndpoint:
    """The ASGI endpoint at ``/mcp``; ``running()`` is its lifespan (one session manager per run)."""

    def __init__(self, server: MCPServer, keys: Keys, host: str, limiter: Limiter | None = None) -> None:
        self.server = server
        self.keys = keys
        self.host = host
        self.limiter = limiter
        self._app: ASGIApp | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self.server.streamable_http_app(streamable_http_path=PATH, host=self.host)  # a fresh session manager
        manager = self.server.session_manager
        app: ASGIApp = StreamableHTTPASGIApp(manager)
        if self.keys.enabled:
            app = AuthenticationMiddleware(
                RequireAuthMiddleware(app, required_scopes=["user"]), backend=BearerAuthBackend(KeyVerifier(self.keys))
            )
        async with manager.run():
            self._app = app
            try:
                yield
            finally:
                self._app = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            response = JSONResponse({"error": {"code": "unavailable", "message": "the MCP endpoint is not running"}},
                                    status_code=503)  # fmt: skip
            await response(scope, receive, send)
            return
        if (wait := self._rate_limit_wait(scope)) > 0:
            response = JSONResponse({"error": {"code": "rate_limited", "message": "rate limit reached; retry later"}},
                                    status_code=429, headers={"Retry-After": str(math.ceil(wait))})  # fmt: skip
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _rate_limit_wait(self, scope: Scope) -> float:
        """Each JSON-RPC message (a POST) spends one token of the caller's bucket, the one its REST calls use
        (the key's, or the client address's with auth off); a request without a valid key is left to the
        auth middleware's 401."""
        if self.limiter is None or scope.get("method") != "POST":
            return 0.0
        if not self.keys.enabled:
            client = scope.get("client")
            return self.limiter.acquire(f"ip:{client[0] if client else '-'}")
        authorization = Headers(scope=scope).get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        principal = self.keys.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        return self.limiter.acquire(f"key:{principal.name}") if principal is not None else 0.0


def standalone_app(context_of: ContextSource, settings: Settings, keys: Keys, host: str) -> Starlette:
    """``lakescout mcp --http``: only the MCP endpoint, at ``/mcp``."""
    endpoint = McpEndpoint(build_server(context_of, settings), keys, host)
    return Starlette(routes=[Route(PATH, endpoint)], lifespan=lambda _: endpoint.running())
