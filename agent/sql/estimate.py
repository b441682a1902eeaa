"""How much a query will read, before it runs: files and bytes per table after partition pruning.

From the partition statistics stored in the table records, so no catalog is asked at question time: exact
per partition for identity and time transforms; bucket/truncate fields are not pruned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlglot import exp

from agent.sql.guard import check_read_only
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


@dataclass
class Bounds:
    """The values a predicate lets through on one column: an interval, optionally narrowed to points."""

    low: Any = None
    low_inclusive: bool = True
    high: Any = None
    high_inclusive: bool = True
    points: list[Any] | None = None

    def narrow(self, operator: str, value: Any) -> None:
        if operator in (">", ">=") and (self.low is None or value > self.low or (value == self.low and operator == ">")):
            self.low, self.low_inclusive = value, operator == ">="
        elif operator in ("<", "<=") and (self.high is None or value < self.high or (value == self.high and operator == "<")):
            self.high, self.high_inclusive = value, operator == "<="
        elif operator == "=":
            self.narrow_points([value])

    def narrow_points(self, values: list[Any]) -> None:
        self.points = values if self.points is None else [v for v in self.points if v in values]

    def overlaps(self, start: Any, end: Any, end_inclusive: bool) -> bool:
        """Whether some value in the partition's range [start, end) (or [start, end]) passes."""
        if self.points is not None:
            return any(
                self.interval_overlaps(p, p, True) and start <= p and (p < end or (end_inclusive and p == end))
                for p in self.points
            )
        return self.interval_overlaps(start, end, end_inclusive)

    def interval_overlaps(self, start: Any, end: Any, end_inclusive: bool) -> bool:
        below_high = self.high is None or start < self.high or (self.high_inclusive and start == self.high)
        above_low = self.low is None or end > self.low or (end_inclusive and self.low_inclusive and end == self.low)
        return below_high and above_low


def estimate_scan(sql: str, records: RecordLookup) -> ScanEstimate:
    """Files and bytes each catalog table in ``sql`` will be read for. Raises UnsafeSQL like the guard."""
    qualified = qualify_against(check_read_only(sql), Catalog(records))
    estimate = ScanEstimate()
    by_table: dict[str, list[TableScan]] = {}
    for scan in qualified.scans():
        by_table.setdefault(scan.record.full_name, []).append(scan)
    for name, scans in by_table.items():
        estimate.tables[name] = stats_estimate(scans[0].record, scans)
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


COMPARISONS = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "="}
FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}


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


def comparisons(predicate: exp.Expression) -> list[tuple[exp.Column, str, list[Any]]]:
    """``column op literal`` facts in a predicate: =, <, <=, >, >=, BETWEEN, IN and CAST(col AS DATE) = d."""
    if isinstance(predicate, exp.Paren):
        return comparisons(predicate.this)
    if isinstance(predicate, exp.Between):
        low, high = literal_value(predicate.args["low"]), literal_value(predicate.args["high"])
        column = plain_column(predicate.this)
        if column is None or low is None or high is None:
            return []
        return [(column, ">=", [low]), (column, "<=", [high])]
    if isinstance(predicate, exp.In):
        column = plain_column(predicate.this)
        values = [literal_value(v) for v in predicate.expressions]
        if column is None or not values or any(v is None for v in values):
            return []
        return [(column, "in", values)]
    operator = COMPARISONS.get(type(predicate))
    if operator is None:
        return []
    left, right = predicate.this, predicate.expression
    if literal_value(left) is not None:
        left, right, operator = right, left, FLIPPED[operator]
    value = literal_value(right)
    if value is None:
        return []
    if isinstance(left, exp.Cast) and left.to.this == exp.DataType.Type.DATE and operator == "=":
        column = plain_column(left.this)
        return [(column, "day", [value])] if column is not None else []
    column = plain_column(left)
    return [(column, operator, [value])] if column is not None else []


def plain_column(node: exp.Expression) -> exp.Column | None:
    """The column itself, or a struct field access on it (``address.city``)."""
    while isinstance(node, exp.Dot):
        node = node.this
    return node if isinstance(node, exp.Column) else None


def literal_value(node: exp.Expression) -> Any:
    """A literal's text, seeing through typed literals (``DATE '2024-01-01'``, ``'..'::TIMESTAMP``)."""
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Literal):
        return node.this
    if isinstance(node, (exp.Date, exp.TsOrDsToDate)) and isinstance(node.this, exp.Literal):
        return node.this.this
    return None
