"""Crawl any catalog pyiceberg can load (sql, rest, glue, hive, ...) into table records.

The record is built from the table's own metadata (schemas, specs, snapshots) and the ``partitions``
metadata table, so every count is Iceberg's. ``iceberg_record`` is shared with the Glue crawler, which
reads the Iceberg tables it meets through pyiceberg too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.partitioning import PartitionSpec as IcebergPartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.sorting import NullOrder, SortDirection, SortOrder
from pyiceberg.transforms import (
    DayTransform,
    HourTransform,
    MonthTransform,
    Transform,
    VoidTransform,
    YearTransform,
)
from pyiceberg.types import IcebergType, ListType, MapType, NestedField, StructType

from catalog_ingest.crawlers.base import CatalogUnreachable, Crawler, TableRef, TableUnreadable
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

PII_PROPERTY = "lakescout.pii"
"""Table property listing PII column paths, comma separated; a parent path marks all its children."""

CATALOG_NAME_PROPERTY = "catalog-name"
"""The name pyiceberg knows the catalog by, when it differs from lakescout's (SqlCatalog rows are keyed by it)."""

LISTING_CONCURRENCY = 8
"""Tables loaded at once while listing, to read their metadata locations."""

BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0

T = TypeVar("T")


class IcebergCrawler(Crawler):
    """Crawls one pyiceberg catalog. pyiceberg promises no thread safety for catalog objects (a REST
    session, an SQLAlchemy engine), so each one is lent to one thread at a time and reused after."""

    def __init__(self, config: CatalogConfig, *, max_partitions: int = 20000, retries: int = 3) -> None:
        super().__init__(config, max_partitions=max_partitions, retries=retries)
        self._idle: list[Catalog] = []
        self._idle_lock = threading.Lock()

    def list_tables(self) -> list[TableRef]:
        identifiers = self._with_retries(self._admitted_identifiers)
        with ThreadPoolExecutor(max_workers=LISTING_CONCURRENCY, thread_name_prefix="iceberg-list") as pool:
            locations = list(pool.map(self._metadata_location_or_none, identifiers))
        return [
            TableRef(namespace=".".join(identifier[:-1]), name=identifier[-1], version=location)
            for identifier, location in zip(identifiers, locations, strict=True)
        ]

    def crawl(self, ref: TableRef) -> TableRecord:
        try:
            with self._catalog() as catalog:
                table = catalog.load_table((*ref.namespace.split("."), ref.name))
            return iceberg_record(self.config.name, ref.namespace, ref.name, table, self.max_partitions)
        except Exception as exc:
            raise TableUnreadable(f"{ref.full_name}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for catalog in idle:
            close_catalog(catalog)

    @contextmanager
    def _catalog(self) -> Iterator[Catalog]:
        """An idle catalog object or a new one; one that saw an error is closed rather than reused."""
        with self._idle_lock:
            catalog = self._idle.pop() if self._idle else None
        if catalog is None:
            catalog = open_catalog(self.config)
        try:
            yield catalog
        except BaseException:
            close_catalog(catalog)
            raise
        with self._idle_lock:
            self._idle.append(catalog)

    def _admitted_identifiers(self) -> list[tuple[str, ...]]:
        with self._catalog() as catalog:
            return [
                identifier
                for namespace in all_namespaces(catalog)
                for identifier in catalog.list_tables(namespace)
                if self.admits(".".join(identifier[:-1]), identifier[-1])
            ]

    def _metadata_location_or_none(self, identifier: tuple[str, ...]) -> str | None:
        """A table that fails to load still gets listed; its crawl reports why."""
        try:
            with self._catalog() as catalog:
                return catalog.load_table(identifier).metadata_location
        except Exception:
            return None

    def _with_retries(self, action: Callable[[], T]) -> T:
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                return action()
            except CatalogUnreachable:
                raise
            except Exception as exc:
                failure = exc
                if attempt + 1 < attempts:
                    time.sleep(min(BACKOFF_SECONDS * 2**attempt, MAX_BACKOFF_SECONDS))
        raise CatalogUnreachable(
            f"catalog {self.config.name!r} ({describe_catalog(self.config)}) could not be listed after "
            f"{attempts} attempt(s): {type(failure).__name__}: {failure}"
        ) from failure


def open_catalog(config: CatalogConfig) -> Catalog:
    """``load_catalog``, except that a SQLite catalog file that does not exist is an error: pyiceberg would
    create an empty catalog there and every table would look deleted."""
    missing = missing_sqlite_file(config.properties.get("uri", ""))
    if missing is not None:
        raise CatalogUnreachable(f"catalog {config.name!r}: SQLite catalog file {missing} does not exist")
    properties = dict(config.properties)
    return load_catalog(properties.pop(CATALOG_NAME_PROPERTY, config.name), **properties)


def close_catalog(catalog: Catalog) -> None:
    """Catalogs holding connections (SQL engines) have ``close``; others hold nothing to release."""
    close = getattr(catalog, "close", None)
    if close is not None:
        close()


def missing_sqlite_file(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return None if Path(path).exists() else Path(path)


def describe_catalog(config: CatalogConfig) -> str:
    """Type and URI for error messages, without any password in the URI."""
    kind = config.properties.get("type", "default type")
    uri = config.properties.get("uri")
    return f"{kind} at {redact_uri(uri)}" if uri else kind


def redact_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def all_namespaces(catalog: Catalog) -> Iterator[tuple[str, ...]]:
    """Every namespace, nested ones included (catalogs without nesting return no children)."""
    pending = list(catalog.list_namespaces())
    while pending:
        namespace = pending.pop(0)
        yield namespace
        pending.extend(child for child in catalog.list_namespaces(namespace) if child != namespace)


# --- the record --------------------------------------------------------------------------------------


def iceberg_record(catalog: str, namespace: str, name: str, table: Table, max_partitions: int) -> TableRecord:
    metadata = table.metadata
    properties = dict(table.properties)
    schema = table.schema()
    current = table.current_snapshot()
    partitions, partition_count = partition_stats(table, max_partitions)
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
        columns=flatten_schema(schema, pii_paths=split_list(properties.get(PII_PROPERTY))),
        identifier_fields=[schema.find_column_name(i) or str(i) for i in schema.identifier_field_ids],
        partition_spec=partition_spec(table.spec(), metadata.schemas),
        partition_spec_history=[partition_spec(spec, metadata.schemas) for spec in metadata.partition_specs],
        sort_order=describe_sort_order(table.sort_order(), schema),
        current_snapshot_id=current.snapshot_id if current else None,
        snapshots=[snapshot_info(s) for s in sorted(metadata.snapshots, key=lambda s: s.timestamp_ms)],
        schema_history=schema_history([(s.schema_id, flatten_schema(s)) for s in metadata.schemas]),
        partitions=partitions,
        totals=totals(current, partition_count),
        last_updated=from_millis(current.timestamp_ms if current else metadata.last_updated_ms),
        source_version=table.metadata_location,
    )


def split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def is_pii(path: str, pii_paths: Iterable[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in pii_paths)


def flatten_schema(schema: Schema, pii_paths: Iterable[str] = ()) -> list[Column]:
    pii_paths = list(pii_paths)
    return [
        Column(
            path=path,
            type=type_text(field.field_type),
            comment=field.doc,
            required=field.required,
            field_id=field.field_id,
            pii=is_pii(path, pii_paths),
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


def schema_history(versions: list[tuple[int, list[Column]]]) -> list[SchemaVersion]:
    """Each schema version with its changes in words against the one before."""
    history = []
    previous: list[Column] | None = None
    for schema_id, columns in sorted(versions, key=lambda v: v[0]):
        changes = describe_schema_changes(previous, columns) if previous is not None else []
        history.append(SchemaVersion(schema_id=schema_id, columns=[c.path for c in columns], changes=changes))
        previous = columns
    return history


def describe_schema_changes(before: list[Column], after: list[Column]) -> list[str]:
    """Columns are matched by field id where there is one (so renames show), else by path (Hive)."""

    def key(column: Column) -> int | str:
        return column.field_id if column.field_id is not None else column.path

    old = {key(c): c for c in before}
    new = {key(c): c for c in after}
    changes = []
    for k, column in new.items():
        if k not in old:
            changes.append(f"added column {column.path}")
            continue
        was = old[k]
        if leaf_name(was.path) != leaf_name(column.path):  # a renamed parent moves children, not renames them
            changes.append(f"renamed {was.path} to {column.path}")
        if was.type != column.type:
            changes.append(f"changed type of {column.path} from {was.type} to {column.type}")
        if was.required != column.required:
            changes.append(f"made {column.path} {'required' if column.required else 'optional'}")
    changes.extend(f"dropped column {column.path}" for k, column in old.items() if k not in new)
    return changes


def leaf_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


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


def most_recent(stats: list[PartitionStat], limit: int) -> list[PartitionStat]:
    """Newest update first; ties (one commit writes many partitions) broken by the highest values."""
    oldest = datetime.min.replace(tzinfo=timezone.utc)

    def recency(stat: PartitionStat) -> tuple[datetime, list[str]]:
        return stat.last_updated or oldest, [value or "" for value in stat.values.values()]

    return sorted(stats, key=recency, reverse=True)[:limit]


def partition_stat(row: dict[str, Any], spec: IcebergPartitionSpec) -> PartitionStat:
    updated = row.get("last_updated_at")
    return PartitionStat(
        values={
            f.name: partition_value_text(f.transform, row["partition"].get(f.name))
            for f in spec.fields
            if not isinstance(f.transform, VoidTransform)
        },
        spec_id=spec.spec_id,
        record_count=row["record_count"],
        file_count=row["file_count"],
        total_bytes=row["total_data_file_size_in_bytes"],
        last_updated=updated.replace(tzinfo=timezone.utc) if updated else None,
    )


EPOCH = datetime(1970, 1, 1)


def partition_value_text(transform: Transform[Any, Any], value: Any) -> str | None:
    """Time transforms as ISO text (2026-11-01, 2026-11, 2026-11-01T13, 2026); others as the value."""
    if value is None:
        return None
    if isinstance(transform, DayTransform):
        return (value if isinstance(value, date) else (EPOCH + timedelta(days=value)).date()).isoformat()
    if isinstance(transform, MonthTransform):
        return f"{1970 + value // 12:04d}-{value % 12 + 1:02d}"
    if isinstance(transform, HourTransform):
        return (EPOCH + timedelta(hours=value)).strftime("%Y-%m-%dT%H")
    if isinstance(transform, YearTransform):
        return f"{1970 + value:04d}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


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
