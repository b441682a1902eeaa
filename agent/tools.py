"""The agent's tools: exact catalog facts and checked SQL, as compact JSON within a size budget.

Each tool returns ``(content, artifact)``: the content is what the model reads (trimmed to a character
budget, saying what was cut), the artifact is the full payload the graph tracks and the API returns.
Every payload names its ``sources`` (table, snapshot id, as-of time) so answers can cite them.
Problems the model can fix raise ``ToolError``, whose text names the problem and the closest real names.
Catalog-written text (comments, properties, owners, tags) is set apart under ``metadata_untrusted``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from langchain.tools import ToolRuntime
from langchain_core.tools import tool
from pydantic import Field

from agent.context import AgentContext
from agent.profiles_view import with_profiles
from catalog_ingest.records import PartitionStat, TableRecord, time_span
from catalog_ingest.sizes import human_bytes
from catalog_ingest.store import AmbiguousTable, partition_label

log = logging.getLogger(__name__)

BUDGET = 4000
"""Characters of one tool result the model reads; wide tables and long lists are cut to fit."""
TEXT_CLIP = 300
"""Characters kept of any one catalog-written text (a comment, a property value)."""
MATCHED_COLUMNS = 8
"""Matched columns listed per search hit; describe_table has them all."""
SUMMARY_KEYS = (
    "added-records",
    "deleted-records",
    "total-records",
    "added-data-files",
    "deleted-data-files",
    "total-data-files",
    "added-files-size",
    "total-files-size",
    "changed-partition-count",
)

Runtime = ToolRuntime[Any, Any]
"""Injected by ToolNode; ``runtime.context`` is the AgentContext (typed Any here: pydantic would otherwise
build a validator for the context's fields)."""


class ToolError(Exception):
    """A problem the model can fix; the message is JSON with the problem and what to try instead."""

    def __init__(self, error: str, **details: Any) -> None:
        self.payload = {"error": error, **{k: v for k, v in details.items() if v not in (None, [], {})}}
        super().__init__(dumps(self.payload))


def tool_error_text(error: Exception) -> str:
    """ToolNode's error handler: a ToolError speaks for itself; anything else is reported, not raised."""
    if isinstance(error, ToolError):
        return str(error)
    log.exception("tool failed", exc_info=error)
    return dumps({"error": f"{type(error).__name__}: {error}"})


# Formatting -------------------------------------------------------------------------------------------


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= TEXT_CLIP:
        return text
    return text[:TEXT_CLIP] + "…"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def respond(payload: dict[str, Any], *trimmable: str) -> tuple[str, dict[str, Any]]:
    """Content within BUDGET (halving the named lists in turn, noting how many were shown) and the artifact."""
    shown = dict(payload)
    text = dumps(shown)
    while len(text) > BUDGET:
        key = max(trimmable, key=lambda k: len(shown.get(k) or ()), default=None)
        items = shown.get(key) if key else None
        if not items or len(items) <= 1:
            text = text[:BUDGET] + "…(cut)"
            break
        keep = len(items) // 2
        shown[key] = dict(list(items.items())[:keep]) if isinstance(items, dict) else items[:keep]
        shown[f"{key}_shown"] = f"{keep} of {len(payload[key])}"
        text = dumps(shown)
    return text, payload


def as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.loads(dumps(dataclasses.asdict(value)))
    return dict(value)


# Records ------------------------------------------------------------------------------------------------


def source(record: TableRecord) -> dict[str, Any]:
    snapshot = next((s for s in record.snapshots if s.snapshot_id == record.current_snapshot_id), None)
    as_of = snapshot.timestamp if snapshot else record.last_updated
    return {"table": record.full_name, "catalog": record.catalog, "snapshot_id": record.current_snapshot_id,
            "as_of": iso(as_of)}  # fmt: skip


def closest_tables(ctx: AgentContext, name: str, n: int = 3) -> list[str]:
    """Real table names nearest to a wrong one: by spelling first, then by search."""
    tables = ctx.store.list()
    by_name: dict[str, str] = {}
    for t in tables:
        by_name.setdefault(t.full_name.lower(), t.full_name)
        by_name.setdefault(t.name.lower(), t.full_name)
    wanted = name.lower().strip("`\" ")
    close = difflib.get_close_matches(wanted, by_name, n=n, cutoff=0.6)
    close = close or difflib.get_close_matches(wanted.rpartition(".")[2], by_name, n=n, cutoff=0.6)
    found = list(dict.fromkeys(by_name[c] for c in close))
    if not found:
        found = [hit.full_name for hit in ctx.retriever.search(wanted.replace(".", " "), k=n)]
    return found[:n]


def get_record(ctx: AgentContext, table: str) -> TableRecord:
    try:
        record = ctx.store.get(table, with_partitions=False)
    except AmbiguousTable as exc:
        raise ToolError(str(exc)) from None
    if record is None:
        raise ToolError(f"no table named '{table}' in the catalog", did_you_mean=closest_tables(ctx, table))
    return record


def untrusted(record: TableRecord, columns: set[str] | None = None) -> dict[str, Any]:
    column_comments = {
        c.path: clip(c.comment) for c in record.columns if c.comment and (columns is None or c.path in columns)
    }
    values = {
        "comment": clip(record.comment),
        "owner": record.owner,
        "tags": record.tags,
        "column_comments": column_comments,
        "properties": {k: clip(v) for k, v in record.properties.items()},
        "view_sql": clip(record.view_sql),
    }
    return {k: v for k, v in values.items() if v}


def size_facts(record: TableRecord) -> dict[str, Any]:
    totals = record.totals
    return {
        "rows": totals.record_count,
        "files": totals.file_count,
        "bytes": totals.total_bytes,
        "size": human_bytes(totals.total_bytes),
        "partitions": totals.partition_count,
        "last_updated": iso(record.last_updated),
    }


# Partition periods ------------------------------------------------------------------------------------


def matches(stat: PartitionStat, wanted: str | None) -> bool:
    """A ``from..to`` range (either side may be open) overlaps the partition's time span; else a substring."""
    if not wanted:
        return True
    if ".." not in wanted:
        return wanted.lower() in partition_label(stat).lower()
    low, _, high = (part.strip() for part in wanted.partition(".."))
    span = stat.time_span()
    after, before = time_span(low), time_span(high)
    if span is None or (low and after is None) or (high and before is None):
        return False
    return (after is None or span.end > after.start) and (before is None or span.start < before.end)


def check_range(wanted: str | None) -> None:
    if wanted and ".." in wanted:
        low, _, high = (part.strip() for part in wanted.partition(".."))
        bad = [side for side in (low, high) if side and time_span(side) is None]
        if bad or not (low or high):
            raise ToolError(
                f"cannot read the range '{wanted}'",
                expected="'FROM..TO' with ISO dates or months, e.g. '2026-11-01..2026-11-07' or '2026-10..'",
            )


def partition_row(stat: PartitionStat) -> dict[str, Any]:
    row = {
        "partition": partition_label(stat),
        "rows": stat.record_count,
        "files": stat.file_count,
        "bytes": stat.total_bytes,
        "last_updated": iso(stat.last_updated),
    }
    return {k: v for k, v in row.items() if v is not None}


def newest_first(stats: list[PartitionStat]) -> list[PartitionStat]:
    spans = [s.time_span() for s in stats]
    if not any(spans):
        return stats
    order = sorted(range(len(stats)), key=lambda i: spans[i].start if spans[i] else datetime.min, reverse=True)
    return [stats[i] for i in order]


def total(stats: list[PartitionStat], field: str) -> int | None:
    values = [getattr(s, field) for s in stats if getattr(s, field) is not None]
    return sum(values) if values else None


# Tools --------------------------------------------------------------------------------------------------


@tool(response_format="content_and_artifact")
def search_tables(
    query: Annotated[str, Field(description="What the data is about, in words: 'refunds by region'.")],
    runtime: Runtime,
    namespace: Annotated[str | None, Field(description="Only tables in this namespace.")] = None,
    k: Annotated[int, Field(ge=1, le=20, description="How many tables to return.")] = 5,
) -> tuple[str, dict[str, Any]]:
    """Find the tables whose names, columns or descriptions match a topic; returns them best first."""
    ctx: AgentContext = runtime.context
    hits, candidates = [], []
    for hit in ctx.retriever.search(query, k=k, namespace=namespace):
        record = ctx.store.get(hit.key, with_partitions=False)
        if record is None:
            continue
        candidates.append(source(record))
        hits.append(
            {
                "table": record.full_name,
                "score": round(hit.score, 4),
                "matched_columns": hit.matched_columns[:MATCHED_COLUMNS],
                "partitioning": record.partition_spec.describe(),
                **size_facts(record),
                "snapshot_id": record.current_snapshot_id,
                "metadata_untrusted": {"comment": clip(record.comment)} if record.comment else {},
            }
        )
    payload: dict[str, Any] = {"query": query, "tables": hits, "candidates": candidates}
    if not hits:
        payload["note"] = "no table matched; try other words" + (" or drop the namespace filter" if namespace else "")
    return respond(payload, "tables")


@tool(response_format="content_and_artifact")
def describe_table(
    table: Annotated[str, Field(description="namespace.table (or catalog.namespace.table)")],
    runtime: Runtime,
    columns: Annotated[str | None, Field(description="Only columns whose name contains this text.")] = None,
) -> tuple[str, dict[str, Any]]:
    """Columns and types, partitioning, size, freshness, current snapshot, PII flags and metadata of a table."""
    record = get_record(runtime.context, table)
    shown = [c for c in record.columns if not columns or columns.lower() in c.path.lower()]
    paths = {c.path for c in shown}
    payload = {
        "table": record.full_name,
        "catalog": record.catalog,
        "kind": record.kind,
        "format": record.format,
        "snapshot_id": record.current_snapshot_id,
        "as_of": source(record)["as_of"],
        "partitioning": record.partition_spec.describe(),
        "partition_fields": [f.model_dump() for f in record.partition_spec.fields],
        "sort_order": record.sort_order,
        **size_facts(record),
        "identifier_fields": record.identifier_fields,
        "pii_columns": record.pii_columns,
        "columns": [
            {"name": c.path, "type": c.type}
            | ({"pii": True} if c.pii else {})
            | ({"partition_key": True} if c.is_partition_key else {})
            for c in shown
        ],
        "column_stats": {k: v for k, v in record.column_stats.items() if k in paths},
        "metadata_untrusted": untrusted(record, columns=paths),
        "sources": [source(record)],
    }
    payload = {k: v for k, v in payload.items() if v not in (None, [], {})}
    if shown:
        payload["columns"] = with_profiles(payload["columns"], shown, BUDGET - len(dumps(payload)))
    return respond(payload, "columns", "column_stats")


@tool(response_format="content_and_artifact")
def list_partitions(
    table: Annotated[str, Field(description="namespace.table")],
    runtime: Runtime,
    filter: Annotated[
        str | None,
        Field(description="A substring of 'field=value' ('2026-11', 'country=DE') or a date range 'FROM..TO'."),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=500, description="How many partitions to list, newest first.")] = 20,
) -> tuple[str, dict[str, Any]]:
    """Partitions of a table from the catalog's statistics: values, rows, files, bytes, last update; totals."""
    ctx: AgentContext = runtime.context
    check_range(filter)
    record = get_record(ctx, table)
    stored = ctx.store.partitions(record.key)
    matched = newest_first([s for s in stored if matches(s, filter)])
    starts = [span.start for s in stored if (span := s.time_span())]
    payload = {
        "table": record.full_name,
        "partitioning": record.partition_spec.describe(),
        "filter": filter,
        "total_partitions": record.totals.partition_count or len(stored),
        "first": iso(min(starts)) if starts else None,
        "latest": iso(max(starts)) if starts else None,
        "matched": len(matched),
        "matched_rows": total(matched, "record_count"),
        "matched_files": total(matched, "file_count"),
        "matched_bytes": total(matched, "total_bytes"),
        "matched_size": human_bytes(total(matched, "total_bytes")),
        "partitions": [partition_row(s) for s in matched[:limit]],
        "sources": [source(record)],
    }
    if len(matched) > limit:
        payload["note"] = f"showing the newest {limit} of {len(matched)} matching partitions; totals cover all"
    if len(stored) < (record.totals.partition_count or 0):
        payload["stored_partitions"] = len(stored)
    return respond({k: v for k, v in payload.items() if v is not None}, "partitions")


