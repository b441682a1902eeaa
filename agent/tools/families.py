"""Table families as the tools show them: one family in place of its members (``events_YYYYMMDD``: pattern,
member range, totals, schema differences), members as the family's partitions, and a member's family.

A family is found by its own name; a member stays a table of its own, whose description says which family it
belongs to. The payloads say how SQL reads the family (``agent.sql.family_tables``): with DuckDB as one table,
``web.events_*`` or ``web.events_YYYYMMDD`` with ``_table_suffix``; Athena has no wildcard table, so members.
"""

from __future__ import annotations

from typing import Any

from agent.tools.common import iso, source
from catalog_ingest.families import SUFFIX_COLUMN, suffix_moment
from catalog_ingest.records import FamilyMember, FamilyRecord, PartitionStat, TableRecord
from catalog_ingest.sizes import human_bytes
from catalog_ingest.store import RecordStore

MEMBERS_SHOWN = 10
"""Members listed (newest first) where a family is described; list_partitions pages through all of them."""
PERIOD_FORMATS = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m"}


def wildcard_note(family: FamilyRecord, engine: str) -> str:
    """How SQL on ``engine`` (``sql.engine``) reads the family."""
    newest = f"{family.namespace}.{family.members[-1].name}"
    if engine == "athena":
        return (f"{family.full_name} is a family of tables, and Athena has no wildcard tables: SQL names a member "
                f"({newest}); to read several, UNION ALL one SELECT per member listing the same columns")  # fmt: skip
    first, last = family.members[0].suffix, family.members[-1].suffix
    stem = family.name[: -len(family.pattern)]
    return (f"SQL reads the family as one table, {family.namespace}.{stem}* (or {family.full_name}), with a column "
            f"{SUFFIX_COLUMN} holding each row's member suffix ('{first}' .. '{last}'): WHERE {SUFFIX_COLUMN} BETWEEN "
            f"'{first}' AND '{last}' reads only the members it selects; a column a member lacks is NULL there")  # fmt: skip


def member_name(family: FamilyRecord, member: FamilyMember) -> str:
    return f"{family.namespace}.{member.name}"


def family_facts(family: FamilyRecord) -> dict[str, Any]:
    """What makes it a family: pattern, how many members, the first and the last, schema differences."""
    facts: dict[str, Any] = {
        "family": family.full_name,
        "pattern": family.pattern,
        "members": len(family.members),
        "first_member": member_name(family, family.members[0]),
        "last_member": member_name(family, family.members[-1]),
        "range": family.describe_range(),
    }
    if family.schema_differences:
        facts["schema_differences"] = [
            {"member": f"{family.namespace}.{d.member}"} | ({"adds": d.added} if d.added else {})
            | ({"lacks": d.missing} if d.missing else {})
            for d in family.schema_differences
        ]  # fmt: skip
    return facts


def family_size(family: FamilyRecord) -> dict[str, Any]:
    totals = family.totals
    return {"rows": totals.record_count, "files": totals.file_count, "bytes": totals.total_bytes,
            "size": human_bytes(totals.total_bytes), "last_updated": iso(family.last_updated)}  # fmt: skip


def family_source(family: FamilyRecord, representative: TableRecord) -> dict[str, Any]:
    """The representative member's source (table, snapshot, as-of), naming the family it stands for."""
    return source(representative) | {"family": family.full_name}


def representative_of(store: RecordStore, family: FamilyRecord) -> TableRecord | None:
    return store.get(family.member_key(family.representative), with_partitions=False)


def member_rows(family: FamilyRecord, limit: int = MEMBERS_SHOWN) -> list[dict[str, Any]]:
    """The newest members with their sizes."""
    return [
        {k: v for k, v in {"table": member_name(family, m), "rows": m.record_count, "bytes": m.total_bytes,
                           "last_updated": iso(m.last_updated)}.items() if v is not None}  # fmt: skip
        for m in reversed(family.members[-limit:])
    ]


def search_hit(family: FamilyRecord, representative: TableRecord, score: float, matched: list[str]) -> dict[str, Any]:
    return {
        "table": family.full_name,
        "score": round(score, 4),
        "matched_columns": matched,
        "family": family.describe_range(),
        "first_member": member_name(family, family.members[0]),
        "last_member": member_name(family, family.members[-1]),
        "partitioning": representative.partition_spec.describe(),
        **family_size(family),
        "snapshot_id": representative.current_snapshot_id,
    }


def family_description(family: FamilyRecord, representative: TableRecord, engine: str) -> dict[str, Any]:
    """describe_table of a family: the family's facts and totals, then the representative member's layout (the
    caller adds its columns); ``sql`` says how SQL on ``engine`` reads it."""
    return {
        "table": family.full_name,
        "catalog": family.catalog,
        "kind": "family",
        **family_facts(family),
        "columns_from": f"{family.namespace}.{family.representative}",
        "format": representative.format,
        "partitioning": representative.partition_spec.describe(),
        **family_size(family),
        "newest_members": member_rows(family),
        "sql": wildcard_note(family, engine),
        "sources": [family_source(family, representative)],
    }


def membership(store: RecordStore, record: TableRecord) -> dict[str, Any] | None:
    """For a member table: its family in a few facts (None for a table in no family)."""
    family = store.family_of(record.key)
    if family is None:
        return None
    position = next(i for i, m in enumerate(family.members) if m.name == record.name)
    return {"name": family.full_name, "range": family.describe_range(), "member": f"{position + 1} of {len(family.members)}"}


def member_partitions(family: FamilyRecord) -> list[tuple[FamilyMember, PartitionStat]]:
    """Each member as one partition of the family, valued by its suffix (``day=2024-01-05``, ``number=7``), so
    value and date-range filters read members like partitions."""
    fmt = PERIOD_FORMATS.get(family.period)
    stats = []
    for m in family.members:
        value = m.suffix if fmt is None else suffix_moment(m.suffix).strftime(fmt)
        stats.append((m, PartitionStat(values={family.period: value}, record_count=m.record_count,
                                       file_count=m.file_count, total_bytes=m.total_bytes, last_updated=m.last_updated)))  # fmt: skip
    return stats


def family_history(family: FamilyRecord, representative: TableRecord, limit: int) -> dict[str, Any]:
    """table_history of a family: when members arrived and were last written (newest first), schema
    differences, and the representative member's own snapshot count."""
    return {
        "table": family.full_name,
        **family_facts(family),
        "newest_members": member_rows(family, limit),
        "representative": f"{family.namespace}.{family.representative}",
        "representative_snapshots": len(representative.snapshots),
        "note": "each member has its own snapshots: ask table_history for a member by name",
        "sources": [family_source(family, representative)],
    }
