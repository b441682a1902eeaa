"""The catalog-wide tool: list tables, filtered by namespace, owner, tag or last write, ranked by a measure.

Answers "which table has the most rows", "the five biggest tables", "tables not written in 30 days" and
"tables in finance" from the record store's statistics, without reading data.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from langchain_core.tools import tool
from pydantic import Field

from agent.context import AgentContext
from agent.tools.common import Runtime, ToolError, iso, respond, source
from catalog_ingest.records import TableRecord
from catalog_ingest.sizes import human_bytes

RankBy = Literal["rows", "bytes", "files", "last_write", "partitions", "snapshots", "columns", "name"]
MEASURES: dict[str, Any] = {
    "rows": lambda r: r.totals.record_count,
    "bytes": lambda r: r.totals.total_bytes,
    "files": lambda r: r.totals.file_count,
    "last_write": lambda r: r.last_updated,
    "partitions": lambda r: r.totals.partition_count,
    "snapshots": lambda r: len(r.snapshots),
    "columns": lambda r: top_level_columns(r),
    "name": lambda r: r.full_name,
}
"""What a table can be ranked by, read from its record."""


def top_level_columns(record: TableRecord) -> int:
    """The table's own columns: a struct's fields (``address.city``) are parts of one column."""
    return sum("." not in column.path for column in record.columns)


def table_row(record: TableRecord) -> dict[str, Any]:
    row = {
        "table": record.full_name,
        "rows": record.totals.record_count,
        "bytes": record.totals.total_bytes,
        "size": human_bytes(record.totals.total_bytes),
        "files": record.totals.file_count,
        "partitions": record.totals.partition_count,
        "snapshots": len(record.snapshots),
        "columns": top_level_columns(record),
        "last_updated": iso(record.last_updated)[:19] if record.last_updated else None,
    }
    return {k: v for k, v in row.items() if v not in (None, [])}


def written_within(record: TableRecord, since: datetime) -> bool:
    return record.last_updated is not None and record.last_updated >= since


@tool(response_format="content_and_artifact")
def list_tables(
    runtime: Runtime,
    rank_by: Annotated[RankBy, Field(description="Order by this measure.")] = "name",
    descending: Annotated[bool, Field(description="Largest (or newest) first.")] = True,
    limit: Annotated[int, Field(ge=1, le=500, description="How many tables to return.")] = 20,
    namespace: Annotated[str | None, Field(description="Only tables in this namespace.")] = None,
    owner: Annotated[str | None, Field(description="Only tables whose owner contains this text.")] = None,
    tag: Annotated[str | None, Field(description="Only tables with this tag.")] = None,
    not_written_days: Annotated[int | None, Field(ge=0, description="Only tables not written in this many days.")] = None,
    written_days: Annotated[int | None, Field(ge=0, description="Only tables written in the last this many days.")] = None,
    pii: Annotated[bool | None, Field(description="Only tables with (true) or without (false) PII-tagged columns.")] = None,
    column: Annotated[str | None, Field(description="Only tables with a column of this name (any case; nested fields dotted).")] = None,
) -> tuple[str, dict[str, Any]]:
    """List the catalog's tables, filtered (namespace, owner, tag, last write, PII, a column's name) and ranked by rows, bytes, files, last
    write, partitions, snapshots or columns, with how many of them each namespace holds: for questions about the
    whole catalog ("the five biggest tables", "what namespaces are there?")."""
    ctx: AgentContext = runtime.context
    records = list(ctx.records().values())
    namespaces = sorted({r.namespace for r in records})
    if namespace and namespace not in namespaces:
        raise ToolError(f"no namespace named '{namespace}' in the catalog", namespaces=namespaces)
    now = datetime.now(UTC)
    chosen = [
        r for r in records
        if (not namespace or r.namespace == namespace)
        and (not owner or owner.lower() in (r.owner or "").lower())
        and (not tag or tag.lower() in (t.lower() for t in r.tags))
        and (not_written_days is None or not written_within(r, now - timedelta(days=not_written_days)))
        and (written_days is None or written_within(r, now - timedelta(days=written_days)))
        and (pii is None or bool(r.pii_columns) == pii)
        and (not column or any(c.path.lower() == column.lower() for c in r.columns))
    ]  # fmt: skip
    measure = MEASURES[rank_by]
    known = [r for r in chosen if measure(r) is not None]
    ranked = sorted(known, key=measure, reverse=descending and rank_by != "name")
    ranked += [r for r in chosen if measure(r) is None]
    filters = {"namespace": namespace, "owner": owner, "tag": tag, "not_written_days": not_written_days,
               "written_days": written_days, "pii": pii, "column": column}  # fmt: skip
    payload = {
        "rank_by": rank_by,
        "descending": descending and rank_by != "name",
        "filters": {k: v for k, v in filters.items() if v is not None},
        "as_of": iso(now),
        "matched": len(chosen),
        "total_tables": len(records),
        "namespaces": dict(sorted(Counter(r.namespace for r in chosen).items())),
        "tables": [table_row(r) for r in ranked[:limit]],
    }
    if not chosen:
        payload["note"] = "no table matches these filters"
    text, _ = respond(payload, "tables")
    return text, {**payload, "candidates": [source(r) for r in ranked[:limit]]}
