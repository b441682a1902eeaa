"""Crawl an AWS Glue Data Catalog: Hive-style tables and views from Glue itself, Iceberg tables through pyiceberg.

Config properties: ``region``, ``endpoint_url``, ``access_key_id``, ``secret_access_key``, ``session_token``,
``catalog_id`` (another account's catalog) and ``s3_endpoint_url`` (where Iceberg metadata is read; defaults
to ``endpoint_url``, which suits a local stack serving both).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from catalog_ingest.crawlers.base import CatalogUnreachable, Crawler, TableRef, TableUnreadable
from catalog_ingest.crawlers.glue_tables import (
    all_glue_columns,
    glue_version,
    hive_record,
    is_iceberg,
    version_number,
    with_glue_facts,
)
from catalog_ingest.crawlers.iceberg_record import iceberg_record
from catalog_ingest.crawlers.pyiceberg_catalogs import CatalogPool
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import CatalogConfig

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10
MAX_POOL_CONNECTIONS = 16
COLUMN_STATISTICS_BATCH = 100
"""GetColumnStatisticsForTable takes at most 100 column names per call."""


class GlueCrawler(Crawler):
    """Lists and reads Hive-style tables and views with boto3 (botocore retries with adaptive backoff);
    Iceberg tables are loaded through pyiceberg's GlueCatalog, so Iceberg records are built one way."""

    def __init__(self, config: CatalogConfig, **limits: Any) -> None:
        super().__init__(config, **limits)
        properties = config.properties
        self._catalog_id = {"CatalogId": properties["catalog_id"]} if properties.get("catalog_id") else {}
        self._glue_client: Any = None
        self._client_lock = threading.Lock()
        self._iceberg_catalogs = CatalogPool(
            CatalogConfig(name=config.name, type="iceberg", properties=pyiceberg_glue_properties(properties))
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

    def check_reachable(self) -> None:
        self._glue().get_databases(MaxResults=1, **self._catalog_id)

    def crawl(self, ref: TableRef, previous: TableRecord | None = None) -> TableRecord:
        try:
            table = self._glue().get_table(DatabaseName=ref.namespace, Name=ref.name, **self._catalog_id)["Table"]
            if is_iceberg(table):
                iceberg_table = self._iceberg_catalogs.load_table((*ref.namespace.split("."), ref.name))
                iceberg = iceberg_record(self.config.name, ref.namespace, ref.name, iceberg_table,
                                         self.max_partitions, self.profile_limits, previous)  # fmt: skip
                record = with_glue_facts(iceberg, table)
            else:
                record = hive_record(
                    self.config.name,
                    table,
                    partitions=list(self._partitions(table)),
                    versions=self._versions(table),
                    max_partitions=self.max_partitions,
                )
            return record.model_copy(update={"column_stats": self._column_statistics(table)})
        except Exception as exc:
            raise TableUnreadable(f"{ref.full_name}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._iceberg_catalogs.close()
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
