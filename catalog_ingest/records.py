"""The table record: everything a crawler learns about one table, stored exactly.

Crawlers produce records, the record store keeps them, documents are derived from them and the agent's
tools read them. Answers about counts, partitions and times come from these fields, never from embedded
text, so every number here is the catalog's own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

TableKind = Literal["iceberg", "hive", "view"]


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


class PartitionStat(BaseModel):
    """One partition, from Iceberg's ``partitions`` metadata table or from Glue's partitions."""

    values: dict[str, str | None]
    """Partition field name -> value as text (dates as ISO, hours as ISO hour, buckets as numbers)."""
    spec_id: int = 0
    record_count: int | None = None
    file_count: int | None = None
    total_bytes: int | None = None
    last_updated: datetime | None = None
    location: str | None = None


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
