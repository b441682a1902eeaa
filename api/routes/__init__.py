"""One router per resource (chat, OpenAI-compatible, catalog, SQL, ingest, operations) and what they share:
the key checks, the leased current Lake and the error responses their OpenAPI entries list."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from api import schemas
from api.auth import requires
from api.lake import current_lake

user = Depends(requires("user"))
admin = Depends(requires("admin"))
lake_dep = Depends(current_lake)


def failures(*extra: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer, besides those every route can."""
    return {status: {"model": schemas.ErrorBody} for status in (401, 403, 422, 429, 503, *extra)}
