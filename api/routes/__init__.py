"""One router per resource (chat, OpenAI-compatible, catalog, SQL, ingest, operations, feedback, verified) and
what they share: the key checks, the leased current Lake and the error responses their OpenAPI entries list."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from api import schemas
from api.auth import requires
from api.lake import current_lake

user = Depends(requires("user"))
admin = Depends(requires("admin"))
lake_dep = Depends(current_lake)


ANY_ROUTE = (400, 413, 414, 431, 500)
"""What any request can get: a malformed request (refused by the server's parser), a body, a target or a
head over its limit, an unexpected failure."""


def failures(*extra: int, keyed: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for every error status a route can answer: those of any route, then (``keyed``)
    those of a route behind a key (401, 403, 429), its input (422) and the index (503), then ``extra``."""
    statuses = (*ANY_ROUTE, *((401, 403, 422, 429, 503) if keyed else ()), *extra)
    return {status: {"model": schemas.ErrorBody} for status in sorted(statuses)}
