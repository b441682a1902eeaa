"""Operations routes: liveness, readiness (index loaded, catalogs reachable) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api import schemas
from api.errors import NO_INDEX_HINT
from api.lake import Lake
from api.metrics import CONTENT_TYPE
from api.routes import failures, user

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=schemas.Health, responses=failures(keyed=False))
async def healthz() -> schemas.Health:
    """The process is up and its event loop answers: never waits on the agent, the index or a catalog."""
    return schemas.Health()


@router.get("/readyz", response_model=schemas.Readiness,
            responses={**failures(keyed=False), 503: {"model": schemas.Readiness}})  # fmt: skip
async def readyz(request: Request, response: Response) -> schemas.Readiness:
    """Ready when the index is loaded and complete and the catalogs answer; 503 (with what is wrong) otherwise.
    The semantic layer's state and whether dense search is exact (or approximate, with its measured recall)
    are reported too; neither makes the server unready."""
    lake: Lake | None = request.app.state.lake
    checks = {
        "index": lake.context.retriever.health() if lake is not None else NO_INDEX_HINT,
        "catalog": await request.app.state.catalog_probe.check(),
    }
    problems = [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    if lake is not None:  # reported, never a 503
        checks["search"] = lake.context.retriever.dense_search()
    layer = lake.context.semantic if lake is not None else None
    if layer is not None and (layer.layer is not None or layer.failed):  # reported, never a 503: served without it
        checks["semantic_layer"] = layer.status()
    response.status_code = 503 if problems else 200
    error = schemas.ErrorDetail(code="not_ready", message="; ".join(problems)) if problems else None
    return schemas.Readiness(ready=not problems, checks=checks, error=error)


@router.get("/metrics", responses={**failures(), 200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(request: Request, _: Any = user) -> Response:
    """Prometheus text format: requests and latencies by route, agent runs, tool calls, model tokens."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
