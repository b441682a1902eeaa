"""Glue's table descriptions (GetTable, GetPartitions, GetTableVersions output) as table records.

Hive-style tables and views are read whole from Glue; for Iceberg tables Glue adds what only it knows
(its version, column flags) to the record pyiceberg builds.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from datetime import timezone
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError

from catalog_ingest.crawlers.common import PII_PROPERTY, describe_schema_changes, is_pii, most_recent, split_list
from catalog_ingest.records import (
    Column,
    PartitionField,
    PartitionSpec,
    PartitionStat,
    SchemaVersion,
    SnapshotInfo,
    TableRecord,
    TableTotals,
)

RECORD_COUNT_KEYS = ("recordCount", "numRows")
BYTES_KEYS = ("totalSize", "sizeKey", "rawDataSize")
FILE_COUNT_KEYS = ("numFiles",)
PII_COLUMN_PARAMETERS = ("lakescout.pii", "pii")
"""A Glue column whose Parameters set one of these to true/yes/1 is PII (with all its nested fields)."""

FORMAT_HINTS = (
    ("parquet", "parquet"),
    ("orc", "orc"),
    ("avro", "avro"),
    ("json", "json"),
    ("csv", "csv"),
    ("textinputformat", "csv"),
)
"""Substrings of InputFormat / SerDe class names, in the order they are tried, and the format they mean."""

PRESTO_VIEW = re.compile(r"/\*\s*(?:Presto|Trino) View:\s*(\S+)\s*\*/")


def glue_version(table: dict[str, Any]) -> str:
    changed = table.get("UpdateTime") or table.get("CreateTime")
    stamp = changed.astimezone(timezone.utc).isoformat() if changed else ""
    return f"{stamp}|{table.get('VersionId', '')}"


def version_number(version_id: str | None) -> int:
    return int(version_id) if version_id and version_id.isdigit() else 0


def is_iceberg(table: dict[str, Any]) -> bool:
    return table.get("Parameters", {}).get("table_type", "").lower() == "iceberg"


def all_glue_columns(table: dict[str, Any]) -> list[dict[str, Any]]:
    return table.get("StorageDescriptor", {}).get("Columns", []) + table.get("PartitionKeys", [])


def pii_flagged_columns(table: dict[str, Any]) -> list[str]:
    def flagged(column: dict[str, Any]) -> bool:
        parameters = column.get("Parameters", {})
        return any(parameters.get(key, "").lower() in ("true", "yes", "1") for key in PII_COLUMN_PARAMETERS)

    return [column["Name"] for column in all_glue_columns(table) if flagged(column)]


def with_glue_facts(record: TableRecord, table: dict[str, Any]) -> TableRecord:
    """An Iceberg table's record (read by pyiceberg) with what only Glue knows: its version, owner, column flags."""
    glue_pii = pii_flagged_columns(table)
    return record.model_copy(
        update={
            "columns": [c.model_copy(update={"pii": c.pii or is_pii(c.path, glue_pii)}) for c in record.columns],
            "owner": record.owner or table.get("Owner"),
            "comment": record.comment or table.get("Description"),
            "source_version": glue_version(table),
        }
    )


# --- Hive-style tables and views ---------------------------------------------------------------------


def hive_record(
    catalog: str,
    table: dict[str, Any],
    *,
    partitions: list[dict[str, Any]],
    versions: list[dict[str, Any]],
    max_partitions: int,
) -> TableRecord:
    parameters = dict(table.get("Parameters", {}))
    storage = table.get("StorageDescriptor", {})
    is_view = table.get("TableType") == "VIRTUAL_VIEW"
    partition_keys = [key["Name"] for key in table.get("PartitionKeys", [])]
    spec = PartitionSpec(
        spec_id=0,
        fields=[PartitionField(source_column=key, transform="identity", name=key) for key in partition_keys],
    )
    pii_paths = split_list(parameters.get(PII_PROPERTY)) + pii_flagged_columns(table)
    columns = glue_columns(table, pii_paths)
    stats = [partition_stat(partition, partition_keys) for partition in partitions]
    snapshots, schema_history = glue_versions_history(versions)
    updated = table.get("UpdateTime") or table.get("CreateTime")
    return TableRecord(
        catalog=catalog,
        namespace=table["DatabaseName"],
        name=table["Name"],
        kind="view" if is_view else "hive",
        format=None if is_view else storage_format(parameters, storage),
        location=storage.get("Location") or None,
        comment=table.get("Description") or parameters.get("comment"),
        owner=parameters.get("owner") or table.get("Owner"),
        tags=split_list(parameters.get("tags")),
        properties=parameters,
        columns=columns,
        partition_spec=spec,
        partition_spec_history=[spec],
        current_snapshot_id=version_number(table.get("VersionId")) if table.get("VersionId") else None,
        snapshots=snapshots,
        schema_history=schema_history or [SchemaVersion(schema_id=0, columns=[c.path for c in columns])],
        partitions=most_recent(stats, max_partitions),
        totals=TableTotals() if is_view else hive_totals(parameters, stats, partitioned=bool(partition_keys)),
        last_updated=updated.astimezone(timezone.utc) if updated else None,
        view_sql=view_sql(table) if is_view else None,
        source_version=glue_version(table),
    )


def glue_columns(table: dict[str, Any], pii_paths: list[str] | None = None) -> list[Column]:
    partition_keys = {key["Name"] for key in table.get("PartitionKeys", [])}
    columns = []
    for glue_column in all_glue_columns(table):
        for path, type_text in flatten_hive_type(glue_column["Name"], glue_column.get("Type", "")):
            columns.append(
                Column(
                    path=path,
                    type=type_text,
                    comment=glue_column.get("Comment") if path == glue_column["Name"] else None,
                    pii=is_pii(path, pii_paths or []),
                    is_partition_key=glue_column["Name"] in partition_keys,
                )
            )
    return columns


