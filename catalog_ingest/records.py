"""The table record: everything a crawler learns about one table, stored exactly.

Crawlers produce records, the record store keeps them, documents are derived from them and the agent's
tools read them. Answers about counts, partitions and times come from these fields, never from embedded
text, so every number here is the catalog's own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

TableKind = Literal["iceberg", "hive", "view"]


ProfileValue = str | int | float | bool
"""A bound as records keep it: integers and floats as numbers, decimals, dates and times as ISO-like text."""


class ValueCount(BaseModel):
    value: str
    count: int


class ColumnProfile(BaseModel):
    """What the current snapshot's data holds in one column: counts and bounds from the Iceberg manifests (no
    data read), and for a low-cardinality string column its values, read within a per-table byte budget.
    PII columns get counts only: no bounds, no values."""

    snapshot_id: int | None = None
    """The snapshot profiled; a new snapshot means a new profile."""
    value_count: int | None = None
    """Values in the data files, nulls included."""
    null_count: int | None = None
    min: ProfileValue | None = None
    max: ProfileValue | None = None
    bounds_truncated: bool = False
    """String bounds are cut to a prefix by the writer (16 characters by default): ``min``/``max`` then
    bound the values, but are not themselves values."""
    values: list[ValueCount] | None = None
    """Distinct non-null values, most frequent first; None when not profiled (not a string, PII, too many
    distinct values or no bytes left in the budget)."""
    values_sampled: bool = False
    """The values come from part of the data files (the byte budget ran out), so the list may miss some and
    the counts are of the rows read."""
    many_values: bool = False
    """More distinct values than ``ingest.profile_max_distinct`` in the rows read: not a low-cardinality column."""

    @property
    def values_complete(self) -> bool:
        """The values list is every value the column holds (all data files read)."""
        return self.values is not None and not self.values_sampled

    def holds(self, value: str) -> bool:
        return any(v.value == value for v in self.values or [])

    def describe(self, max_values: int = 5) -> str:
        """In words: ``12 nulls of 630; failed..success; values: success 610, failed 20``."""
        parts = []
        if self.null_count is not None and self.value_count is not None:
            parts.append(f"{self.null_count:,} nulls of {self.value_count:,}")
        if self.min is not None or self.max is not None:
            parts.append(f"{self.min}..{self.max}" + (" (bounds truncated)" if self.bounds_truncated else ""))
        if self.values:
            shown = ", ".join(f"{v.value} {v.count:,}" for v in self.values[:max_values])
            more = f", … ({len(self.values)} values)" if len(self.values) > max_values else ""
            parts.append(f"values{' (sampled)' if self.values_sampled else ''}: {shown}{more}")
        elif self.many_values:
            parts.append("many distinct values")
        return "; ".join(parts)


class Column(BaseModel):
    """One column, nested fields flattened to dotted paths (``address.city``, ``items.element.sku``)."""

    path: str
    type: str
    comment: str | None = None
    required: bool = False
    field_id: int | None = None
    pii: bool = False
    is_partition_key: bool = False
    """Hive-style partition key (Glue ``PartitionKeys``); Iceberg partitioning lives in the spec."""
    profile: ColumnProfile | None = None
    """Iceberg tables only (Glue/Hive tables keep the catalog's ``column_stats``)."""


class PartitionField(BaseModel):
    source_column: str
    transform: str
    """Iceberg transform as written in the spec: identity, day, month, hour, year, bucket[16], truncate[4]."""
    name: str


class PartitionSpec(BaseModel):
    spec_id: int
    fields: list[PartitionField] = Field(default_factory=list)

    @property
    def is_partitioned(self) -> bool:
        return bool(self.fields)

    def describe(self) -> str:
        """The spec in words, as an analyst would say it."""
        if not self.fields:
            return "not partitioned"
        return "partitioned by " + ", ".join(describe_partition_field(f) for f in self.fields)


def describe_partition_field(field: PartitionField) -> str:
    transform = field.transform
    if transform == "identity":
        return f"{field.source_column} (each value)"
    if transform in ("year", "month", "day", "hour"):
        return f"{transform} of {field.source_column}"
    if transform.startswith("bucket"):
        n = transform[transform.find("[") + 1 : transform.find("]")]
        return f"{field.source_column} hashed into {n} buckets"
    if transform.startswith("truncate"):
        n = transform[transform.find("[") + 1 : transform.find("]")]
        return f"{field.source_column} truncated to width {n}"
    return f"{transform}({field.source_column})"


class SnapshotInfo(BaseModel):
    snapshot_id: int
    parent_id: int | None = None
    timestamp: datetime
    operation: str | None = None
    """append, overwrite, delete or replace (Iceberg); Glue table versions use ``update``."""
    summary: dict[str, str] = Field(default_factory=dict)
    schema_id: int | None = None


class SchemaVersion(BaseModel):
    schema_id: int
    columns: list[str]
    """Top-level and nested column paths of this schema version."""
    changes: list[str] = Field(default_factory=list)
    """In words, against the previous version: ``added column x``, ``renamed a to b``, ``dropped y``."""


# Partition values as text -----------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1)
PERIOD_TEXT = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:[-T ](\d{2}))?")
"""The start of an ISO year, month, day or hour (``2026``, ``2026-11``, ``2026-11-01``, ``2026-11-01T13``);
anything after it (minutes, a zone) is ignored."""

