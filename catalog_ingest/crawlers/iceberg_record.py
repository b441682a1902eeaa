"""The table record of an Iceberg table, built from its pyiceberg metadata, for every crawler that meets one.

Schemas, specs, sort order and snapshots come from the table metadata, partitions from the ``partitions``
metadata table, so every count is Iceberg's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from pyiceberg.partitioning import PartitionSpec as IcebergPartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.sorting import NullOrder, SortDirection, SortOrder
from pyiceberg.transforms import VoidTransform
from pyiceberg.types import IcebergType, ListType, MapType, NestedField, StructType

from catalog_ingest.crawlers.common import PII_PROPERTY, is_pii, most_recent, schema_history, split_list
from catalog_ingest.crawlers.profiles import ProfileLimits, profiled_columns
from catalog_ingest.records import (
    Column,
    PartitionField,
    PartitionSpec,
    PartitionStat,
    SnapshotInfo,
    TableRecord,
    TableTotals,
    partition_value_text,
)


def iceberg_record(
    catalog: str,
    namespace: str,
    name: str,
    table: Table,
    max_partitions: int,
    profile_limits: ProfileLimits | None = None,
    previous: TableRecord | None = None,
) -> TableRecord:
    """The record of ``table``; its columns' profiles are kept from ``previous`` (the stored record) when the
    snapshot is the same, else computed within ``profile_limits`` (the defaults when None)."""
    metadata = table.metadata
    properties = dict(table.properties)
    schema = table.schema()
    current = table.current_snapshot()
    partitions, partition_count = partition_stats(table, max_partitions)
    columns = flatten_schema(schema, pii_paths=split_list(properties.get(PII_PROPERTY)))  # also its history's
    return TableRecord(
        catalog=catalog,
        namespace=namespace,
        name=name,
        kind="iceberg",
        format=properties.get("write.format.default", "parquet").lower(),
        location=table.location(),
        metadata_location=table.metadata_location,
        comment=properties.get("comment"),
        owner=properties.get("owner"),
        tags=split_list(properties.get("tags")),
        properties=properties,
        columns=profiled_columns(table, columns, profile_limits or ProfileLimits(), previous),
        identifier_fields=[schema.find_column_name(i) or str(i) for i in schema.identifier_field_ids],
        partition_spec=partition_spec(table.spec(), metadata.schemas),
        partition_spec_history=[partition_spec(spec, metadata.schemas) for spec in metadata.partition_specs],
        sort_order=describe_sort_order(table.sort_order(), schema),
        current_snapshot_id=current.snapshot_id if current else None,
        snapshots=[snapshot_info(s) for s in sorted(metadata.snapshots, key=lambda s: s.timestamp_ms)],
        schema_history=schema_history([(s.schema_id, columns if s.schema_id == schema.schema_id else flatten_schema(s))
                                       for s in metadata.schemas]),  # fmt: skip
        partitions=partitions,
        totals=totals(current, partition_count),
        last_updated=from_millis(current.timestamp_ms if current else metadata.last_updated_ms),
        source_version=table.metadata_location,
    )


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def flatten_schema(schema: Schema, pii_paths: Iterable[str] = ()) -> list[Column]:
    pii_paths = list(pii_paths)
    return [
        Column(
            path=path,
            type=type_text(field.field_type),
            comment=field.doc,
            required=field.required,
            field_id=field.field_id,
            pii=bool(pii_paths) and is_pii(path, pii_paths),
        )
        for path, field in walk_fields(schema.fields, prefix="")
    ]


def walk_fields(fields: Iterable[NestedField], prefix: str) -> Iterator[tuple[str, NestedField]]:
    """Depth first; list elements and map keys/values appear as ``element``, ``key``, ``value``."""
    for field in fields:
        path = prefix + field.name
        yield path, field
        yield from walk_fields(child_fields(field.field_type), prefix=path + ".")


def child_fields(field_type: IcebergType) -> list[NestedField]:
    if isinstance(field_type, StructType):
        return list(field_type.fields)
    if isinstance(field_type, ListType):
        return [field_type.element_field]
    if isinstance(field_type, MapType):
        return [field_type.key_field, field_type.value_field]
    return []


def type_text(field_type: IcebergType) -> str:
    """Short type names: nested children are columns of their own, so a struct is just ``struct``."""
    if isinstance(field_type, StructType):
        return "struct"
    if isinstance(field_type, ListType):
        return f"list<{type_text(field_type.element_type)}>"
    if isinstance(field_type, MapType):
        return f"map<{type_text(field_type.key_type)}, {type_text(field_type.value_type)}>"
    return str(field_type)


def column_name(field_id: int, schemas: list[Schema]) -> str:
    """A spec or sort field's source column, looked up newest schema first (it may have been dropped)."""
    for schema in reversed(schemas):
        if (name := schema.find_column_name(field_id)) is not None:
            return name
    return f"field {field_id}"


