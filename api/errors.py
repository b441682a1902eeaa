"""Every failure leaves the API as ``{"error": {"code", "message"}}`` with the right status.

Library exceptions are mapped here, once, so routes stay thin and raise whatever the library raises.
Unexpected exceptions become a 500 that names the request id and nothing else: tracebacks and
settings (keys, paths of secrets) only go to the server log.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from agent.sql.errors import SqlExecutionError, SqlTimeout, UnsafeSQL
from catalog_ingest.store import AmbiguousTable
from catalog_ingest.store_backends import IngestBusy

log = logging.getLogger("lakescout.api")

NO_INDEX_HINT = "no index yet: run `lakescout ingest` (or POST /v1/ingest with an admin key), then retry"

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    431: "headers_too_large",
    503: "unavailable",
    504: "timeout",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def as_api_error(exc: BaseException) -> ApiError | None:
    """The API error a library exception stands for; None for the unexpected (a 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, UnsafeSQL):
        return ApiError(422, "unsafe_sql", str(exc))
    if isinstance(exc, AmbiguousTable):
        return ApiError(422, "ambiguous_table", str(exc))
    if isinstance(exc, IngestBusy):
        return ApiError(409, "ingest_running", "an ingest is already running; follow it with GET /v1/ingest/{job}")
    if isinstance(exc, (SqlTimeout, TimeoutError)):
        return ApiError(504, "timeout", str(exc) or "the request took longer than its configured timeout")
    if isinstance(exc, SqlExecutionError):
        return ApiError(422, "sql_error", str(exc))
    return None


def request_id_of(request: Request) -> str:
    return request.scope.get("lakescout.request_id", "-")


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}}, status_code=error.status, headers=error.headers
    )


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method the request's path answers, across all its routes (Starlette names only the first's)."""
    routes = request.app.router.routes
    allowed = [m for m in METHODS if any(r.matches({**request.scope, "method": m})[0] is Match.FULL for r in routes)]
    return ", ".join([*allowed, "OPTIONS"])


def install_error_handlers(app: FastAPI) -> None:
    async def on_known(request: Request, exc: Exception) -> JSONResponse:
        error = as_api_error(exc)
        assert error is not None
        return error_response(error)

    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return error_response(ApiError(422, "invalid_request", "; ".join(problems) or "invalid request"))

    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
            if request.method == "OPTIONS":  # a plain OPTIONS (CORS preflights are answered before routing)
                return Response(status_code=204, headers=headers)
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(ApiError(exc.status_code, code, message, headers))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = request_id_of(request)
        log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
        return error_response(ApiError(500, "internal", f"internal error; the server log has details (request {rid})"))

    for exc_type in (ApiError, UnsafeSQL, SqlExecutionError, AmbiguousTable, IngestBusy, SqlTimeout, TimeoutError):
        app.add_exception_handler(exc_type, on_known)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