PeriodKind = Literal["year", "month", "day", "hour"]


@dataclass(frozen=True)
class TimeSpan:
    """The time a partition value (or a date written the same way) covers: ``[start, end)``, naive UTC."""

    start: datetime
    end: datetime
    kind: PeriodKind

    def days(self) -> tuple[date, date]:
        """The first and the last day the span touches, both inclusive."""
        return self.start.date(), (self.end - timedelta(microseconds=1)).date()


def partition_value_text(transform: str, value: Any) -> str | None:
    """A partition value as records keep it: time transforms as ISO text (``2026-11-01``, ``2026-11``,
    ``2026-11-01T13``, ``2026``) from Iceberg's ordinals since 1970; dates and times as ISO; others as text.
    ``transform`` is the spec's own text (``day``, ``identity``, ``bucket[16]``)."""
    if value is None:
        return None
    if transform == "day" and not isinstance(value, date):
        return (EPOCH + timedelta(days=value)).date().isoformat()
    if transform == "month":
        return f"{1970 + value // 12:04d}-{value % 12 + 1:02d}"
    if transform == "hour":
        return (EPOCH + timedelta(hours=value)).strftime("%Y-%m-%dT%H")
    if transform == "year":
        return f"{1970 + value:04d}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def time_span(text: str | None) -> TimeSpan | None:
    """The span a partition value or a date covers, read back from its text: ``2026-11`` is all of November;
    None for text that does not start like an ISO year."""
    match = PERIOD_TEXT.match(text or "")
    if not match:
        return None
    year, month, day, hour = (int(g) if g else None for g in match.groups())
    if month is None:
        return TimeSpan(datetime(year, 1, 1), datetime(year + 1, 1, 1), "year")
    if day is None:
        return TimeSpan(datetime(year, month, 1), datetime(year + month // 12, month % 12 + 1, 1), "month")
    start = datetime(year, month, day, hour or 0)
    if hour is None:
        return TimeSpan(start, start + timedelta(days=1), "day")
    return TimeSpan(start, start + timedelta(hours=1), "hour")


class PartitionStat(BaseModel):
    """One partition, from Iceberg's ``partitions`` metadata table or from Glue's partitions."""

    values: dict[str, str | None]
    """Partition field name -> value as text, written by ``partition_value_text`` (dates as ISO, hours as
    ISO hour, buckets as numbers)."""
    spec_id: int = 0
    record_count: int | None = None
    file_count: int | None = None
    total_bytes: int | None = None
    last_updated: datetime | None = None
    location: str | None = None

    def time_span(self, fields: Collection[str] | None = None) -> TimeSpan | None:
        """The span of the first value that reads as a time (a day, month or hour partition), among the values
        of ``fields`` when given (``time_fields``: a truncated ``2100`` account code is no year)."""
        values = [v for k, v in self.values.items() if fields is None or k in fields]
        return next((span for value in values if (span := time_span(value))), None)


VALUE_TRANSFORMS = ("bucket", "truncate", "void")
"""Transforms whose values are hashes or prefixes of the source value, never a period, whatever they look like."""


def time_fields(specs: Iterable[PartitionSpec]) -> set[str]:
    """The partition fields of these specs whose values may be periods: time transforms and identities (a
    Hive ``dt=2026-11-01`` is an identity of a string); not buckets or truncations."""
    return {f.name for spec in specs for f in spec.fields if not f.transform.startswith(VALUE_TRANSFORMS)}


class TableTotals(BaseModel):
    record_count: int | None = None
    file_count: int | None = None
    total_bytes: int | None = None
    partition_count: int | None = None


class TableRecord(BaseModel):
    catalog: str
    namespace: str
    name: str
    kind: TableKind = "iceberg"
    format: str | None = None
    """File format of the data: parquet, orc, avro, csv, json."""
    location: str | None = None
    metadata_location: str | None = None
    comment: str | None = None
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)
    properties: dict[str, str] = Field(default_factory=dict)
    columns: list[Column] = Field(default_factory=list)
    identifier_fields: list[str] = Field(default_factory=list)
    partition_spec: PartitionSpec = Field(default_factory=lambda: PartitionSpec(spec_id=0))
    partition_spec_history: list[PartitionSpec] = Field(default_factory=list)
    sort_order: str | None = None
    """In words: ``event_time ascending, user_id ascending``; None when unsorted."""
    current_snapshot_id: int | None = None
    snapshots: list[SnapshotInfo] = Field(default_factory=list)
    schema_history: list[SchemaVersion] = Field(default_factory=list)
    partitions: list[PartitionStat] = Field(default_factory=list)
    totals: TableTotals = Field(default_factory=TableTotals)
    last_updated: datetime | None = None
    view_sql: str | None = None
    column_stats: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Glue column statistics where the catalog has them: column -> {nulls, distinct, min, max, ...}."""
    source_version: str | None = None
    """What the catalog says changes on every write: Iceberg metadata location, Glue update time + version."""

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def key(self) -> str:
        """Unique across catalogs: ``catalog.namespace.table``."""
        return f"{self.catalog}.{self.namespace}.{self.name}"

    @property
    def pii_columns(self) -> list[str]:
        return [c.path for c in self.columns if c.pii]

    def fingerprint(self) -> str:
        """Changes whenever anything a user could ask about changes: schema, stats, snapshot, properties."""
        payload = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


# Table families -------------------------------------------------------------------------------------


class FamilyMember(BaseModel):
    name: str
    """The member table's own name (``events_20240101``)."""
    suffix: str
    record_count: int | None = None
    total_bytes: int | None = None
    file_count: int | None = None
    last_updated: datetime | None = None


class SchemaDifference(BaseModel):
    member: str
    added: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


class FamilyRecord(BaseModel):
    """Tables that differ only by a date or number suffix, kept and indexed as one (``catalog_ingest.families``
    finds them): the members stay in the store as tables, the family is what search returns."""

    catalog: str
    namespace: str
    name: str
    """The stem with the pattern in place of the suffix: ``events_YYYYMMDD``."""
    pattern: str
    period: Literal["hour", "day", "month", "number"]
    members: list[FamilyMember]
    """In suffix order."""
    representative: str
    """The newest member with the family's schema: its columns, layout and comment describe the family."""
    schema_differences: list[SchemaDifference] = Field(default_factory=list)
    totals: TableTotals = Field(default_factory=TableTotals)
    last_updated: datetime | None = None
    version: str
    """Changes when any member's record changes, or members come and go."""

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def key(self) -> str:
        return f"{self.catalog}.{self.namespace}.{self.name}"

    def member_key(self, member: str) -> str:
        return f"{self.catalog}.{self.namespace}.{member}"

    def describe_range(self) -> str:
        """``61 tables events_20240101 .. events_20240301, one per day``."""
        each = {"hour": "one per hour", "day": "one per day", "month": "one per month", "number": "numbered"}
        first, last = self.members[0].name, self.members[-1].name
        return f"{len(self.members):,} tables {first} .. {last}, {each[self.period]}"