def partition_spec(spec: IcebergPartitionSpec, schemas: list[Schema]) -> PartitionSpec:
    return PartitionSpec(
        spec_id=spec.spec_id,
        fields=[
            PartitionField(source_column=column_name(f.source_id, schemas), transform=str(f.transform), name=f.name)
            for f in spec.fields
            if not isinstance(f.transform, VoidTransform)
        ],
    )


def describe_sort_order(order: SortOrder, schema: Schema) -> str | None:
    words = []
    for field in order.fields:
        column = column_name(field.source_id, [schema])
        target = column if str(field.transform) == "identity" else f"{field.transform} of {column}"
        ascending = field.direction == SortDirection.ASC
        default_nulls = NullOrder.NULLS_FIRST if ascending else NullOrder.NULLS_LAST
        nulls = "" if field.null_order == default_nulls else " " + field.null_order.value.replace("-", " ")
        words.append(f"{target} {'ascending' if ascending else 'descending'}{nulls}")
    return ", ".join(words) or None


def snapshot_info(snapshot: Snapshot) -> SnapshotInfo:
    summary = snapshot.summary.model_dump() if snapshot.summary else {}
    return SnapshotInfo(
        snapshot_id=snapshot.snapshot_id,
        parent_id=snapshot.parent_snapshot_id,
        timestamp=from_millis(snapshot.timestamp_ms),
        operation=summary.pop("operation", None),
        summary={k: str(v) for k, v in summary.items()},
        schema_id=snapshot.schema_id,
    )


def partition_stats(table: Table, max_partitions: int) -> tuple[list[PartitionStat], int]:
    """The most recently updated partitions (at most ``max_partitions``) and how many there are in all."""
    if table.current_snapshot() is None:
        return [], 0
    rows = table.inspect.partitions().to_pylist()
    if rows and "partition" not in rows[0]:  # unpartitioned: one row for the whole table
        return [], 0
    specs = table.specs()
    stats = [partition_stat(row, specs[row["spec_id"]]) for row in rows]
    return most_recent(stats, max_partitions), len(stats)


def partition_stat(row: dict[str, Any], spec: IcebergPartitionSpec) -> PartitionStat:
    updated = row.get("last_updated_at")
    return PartitionStat(
        values={
            f.name: partition_value_text(str(f.transform), row["partition"].get(f.name))
            for f in spec.fields
            if not isinstance(f.transform, VoidTransform)
        },
        spec_id=spec.spec_id,
        record_count=row["record_count"],
        file_count=row["file_count"],
        total_bytes=row["total_data_file_size_in_bytes"],
        last_updated=updated.replace(tzinfo=timezone.utc) if updated else None,
    )


def totals(current: Snapshot | None, partition_count: int) -> TableTotals:
    """Totals as the current snapshot's summary states them; an empty table has none of anything."""
    if current is None:
        return TableTotals(record_count=0, file_count=0, total_bytes=0, partition_count=0)
    summary = current.summary

    def summary_int(key: str) -> int | None:
        value = summary[key] if summary is not None else None
        return int(value) if value is not None else None

    return TableTotals(
        record_count=summary_int("total-records"),
        file_count=summary_int("total-data-files"),
        total_bytes=summary_int("total-files-size"),
        partition_count=partition_count,
    )
