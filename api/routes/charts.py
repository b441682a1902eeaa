"""Chart routes: a table's history and partitions, and the lake overview, as Vega-Lite specs with data inline.

The specs come from ``catalog_ingest.charts`` over the stored records, the same charts the CLI draws in the
terminal and the VS Code extension renders with vega-embed.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.errors import ApiError
from api.lake import Lake
from api.routes import failures, lake_dep, user
from catalog_ingest.charts import VEGA_LITE_SCHEMA, Chart, lake_charts, table_charts

router = APIRouter(tags=["charts"])

EXAMPLE_CHART = {
    "id": "partitions",
    "title": "raw.events: partitions by size",
    "spec": {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {"text": "raw.events: partitions by size", "anchor": "start"},
        "data": {"values": [{"partition": "event_time_day=2026-11-19", "bytes": 54889, "records": 2051, "files": 2}]},
        "mark": "bar",
        "encoding": {
            "y": {"field": "partition", "type": "nominal", "title": "partition", "sort": None},
            "x": {"field": "bytes", "type": "quantitative", "title": "bytes", "axis": {"format": "~s"}},
        },
    },
}


class ChartOut(BaseModel):
    """One chart: a stable id, a plain-text title and a complete Vega-Lite document."""

    model_config = ConfigDict(json_schema_extra={"example": EXAMPLE_CHART})

    id: str = Field(description="history, partitions (a table); namespaces, freshness (the lake).")
    title: str = Field(description="Plain text: catalog names appear as they are, never as markup.")
    spec: dict[str, Any] = Field(description="A Vega-Lite v5 spec with its data inline (`data.values`).")


class ChartsResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"charts": [EXAMPLE_CHART]}})

    charts: list[ChartOut]


def charts_response(charts: list[Chart]) -> ChartsResponse:
    return ChartsResponse(charts=[ChartOut(id=c.id, title=c.title, spec=c.spec) for c in charts])


@router.get("/v1/tables/{name}/charts", response_model=ChartsResponse, responses=failures(404))
async def table_charts_route(name: str, _: Any = user, lake: Lake = lake_dep) -> ChartsResponse:
    """A table's history (rows, bytes and data files after each snapshot, over time) and, when it is
    partitioned, its partitions by size; ``name`` is ``namespace.table`` or ``catalog.namespace.table``."""
    record = await anyio.to_thread.run_sync(lake.context.store.get, name)
    if record is None:
        raise ApiError(404, "unknown_table", f"no table '{name}' in the index; GET /v1/tables lists them")
    return charts_response(table_charts(record))


@router.get("/v1/lake/charts", response_model=ChartsResponse, responses=failures())
async def lake_charts_route(_: Any = user, lake: Lake = lake_dep) -> ChartsResponse:
    """The lake overview: bytes and tables per namespace, and freshness (days since each table's last
    write, counted to now)."""
    records = await anyio.to_thread.run_sync(lambda: list(lake.context.store.records()))
    return charts_response(lake_charts(records))
