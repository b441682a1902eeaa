"""How much a query will read, before it runs: files and bytes per table after partition pruning.

From the partition statistics stored in the table records, so no catalog is asked at question time: exact
per partition for identity and time transforms; bucket/truncate fields are not pruned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlglot import exp

from agent.sql.guard import check_read_only
from agent.sql.predicates import Bounds, comparisons
from agent.sql.validate import Catalog, RecordLookup, TableScan, column_path, qualify_against
from catalog_ingest.records import PartitionField, PartitionStat, TableRecord, time_span

TIME_TRANSFORMS = ("year", "month", "day", "hour")
TEMPORAL_TYPES = ("date", "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns")


@dataclass
class TableEstimate:
    files: int | None
    bytes: int | None
    partitions_matched: int | None
    total_files: int | None
    total_bytes: int | None
    pruned: bool
    """True when the filters exclude part of the table."""
    method: str
    """``partition-stats``, or ``totals`` (no usable filter or no partition statistics)."""


@dataclass
class ScanEstimate:
    tables: dict[str, TableEstimate] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(t.bytes or 0 for t in self.tables.values())

    @property
    def files(self) -> int:
        return sum(t.files or 0 for t in self.tables.values())


def estimate_scan(sql: str, records: RecordLookup, family_records: Iterable[TableRecord] | None = None) -> ScanEstimate:
    """Files and bytes each catalog table in ``sql`` will be read for. Raises UnsafeSQL like the guard.

    A family's name (``web.events_*``) counts the members its ``_table_suffix`` filter selects, each by its own
    statistics (looked up in ``records``, so with their partitions) under the query's other filters; the
    families are found among ``family_records`` (``records`` themselves when they are not a lookup function).
    """
    catalog = Catalog(records, family_records)
    parsed = check_read_only(sql, families=catalog.families)
    qualified = qualify_against(parsed, catalog)
    estimate = ScanEstimate()
    by_table: dict[str, list[TableScan]] = {}
    for scan in qualified.scans():
        by_table.setdefault(scan.record.full_name, []).append(scan)
    members: dict[str, list[TableScan]] = {}
    member_records: dict[str, TableRecord] = {}
    for family in parsed.families:
        for member in family.members:
            members.setdefault(member.full_name, []).extend(by_table.get(family.name, []))
            member_records[member.full_name] = catalog.get(member.full_name) or member
    for name in {family.name for family in parsed.families}:
        by_table.pop(name, None)
    for name, scans in members.items():
        by_table.setdefault(name, []).extend(scans)
    for name, scans in by_table.items():
        record = member_records.get(name) or scans[0].record
        estimate.tables[name] = stats_estimate(record, scans)
    return estimate


def stats_estimate(record: TableRecord, scans: list[TableScan]) -> TableEstimate:
    totals = record.totals
    complete = record.partitions and len(record.partitions) >= (totals.partition_count or 0)
    per_scan_bounds = [column_bounds(scan, record) for scan in scans]
    if not record.partition_spec.is_partitioned or not complete or not any(per_scan_bounds):
        return TableEstimate(
            files=totals.file_count,
            bytes=totals.total_bytes,
            partitions_matched=totals.partition_count,
            total_files=totals.file_count,
            total_bytes=totals.total_bytes,
            pruned=False,
            method="totals",
        )
    fields_by_spec = {s.spec_id: s.fields for s in [*record.partition_spec_history, record.partition_spec]}
    column_types = {c.path.lower(): c.type for c in record.columns}
    matched = [
        stat
        for stat in record.partitions
        if any(
            partition_matches(stat, fields_by_spec.get(stat.spec_id, []), bounds, column_types)
            for bounds in per_scan_bounds
        )
    ]
    files = sum(s.file_count or 0 for s in matched)
    size = sum(s.total_bytes or 0 for s in matched)
    return TableEstimate(
        files=files,
        bytes=size,
        partitions_matched=len(matched),
        total_files=totals.file_count,
        total_bytes=totals.total_bytes,
        pruned=len(matched) < len(record.partitions),
        method="partition-stats",
    )


def partition_matches(
    stat: PartitionStat, fields: list[PartitionField], bounds: dict[str, Bounds], column_types: dict[str, str]
) -> bool:
    for partition_field in fields:
        column = partition_field.source_column.lower()
        if column not in bounds or partition_field.name not in stat.values:
            continue
        value_range = partition_range(partition_field.transform, stat.values[partition_field.name], column_types.get(column, ""))
        if value_range is not None and not bounds[column].overlaps(*value_range):
            return False
    return True


def partition_range(transform: str, text: str | None, column_type: str) -> tuple[Any, Any, bool] | None:
    """The source-column values one partition holds; None when the transform cannot be reasoned about."""
    if text is None:
        return None
    if transform in TIME_TRANSFORMS:
        span = time_span(text)
        return (span.start, span.end, False) if span is not None else None
    if transform == "identity":
        value = typed_value(text, column_type)
        if value is None:
            return None
        if column_type == "date":
            return value, value + timedelta(days=1), False
        return value, value, True
    return None


def typed_value(value: Any, column_type: str) -> Any:
    """A literal as a comparable Python value for the column's type: datetime, number or text."""
    text = str(value).strip()
    try:
        if column_type.startswith(TEMPORAL_TYPES):
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1) if len(text) > 10 else text)
            return parsed.replace(tzinfo=None)
        if column_type in ("int", "long") or column_type.startswith("decimal") or column_type in ("float", "double"):
            return float(text)
    except ValueError:
        return None
    return text


def column_bounds(scan: TableScan, record: TableRecord) -> dict[str, Bounds]:
    """Bounds per partition source column from the scan's AND-ed predicates; unrecognised ones are ignored."""
    sources = {f.source_column.lower() for f in record.partition_spec.fields}
    column_types = {c.path.lower(): c.type for c in record.columns}
    bounds: dict[str, Bounds] = {}
    for predicate in scan.predicates:
        for column, operator, values in comparisons(predicate):
            name = column_path(column).lower()
            if name not in sources:
                continue
            column_type = column_types.get(name, "")
            typed = [typed_value(v, column_type) for v in values]
            if any(v is None for v in typed):
                continue
            target = bounds.setdefault(name, Bounds())
            if operator == "in":
                target.narrow_points(typed)
            elif operator == "day":  # CAST(ts AS DATE) = 'd': the whole day
                target.narrow(">=", typed[0])
                target.narrow("<", typed[0] + timedelta(days=1))
            else:
                target.narrow(operator, typed[0])
    return bounds