def flatten_hive_type(path: str, type_text: str) -> Iterator[tuple[str, str]]:
    """``struct<a:int,b:array<string>>`` as dotted paths, the way Iceberg schemas are flattened; a type
    sqlglot cannot read (``uniontype<...>``) is kept as written, without children."""
    try:
        data_type = exp.DataType.build(type_text, dialect="hive")
    except ParseError:
        yield path, type_text.strip()
        return
    yield from flatten_data_type(path, data_type)


def flatten_data_type(path: str, data_type: exp.DataType) -> Iterator[tuple[str, str]]:
    yield path, short_type_text(data_type)
    if data_type.this == exp.DataType.Type.STRUCT:
        for member in data_type.expressions:
            yield from flatten_data_type(f"{path}.{member.name}", member.args["kind"])
    elif data_type.this == exp.DataType.Type.ARRAY and len(data_type.expressions) == 1:
        yield from flatten_data_type(f"{path}.element", data_type.expressions[0])
    elif data_type.this == exp.DataType.Type.MAP and len(data_type.expressions) == 2:
        yield from flatten_data_type(f"{path}.key", data_type.expressions[0])
        yield from flatten_data_type(f"{path}.value", data_type.expressions[1])


def short_type_text(data_type: exp.DataType) -> str:
    """Nested members are columns of their own, so a struct is just ``struct``; primitives as Hive writes
    them (``bigint``, ``decimal(10,2)``)."""
    if data_type.this == exp.DataType.Type.STRUCT:
        return "struct"
    if data_type.this in (exp.DataType.Type.ARRAY, exp.DataType.Type.MAP):
        kind = "array" if data_type.this == exp.DataType.Type.ARRAY else "map"
        return f"{kind}<{', '.join(short_type_text(member) for member in data_type.expressions)}>"
    return data_type.sql(dialect="hive").lower().replace(", ", ",")


def storage_format(parameters: dict[str, str], storage: dict[str, Any]) -> str | None:
    if parameters.get("classification"):
        return parameters["classification"].lower()
    classes = f"{storage.get('InputFormat', '')} {storage.get('SerdeInfo', {}).get('SerializationLibrary', '')}".lower()
    return next((fmt for hint, fmt in FORMAT_HINTS if hint in classes), None)


def view_sql(table: dict[str, Any]) -> str | None:
    """The view's SQL; Athena/Presto store it base64-encoded inside a comment."""
    text = table.get("ViewOriginalText") or table.get("ViewExpandedText")
    if not text:
        return None
    encoded = PRESTO_VIEW.fullmatch(text.strip())
    if encoded:
        try:
            return json.loads(base64.b64decode(encoded.group(1)))["originalSql"]
        except (binascii.Error, ValueError, KeyError, TypeError):
            return text
    return text


def first_count(parameters: dict[str, str], keys: tuple[str, ...]) -> int | None:
    """The first of ``keys`` holding a known count (Hive writes -1 for unknown)."""
    for key in keys:
        try:
            value = int(float(parameters[key]))
        except (KeyError, ValueError):
            continue
        if value >= 0:
            return value
    return None


def partition_stat(partition: dict[str, Any], partition_keys: list[str]) -> PartitionStat:
    parameters = partition.get("Parameters", {})
    updated = partition.get("LastAccessTime") or partition.get("CreationTime")
    return PartitionStat(
        values=dict(zip(partition_keys, partition.get("Values", []), strict=False)),
        record_count=first_count(parameters, RECORD_COUNT_KEYS),
        file_count=first_count(parameters, FILE_COUNT_KEYS),
        total_bytes=first_count(parameters, BYTES_KEYS),
        last_updated=updated.astimezone(timezone.utc) if updated else None,
        location=partition.get("StorageDescriptor", {}).get("Location"),
    )


def hive_totals(parameters: dict[str, str], partitions: list[PartitionStat], *, partitioned: bool) -> TableTotals:
    """Table parameters when Glue has them, else the sum over every partition that states the number."""

    def total(keys: tuple[str, ...], attribute: str) -> int | None:
        stated = first_count(parameters, keys)
        if stated is not None:
            return stated
        known = [getattr(p, attribute) for p in partitions if getattr(p, attribute) is not None]
        return sum(known) if known else None

    return TableTotals(
        record_count=total(RECORD_COUNT_KEYS, "record_count"),
        file_count=total(FILE_COUNT_KEYS, "file_count"),
        total_bytes=total(BYTES_KEYS, "total_bytes"),
        partition_count=len(partitions) if partitioned else 0,
    )


def glue_versions_history(versions: list[dict[str, Any]]) -> tuple[list[SnapshotInfo], list[SchemaVersion]]:
    """Glue table versions as ``update`` snapshots; a new schema version wherever the columns changed,
    numbered by the table version that introduced it."""
    snapshots: list[SnapshotInfo] = []
    history: list[SchemaVersion] = []
    previous_columns: list[Column] | None = None
    for version in versions:
        table = version["Table"]
        number = version_number(version.get("VersionId"))
        columns = glue_columns(table)
        if columns != previous_columns:
            changes = describe_schema_changes(previous_columns, columns) if previous_columns is not None else []
            history.append(SchemaVersion(schema_id=number, columns=[c.path for c in columns], changes=changes))
            previous_columns = columns
        changed = table.get("UpdateTime") or table["CreateTime"]
        snapshots.append(
            SnapshotInfo(
                snapshot_id=number,
                parent_id=snapshots[-1].snapshot_id if snapshots else None,
                timestamp=changed.astimezone(timezone.utc),
                operation="update",
                schema_id=history[-1].schema_id,
            )
        )
    return snapshots, history
