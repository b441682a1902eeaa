"""Catalog routes: table search (retrieval only, no model), the table list and one stored record."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Query

from api import schemas
from api.errors import ApiError
from api.lake import Lake
from api.routes import failures, lake_dep, user
from catalog_ingest.records import TableRecord

router = APIRouter(tags=["catalog"])


@router.get("/v1/search", response_model=schemas.SearchResponse, responses=failures())
async def search(
    q: str = Query(min_length=1, max_length=1000, description="What you are looking for, in your words."),
    k: int = Query(default=5, ge=1, le=100),
    namespace: str | None = Query(default=None, max_length=256),
    _: Any = user,
    lake: Lake = lake_dep,
) -> schemas.SearchResponse:
    """Retrieval only (no model): tables with scores and the columns that matched."""
    hits = await anyio.to_thread.run_sync(lambda: lake.context.retriever.search(q, k=k, namespace=namespace))
    return schemas.SearchResponse(query=q, hits=[schemas.SearchHit.model_validate(h, from_attributes=True) for h in hits])


@router.get("/v1/tables", response_model=schemas.TableList, responses=failures())
async def tables(
    namespace: str | None = Query(default=None, max_length=256), _: Any = user, lake: Lake = lake_dep
) -> schemas.TableList:
    rows = await anyio.to_thread.run_sync(lambda: lake.context.store.list(namespace=namespace))
    return schemas.TableList(
        tables=[
            schemas.TableEntry(
                name=r.full_name, namespace=r.namespace, catalog=r.catalog, kind=r.kind, comment=r.comment
            )
            for r in rows
        ]
    )


@router.get("/v1/tables/{name}", response_model=TableRecord, responses=failures(404))
async def table(name: str, _: Any = user, lake: Lake = lake_dep) -> TableRecord:
    """The stored record of ``namespace.table`` (or ``catalog.namespace.table``), partitions included."""
    record = await anyio.to_thread.run_sync(lake.context.store.get, name)
    if record is None:
        raise ApiError(404, "unknown_table", f"no table '{name}' in the index; GET /v1/tables lists them")
    return record
