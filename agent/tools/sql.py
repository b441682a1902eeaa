"""Tools over SQL drafts: validate against the catalog, estimate the scan from statistics, run read-only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from langchain_core.tools import tool
from pydantic import Field

from agent.context import AgentContext
from agent.tools.common import Runtime, ToolError, as_dict, respond, source
from catalog_ingest.records import TableRecord
from catalog_ingest.sizes import human_bytes


def sql_sources(records: Iterable[TableRecord]) -> list[dict[str, Any]]:
    """The sources of the records a query's names resolved to: never looked up again by ``namespace.table``,
    which two catalogs may share."""
    return [source(record) for record in {record.key: record for record in records}.values()]


@tool(response_format="content_and_artifact")
def validate_sql(
    sql: Annotated[str, Field(description="One read-only DuckDB query over namespace.table names.")],
    runtime: Runtime,
) -> tuple[str, dict[str, Any]]:
    """Check a query before running it: read-only, every table and column exists, partition pruning lint."""
    from agent.sql.validate import validate_sql as validate

    ctx: AgentContext = runtime.context
    records = ctx.records()
    result = validate(sql, records, ctx.settings.sql).summary()
    payload = {**result, "sources": sql_sources(records[name] for name in result.get("tables", []))}
    if not payload.get("ok"):
        raise ToolError("the SQL is not valid; fix it and validate again", **payload)
    return respond(payload, "warnings", "sources", "tables", "columns")  # a family's members can be many


@tool(response_format="content_and_artifact")
def estimate_scan(
    sql: Annotated[str, Field(description="The query to estimate.")],
    runtime: Runtime,
) -> tuple[str, dict[str, Any]]:
    """Files and bytes the query would read after partition pruning, from catalog statistics; runs nothing."""
    from agent.sql.estimate import estimate_scan as estimate
    from agent.sql.guard import UnsafeSQL

    ctx: AgentContext = runtime.context
    lookup = ctx.partition_lookup()
    resolved: dict[str, TableRecord] = {}

    def resolve(name: str) -> TableRecord | None:
        record = lookup(name)
        if record is not None:
            resolved[record.full_name] = record
        return record

    def every_record() -> Iterator[TableRecord]:  # read only when the query names a family (web.events_*)
        yield from ctx.records().values()

    try:
        per_table = as_dict(estimate(sql, resolve, every_record()))["tables"]
    except (UnsafeSQL, ValueError) as exc:
        raise ToolError(f"cannot estimate this query: {exc}") from None
    payload: dict[str, Any] = {
        key: sum(t[key] or 0 for t in per_table.values()) for key in ("files", "bytes", "total_files", "total_bytes")
    }
    sources = sql_sources(resolved[name] for name in per_table)
    payload.update(size=human_bytes(payload["bytes"]), tables=per_table, sources=sources)
    return respond(payload, "tables")


@tool(response_format="content_and_artifact")
def run_sql(
    sql: Annotated[str, Field(description="A validated read-only query.")],
    runtime: Runtime,
    limit: Annotated[int | None, Field(ge=1, description="Row cap (at most the configured limit).")] = None,
) -> tuple[str, dict[str, Any]]:
    """Run a query and return its rows (capped, PII-tagged columns masked unless allowed)."""
    from agent.sql.engines.base import SqlExecutionError, SqlTimeout
    from agent.sql.gate import Catalog, gate
    from agent.sql.guard import UnsafeSQL

    ctx: AgentContext = runtime.context
    cap = min(limit or ctx.settings.sql.row_limit, ctx.settings.sql.row_limit)
    try:
        tables = gate(sql, ctx.records(), ctx.settings.sql).tables
        result = as_dict(ctx.engine().run(sql, cap))
    except SqlTimeout as exc:
        raise ToolError(f"the query timed out: {exc}", hint="filter on the partition column or aggregate more") from None
    except (SqlExecutionError, UnsafeSQL) as exc:
        raise ToolError(f"the query failed: {exc}") from None
    catalog = Catalog(ctx.records())
    sources = sql_sources(record for name in tables if (record := catalog.get(name)) is not None)
    payload = {**result, "row_count": len(result.get("rows", [])), "sources": sources}
    return respond(payload, "rows", "sources")