@tool(response_format="content_and_artifact")
def table_history(
    table: Annotated[str, Field(description="namespace.table")],
    runtime: Runtime,
    limit: Annotated[int, Field(ge=1, le=200, description="How many snapshots, newest first.")] = 20,
) -> tuple[str, dict[str, Any]]:
    """Snapshots (time, operation, row and file counts), operation counts over the whole history, and schema and
    partition-spec changes of a table."""
    record = get_record(runtime.context, table)
    snapshots = sorted(record.snapshots, key=lambda s: s.timestamp, reverse=True)
    payload = {
        "table": record.full_name,
        "current_snapshot_id": record.current_snapshot_id,
        "snapshot_count": len(snapshots),
        "operations": dict(Counter(s.operation or "unknown" for s in snapshots).most_common()),
        "snapshots": [
            {"snapshot_id": s.snapshot_id, "time": iso(s.timestamp), "operation": s.operation, "schema_id": s.schema_id}
            | {k: s.summary[k] for k in SUMMARY_KEYS if k in s.summary}
            for s in snapshots[:limit]
        ],
        "schema_changes": [
            {"schema_id": v.schema_id, "changes": v.changes} for v in record.schema_history if v.changes
        ],
        "partition_specs": [{"spec_id": s.spec_id, "spec": s.describe()} for s in record.partition_spec_history],
        "sources": [source(record)],
    }
    return respond(payload, "snapshots", "schema_changes")


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
    return respond(payload, "warnings")


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

    try:
        per_table = as_dict(estimate(sql, resolve))["tables"]
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
    return respond(payload, "rows")


TOOLS = [search_tables, describe_table, list_partitions, table_history, validate_sql, estimate_scan, run_sql]
