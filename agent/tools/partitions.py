"""Tools over a table's layout in time: its partitions (filtered by value or date range) and its snapshot history."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any

from langchain_core.tools import tool
from pydantic import Field

from agent.context import AgentContext
from agent.tools import families
from agent.tools.common import Runtime, ToolError, get_record, iso, respond, source
from catalog_ingest.records import FamilyRecord, PartitionStat, time_fields, time_span
from catalog_ingest.sizes import human_bytes
from catalog_ingest.store import partition_label

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


# Partition periods ------------------------------------------------------------------------------------


def matches(stat: PartitionStat, wanted: str | None, fields: set[str] | None = None) -> bool:
    """A ``from..to`` range (either side may be open) overlaps the partition's time span (of its ``fields``
    that may be periods); else a substring."""
    if not wanted:
        return True
    if ".." not in wanted:
        return wanted.lower() in partition_label(stat).lower()
    low, _, high = (part.strip() for part in wanted.partition(".."))
    span = stat.time_span(fields)
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


def newest_first(stats: list[PartitionStat], fields: set[str] | None = None) -> list[PartitionStat]:
    spans = [s.time_span(fields) for s in stats]
    if not any(spans):
        return stats
    order = sorted(range(len(stats)), key=lambda i: spans[i].start if spans[i] else datetime.min, reverse=True)
    return [stats[i] for i in order]


def total(stats: list[PartitionStat], field: str) -> int | None:
    values = [getattr(s, field) for s in stats if getattr(s, field) is not None]
    return sum(values) if values else None


# Tools --------------------------------------------------------------------------------------------------


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
    """Partitions of a table from the catalog's statistics: values, rows, files, bytes, last update; totals. For a
    family of date-sharded tables (events_YYYYMMDD) its members are the partitions."""
    ctx: AgentContext = runtime.context
    check_range(filter)
    if family := ctx.store.family(table):
        return family_partitions(ctx, family, filter, limit)
    record = get_record(ctx, table)
    stored = ctx.store.partitions(record.key)
    periods = time_fields([record.partition_spec, *record.partition_spec_history])
    matched = newest_first([s for s in stored if matches(s, filter, periods)], periods)
    starts = [span.start for s in stored if (span := s.time_span(periods))]
    payload = {
        "table": record.full_name,
        "partitioning": record.partition_spec.describe(),
        "partitioned_by_time": bool(starts) if stored and record.partition_spec.is_partitioned else None,
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
        "family": families.membership(ctx.store, record),
        "sources": [source(record)],
    }
    if len(matched) > limit:
        payload["note"] = f"showing the newest {limit} of {len(matched)} matching partitions; totals cover all"
    if len(stored) < (record.totals.partition_count or 0):
        payload["stored_partitions"] = len(stored)
    return respond({k: v for k, v in payload.items() if v is not None}, "partitions")


def family_partitions(ctx: AgentContext, family: FamilyRecord, wanted: str | None, limit: int) -> tuple[str, dict[str, Any]]:
    """A family's members as its partitions, filtered like partitions (``2024-01``, ``2024-01-01..2024-01-07``)."""
    by_member = families.member_partitions(family)
    matched = newest_first([stat for _, stat in by_member if matches(stat, wanted)])
    member_of = {id(stat): member for member, stat in by_member}
    representative = families.representative_of(ctx.store, family)
    payload = {
        "table": family.full_name,
        "partitioning": f"one table per {family.period} ({family.pattern})",
        "filter": wanted,
        "total_partitions": len(family.members),
        "first": families.member_name(family, family.members[0]),
        "latest": families.member_name(family, family.members[-1]),
        "matched": len(matched),
        "matched_rows": total(matched, "record_count"),
        "matched_files": total(matched, "file_count"),
        "matched_bytes": total(matched, "total_bytes"),
        "matched_size": human_bytes(total(matched, "total_bytes")),
        "partitions": [{"table": families.member_name(family, member_of[id(s)])} | partition_row(s) for s in matched[:limit]],
        "sql": families.wildcard_note(family, ctx.settings.sql.engine),
        "sources": [families.family_source(family, representative)] if representative else [],
    }
    if len(matched) > limit:
        payload["note"] = f"showing the newest {limit} of {len(matched)} matching members; totals cover all"
    return respond({k: v for k, v in payload.items() if v is not None}, "partitions")


@tool(response_format="content_and_artifact")
def table_history(
    table: Annotated[str, Field(description="namespace.table")],
    runtime: Runtime,
    limit: Annotated[int, Field(ge=1, le=200, description="How many snapshots, newest first.")] = 20,
) -> tuple[str, dict[str, Any]]:
    """Snapshots (time, operation, row and file counts), operation counts over the whole history, and schema and
    partition-spec changes of a table; for a family of date-sharded tables, its newest members and schema
    differences."""
    ctx: AgentContext = runtime.context
    family = ctx.store.family(table)
    if family and (representative := families.representative_of(ctx.store, family)):
        return respond(families.family_history(family, representative, limit), "newest_members")
    record = get_record(ctx, table)
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
    if member_of := families.membership(ctx.store, record):
        payload["family"] = member_of
    return respond(payload, "snapshots", "schema_changes")
