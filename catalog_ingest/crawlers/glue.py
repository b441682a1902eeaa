"""Crawl an AWS Glue Data Catalog: Hive-style tables and views from Glue itself, Iceberg tables through pyiceberg.

Config properties: ``region``, ``endpoint_url``, ``access_key_id``, ``secret_access_key``, ``session_token``,
``catalog_id`` (another account's catalog) and ``s3_endpoint_url`` (where Iceberg metadata is read; defaults
to ``endpoint_url``, which suits a local stack serving both).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from catalog_ingest.crawlers.base import CatalogUnreachable, Crawler, TableRef, TableUnreadable
from catalog_ingest.crawlers.iceberg import (
    PII_PROPERTY,
    IcebergCrawler,
    describe_schema_changes,
    is_pii,
    most_recent,
    split_list,
)
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
from catalog_ingest.settings import CatalogConfig

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10
MAX_POOL_CONNECTIONS = 16
COLUMN_STATISTICS_BATCH = 100
"""GetColumnStatisticsForTable takes at most 100 column names per call."""

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


class GlueCrawler(Crawler):
    """Lists and reads Hive-style tables and views with boto3 (botocore retries with adaptive backoff);
    Iceberg tables go to an IcebergCrawler over pyiceberg's GlueCatalog, so Iceberg records are built one way."""

    def __init__(self, config: CatalogConfig, *, max_partitions: int = 20000, retries: int = 3) -> None:
        super().__init__(config, max_partitions=max_partitions, retries=retries)
        properties = config.properties
        self._catalog_id = {"CatalogId": properties["catalog_id"]} if properties.get("catalog_id") else {}
        self._glue_client: Any = None
        self._client_lock = threading.Lock()
        self._iceberg = IcebergCrawler(
            CatalogConfig(name=config.name, type="iceberg", properties=pyiceberg_glue_properties(properties)),
            max_partitions=max_partitions,
            retries=retries,
        )

    def list_tables(self) -> list[TableRef]:
        try:
            refs = []
            for database in self._paginate("get_databases", "DatabaseList"):
                for table in self._paginate("get_tables", "TableList", DatabaseName=database["Name"]):
                    if self.admits(database["Name"], table["Name"]):
                        refs.append(TableRef(database["Name"], table["Name"], version=glue_version(table)))
            return refs
        except (BotoCoreError, ClientError) as exc:
            raise CatalogUnreachable(
                f"Glue catalog {self.config.name!r} ({self._where()}) could not be listed: {exc}"
            ) from exc

    def crawl(self, ref: TableRef) -> TableRecord:
        try:
            table = self._glue().get_table(DatabaseName=ref.namespace, Name=ref.name, **self._catalog_id)["Table"]
            if is_iceberg(table):
                record = self._iceberg_record(ref, table)
            else:
                record = hive_record(
                    self.config.name,
                    table,
                    partitions=list(self._partitions(table)),
                    versions=self._versions(table),
                    max_partitions=self.max_partitions,
                )
            return record.model_copy(update={"column_stats": self._column_statistics(table)})
        except TableUnreadable:
            raise
        except Exception as exc:
            raise TableUnreadable(f"{ref.full_name}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._iceberg.close()
        with self._client_lock:
            if self._glue_client is not None:
                self._glue_client.close()
                self._glue_client = None

    def _where(self) -> str:
        properties = self.config.properties
        return properties.get("endpoint_url") or f"AWS Glue in {properties.get('region', 'the default region')}"

    def _glue(self) -> Any:
        """Built on first use, so a bad region or endpoint surfaces as CatalogUnreachable from listing."""
        with self._client_lock:
            if self._glue_client is None:
                properties = self.config.properties
                session = boto3.session.Session(
                    aws_access_key_id=properties.get("access_key_id"),
                    aws_secret_access_key=properties.get("secret_access_key"),
                    aws_session_token=properties.get("session_token"),
                    region_name=properties.get("region"),
                )
                self._glue_client = session.client(
                    "glue",
                    endpoint_url=properties.get("endpoint_url"),
                    config=Config(
                        retries={"mode": "adaptive", "max_attempts": self.retries + 1},
                        max_pool_connections=MAX_POOL_CONNECTIONS,
                        connect_timeout=CONNECT_TIMEOUT_SECONDS,
                        read_timeout=READ_TIMEOUT_SECONDS,
                    ),
                )
            return self._glue_client

    def _paginate(self, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
        for page in self._glue().get_paginator(operation).paginate(**arguments, **self._catalog_id):
            yield from page[key]

    def _iceberg_record(self, ref: TableRef, table: dict[str, Any]) -> TableRecord:
        """pyiceberg reads the metadata; Glue adds what only it knows (its version, owner, column flags)."""
        record = self._iceberg.crawl(ref)
        glue_pii = pii_flagged_columns(table)
        return record.model_copy(
            update={
                "columns": [c.model_copy(update={"pii": c.pii or is_pii(c.path, glue_pii)}) for c in record.columns],
                "owner": record.owner or table.get("Owner"),
                "comment": record.comment or table.get("Description"),
                "source_version": glue_version(table),
            }
        )

    def _partitions(self, table: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if not table.get("PartitionKeys"):
            return
        yield from self._paginate(
            "get_partitions", "Partitions", DatabaseName=table["DatabaseName"], TableName=table["Name"]
        )

    def _versions(self, table: dict[str, Any]) -> list[dict[str, Any]]:
        """Glue's table versions, oldest first; none when the caller may not read them."""
        try:
            versions = list(
                self._paginate(
                    "get_table_versions", "TableVersions", DatabaseName=table["DatabaseName"], TableName=table["Name"]
                )
            )
        except ClientError:
            return []
        return sorted(versions, key=lambda v: version_number(v.get("VersionId")))

    def _column_statistics(self, table: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Statistics Glue computed, if any; the API is optional (missing permissions, local stacks)."""
        names = [c["Name"] for c in all_glue_columns(table)]
        statistics: dict[str, dict[str, Any]] = {}
        try:
            for start in range(0, len(names), COLUMN_STATISTICS_BATCH):
                response = self._glue().get_column_statistics_for_table(
                    DatabaseName=table["DatabaseName"],
                    TableName=table["Name"],
                    ColumnNames=names[start : start + COLUMN_STATISTICS_BATCH],
                    **self._catalog_id,
                )
                for entry in response.get("ColumnStatisticsList", []):
                    statistics[entry["ColumnName"]] = column_statistics(entry)
        except (BotoCoreError, ClientError):
            return {}
        return statistics


def pyiceberg_glue_properties(properties: dict[str, str]) -> dict[str, str]:
    """This crawler's config in pyiceberg GlueCatalog's terms, reading data with the pyarrow FileIO."""
    s3_endpoint = properties.get("s3_endpoint_url") or properties.get("endpoint_url")
    mapping = {
        "glue.endpoint": properties.get("endpoint_url"),
        "glue.region": properties.get("region"),
        "glue.access-key-id": properties.get("access_key_id"),
        "glue.secret-access-key": properties.get("secret_access_key"),
        "glue.session-token": properties.get("session_token"),
        "glue.id": properties.get("catalog_id"),
        "s3.endpoint": s3_endpoint,
        # Without a region pyarrow looks it up per call, which waits seconds against a local endpoint.
        "s3.region": properties.get("region"),
        "s3.access-key-id": properties.get("access_key_id"),
        "s3.secret-access-key": properties.get("secret_access_key"),
        "s3.session-token": properties.get("session_token"),
    }
    return {
        "type": "glue",
        "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
        **{key: value for key, value in mapping.items() if value},
    }


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
    """``struct<a:int,b:array<string>>`` as dotted paths, the way Iceberg schemas are flattened."""
    yield path, short_hive_type(type_text)
    kind, arguments = split_hive_type(type_text)
    if kind == "struct":
        for member in arguments:
            name, member_type = member.split(":", 1)
            yield from flatten_hive_type(f"{path}.{name.strip().strip('`')}", member_type)
    elif kind == "array" and len(arguments) == 1:
        yield from flatten_hive_type(f"{path}.element", arguments[0])
    elif kind == "map" and len(arguments) == 2:
        yield from flatten_hive_type(f"{path}.key", arguments[0])
        yield from flatten_hive_type(f"{path}.value", arguments[1])


def short_hive_type(type_text: str) -> str:
    """Nested members are columns of their own, so a struct is just ``struct``."""
    kind, arguments = split_hive_type(type_text)
    if kind == "struct":
        return "struct"
    if kind in ("array", "map"):
        return f"{kind}<{', '.join(short_hive_type(a) for a in arguments)}>"
    return type_text.strip()


def split_hive_type(type_text: str) -> tuple[str, list[str]]:
    """``map<string,array<int>>`` -> (``map``, [``string``, ``array<int>``]); a primitive has no arguments."""
    text = type_text.strip()
    if "<" not in text or not text.endswith(">"):
        return text.lower(), []
    kind, inner = text.split("<", 1)
    arguments, depth, start = [], 0, 0
    inner = inner[:-1]
    for position, char in enumerate(inner):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(inner[start:position].strip())
            start = position + 1
    arguments.append(inner[start:].strip())
    return kind.strip().lower(), arguments


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


def column_statistics(entry: dict[str, Any]) -> dict[str, Any]:
    """One Glue ColumnStatistics entry in plain words: type, nulls, distinct, min, max, lengths, trues/falses."""
    data = entry.get("StatisticsData", {})
    typed = next((value for key, value in data.items() if key.endswith("ColumnStatisticsData")), {})
    names = {
        "NumberOfNulls": "nulls",
        "NumberOfDistinctValues": "distinct",
        "MinimumValue": "min",
        "MaximumValue": "max",
        "AverageLength": "avg_length",
        "MaximumLength": "max_length",
        "NumberOfTrues": "trues",
        "NumberOfFalses": "falses",
    }
    statistics: dict[str, Any] = {"type": str(data.get("Type", "")).lower()}
    for key, value in typed.items():
        if key in names:
            statistics[names[key]] = statistic_value(value)
    if entry.get("AnalyzedTime"):
        statistics["analyzed"] = entry["AnalyzedTime"].astimezone(timezone.utc).isoformat()
    return statistics


def statistic_value(value: Any) -> Any:
    """Decimals arrive as unscaled bytes plus a scale, dates as datetimes: make both plain text."""
    if isinstance(value, dict) and "UnscaledValue" in value:
        unscaled = int.from_bytes(value["UnscaledValue"], "big", signed=True)
        return str(Decimal(unscaled).scaleb(-value.get("Scale", 0)))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value
