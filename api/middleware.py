"""Per request: an id, size limits (target, head, body), one structured JSON log line and the request metrics.

Plain ASGI rather than ``BaseHTTPMiddleware``, so streamed responses pass through untouched and a client
disconnect still reaches the endpoint (which cancels its agent run).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HTTP_CODES, ApiError, error_response
from api.http_protocol import MAX_REQUEST_HEAD_BYTES, MAX_TARGET_BYTES
from api.metrics import Metrics

log = logging.getLogger("lakescout.api")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log shippers parse without configuration."""

    FIELDS = ("request_id", "method", "path", "route", "status", "duration_ms", "principal", "client", "job")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("lakescout", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self._too_large_message = f"request body larger than {max_body_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex
        scope["lakescout.request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            refusal = self._refusal(scope, headers)
            if refusal is not None:
                await error_response(refusal)(scope, receive, send_with_id)
            else:
                await self.app(scope, self._limited(receive), send_with_id)
        finally:
            self._record(scope, request_id, status, time.perf_counter() - started)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> ApiError | None:
        """A request too large to look at: its target, its head or its declared body."""
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if target > MAX_TARGET_BYTES:
            return ApiError(414, HTTP_CODES[414], f"path and query longer than {MAX_TARGET_BYTES} bytes")
        if target + sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > MAX_REQUEST_HEAD_BYTES:
            return ApiError(431, HTTP_CODES[431], f"request line and headers larger than {MAX_REQUEST_HEAD_BYTES} bytes")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return ApiError(413, HTTP_CODES[413], self._too_large_message)
        return None

    def _limited(self, receive: Receive) -> Receive:
        """Count streamed (chunked) bodies too; FastAPI turns the HTTPException into our JSON 413."""
        total = 0

        async def limited() -> Message:
            nonlocal total
            message = await receive()
            total += len(message.get("body", b""))
            if total > self.max_body_bytes:
                raise HTTPException(413, self._too_large_message)
            return message

        return limited

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe_request(scope["method"], route, status, seconds)
        client = scope.get("client")
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "principal": scope.get("lakescout.principal"),
                "client": client[0] if client else None,
            },
        )
