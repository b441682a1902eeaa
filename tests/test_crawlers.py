"""Crawlers against real catalogs built here: a pyiceberg SQLite catalog on disk and Glue/S3 on moto."""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

import boto3
import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.partitioning import PartitionField as IcebergPartitionField
from pyiceberg.partitioning import PartitionSpec as IcebergPartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import (
    BucketTransform,
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    TruncateTransform,
    YearTransform,
)
from pyiceberg.types import (
    DateType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)

from catalog_ingest.crawlers import crawler_for
from catalog_ingest.crawlers.base import CatalogUnreachable, TableRef, TableUnreadable
from catalog_ingest.crawlers.glue import GlueCrawler, column_statistics
from catalog_ingest.crawlers.iceberg import IcebergCrawler, redact_uri
from catalog_ingest.records import PartitionField, PartitionSpec, TimeSpan, time_span
from catalog_ingest.settings import CatalogConfig
from api.loopback import free_port

CATALOG = "lake"


def sql_config(root: Path, **filters: list[str]) -> CatalogConfig:
    return CatalogConfig(
        name=CATALOG,
        properties={"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}", "warehouse": f"file://{root / 'wh'}"},
        **filters,
    )


def sql_catalog(root: Path) -> Catalog:
    (root / "wh").mkdir(parents=True, exist_ok=True)
    config = sql_config(root)
    return load_catalog(config.name, **config.properties)


ORDERS_SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=True, doc="order id"),
    NestedField(2, "order_ts", TimestamptzType(), doc="when the order was placed"),
    NestedField(3, "customer", StructType(NestedField(4, "email", StringType()), NestedField(5, "city", StringType()))),
    NestedField(
        6,
        "items",
        ListType(7, StructType(NestedField(8, "sku", StringType()), NestedField(9, "qty", IntegerType())), False),
    ),
    NestedField(10, "attributes", MapType(11, StringType(), 12, StringType(), value_required=False)),
    identifier_field_ids=[1],
)


def order_rows(table: Table, ids: range, day: int) -> pa.Table:
    rows = [
        {
            "id": i,
            "order_ts": datetime(2026, 11, day, 13, tzinfo=timezone.utc),
            "customer": {"email": f"c{i}@example.com", "city": "Lyon"},
            "items": [{"sku": "A", "qty": 1}],
            "attributes": {"source": "web"},
        }
        for i in ids
    ]
    return pa.Table.from_pylist(rows, schema=table.schema().as_arrow())


def build_orders(catalog: Catalog) -> Table:
    """Day-partitioned, then also bucketed; appends, an overwrite, a delete; a column added and renamed."""
    table = catalog.create_table(
        ("sales", "eu", "orders"),
        ORDERS_SCHEMA,
        partition_spec=IcebergPartitionSpec(IcebergPartitionField(2, 1000, DayTransform(), "order_ts_day")),
        properties={
            "owner": "sales-eng",
            "tags": "gold, finance",
            "comment": "One row per order",
            "lakescout.pii": "customer, attributes",
        },
    )
    table.append(order_rows(table, range(0, 4), day=1))
    table.append(order_rows(table, range(4, 8), day=2))
    table.overwrite(order_rows(table, range(0, 4), day=1), overwrite_filter="id < 4")
    with table.update_spec() as spec:
        spec.add_field("id", BucketTransform(4), "id_bucket")
    with table.update_schema() as schema:
        schema.add_column("channel", StringType(), doc="web or store")
        schema.rename_column("customer.city", "town")
        schema.update_column("items.element.qty", LongType())
    with table.update_sort_order() as order:
        order.desc("order_ts", IdentityTransform())
        order.asc("id", IdentityTransform())
    table.append(order_rows(table, range(8, 12), day=3))
    table.delete("id == 9")
    return catalog.load_table(("sales", "eu", "orders"))


def build_calendar(catalog: Catalog) -> Table:
    """One partition under each remaining transform, to check how values are written out."""
    schema = Schema(
        NestedField(1, "month_ts", TimestampType()),
        NestedField(2, "hour_ts", TimestampType()),
        NestedField(3, "year_date", DateType()),
        NestedField(4, "code", StringType()),
    )
    spec = IcebergPartitionSpec(
        IcebergPartitionField(1, 1000, MonthTransform(), "month_ts_month"),
        IcebergPartitionField(2, 1001, HourTransform(), "hour_ts_hour"),
        IcebergPartitionField(3, 1002, YearTransform(), "year_date_year"),
        IcebergPartitionField(4, 1003, TruncateTransform(2), "code_trunc"),
    )
    table = catalog.create_table(("sales", "eu", "calendar"), schema, partition_spec=spec)
    row = {
        "month_ts": datetime(2026, 11, 5),
        "hour_ts": datetime(2026, 11, 1, 13, 30),
        "year_date": date(2026, 3, 1),
        "code": "abc",
    }
    table.append(pa.Table.from_pylist([row], schema=table.schema().as_arrow()))
    return table


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("lake")
    catalog = sql_catalog(root)
    catalog.create_namespace("sales")
    catalog.create_namespace(("sales", "eu"))
    catalog.create_namespace("hr")
    tables = {
        "orders": build_orders(catalog),
        "calendar": build_calendar(catalog),
        "people": catalog.create_table(("hr", "people"), Schema(NestedField(1, "name", StringType()))),
    }
    return {"root": root, "config": sql_config(root), "tables": tables}


@pytest.fixture
def iceberg_crawler(lake):
    crawler = IcebergCrawler(lake["config"], max_partitions=100, retries=0)
    yield crawler
    crawler.close()


def test_lists_nested_namespaces_with_metadata_locations(iceberg_crawler, lake):
    refs = {ref.full_name: ref for ref in iceberg_crawler.list_tables()}
    assert set(refs) == {"sales.eu.orders", "sales.eu.calendar", "hr.people"}
    for name, table in lake["tables"].items():
        ref = next(r for r in refs.values() if r.name == name)
        assert ref.version == table.metadata_location


def test_iceberg_record_holds_every_field(iceberg_crawler, lake):
    table: Table = lake["tables"]["orders"]
    record = iceberg_crawler.crawl(TableRef("sales.eu", "orders"))

    assert (record.catalog, record.namespace, record.name) == (CATALOG, "sales.eu", "orders")
    assert record.kind == "iceberg"
    assert record.format == "parquet"
    assert record.location == table.location()
    assert record.metadata_location == record.source_version == table.metadata_location
    assert (record.comment, record.owner, record.tags) == ("One row per order", "sales-eng", ["gold", "finance"])
    assert record.properties["lakescout.pii"] == "customer, attributes"

    columns = {c.path: c for c in record.columns}
    assert list(columns) == [
        "id", "order_ts", "customer", "customer.email", "customer.town", "items", "items.element",
        "items.element.sku", "items.element.qty", "attributes", "attributes.key", "attributes.value", "channel",
    ]  # fmt: skip
    assert (columns["id"].type, columns["id"].required, columns["id"].comment) == ("long", True, "order id")
    assert columns["order_ts"].type == "timestamptz"
    assert columns["customer"].type == "struct"
    assert columns["items"].type == "list<struct>"
    assert columns["items.element.qty"].type == "long"
    assert columns["attributes"].type == "map<string, string>"
    assert columns["channel"].comment == "web or store"
    assert [c.field_id for c in record.columns] == [table.schema().find_field(p).field_id for p in columns]
    assert record.pii_columns == [
        "customer", "customer.email", "customer.town", "attributes", "attributes.key", "attributes.value",
    ]  # fmt: skip
    assert not any(c.is_partition_key for c in record.columns)
    assert record.identifier_fields == ["id"]

    by_day = PartitionField(source_column="order_ts", transform="day", name="order_ts_day")
    by_bucket = PartitionField(source_column="id", transform="bucket[4]", name="id_bucket")
    day_spec = PartitionSpec(spec_id=0, fields=[by_day])
    bucketed = PartitionSpec(spec_id=1, fields=[by_day, by_bucket])
    assert record.partition_spec == bucketed
    assert record.partition_spec_history == [day_spec, bucketed]
    assert record.sort_order == "order_ts descending, id ascending nulls last"  # pyiceberg's asc() puts nulls last

    assert record.current_snapshot_id == table.current_snapshot().snapshot_id
    # overwrite() commits a delete then an append; deleting one row rewrites its file: an overwrite.
    assert [s.operation for s in record.snapshots] == ["append", "append", "delete", "append", "append", "overwrite"]
    assert [s.summary.get("deleted-records") for s in record.snapshots] == [None, None, "4", None, None, "3"]
    oldest_first = sorted(table.snapshots(), key=lambda s: s.timestamp_ms)
    assert [s.snapshot_id for s in record.snapshots] == [s.snapshot_id for s in oldest_first]
    first = record.snapshots[0]
    assert first.parent_id is None and first.timestamp.tzinfo is not None
    assert first.summary["added-records"] == "4" and first.summary["total-records"] == "4"
    assert {"added-files-size", "total-data-files"} <= set(first.summary)
    assert record.snapshots[-1].parent_id == record.snapshots[-2].snapshot_id
    assert record.last_updated == record.snapshots[-1].timestamp

    assert [v.schema_id for v in record.schema_history] == [0, 1]
    assert record.schema_history[0].changes == []
    assert sorted(record.schema_history[1].changes) == sorted([
        "added column channel",
        "renamed customer.city to customer.town",
        "changed type of items.element.qty from int to long",
    ])  # fmt: skip

    by_values = {tuple(sorted(p.values.items())): p for p in record.partitions}
    day_one = by_values[(("order_ts_day", "2026-11-01"),)]
    assert (day_one.spec_id, day_one.record_count, day_one.file_count) == (0, 4, 1)
    assert day_one.total_bytes > 0 and day_one.last_updated.tzinfo is not None
    later = [p for p in record.partitions if p.spec_id == 1]
    assert {p.values["order_ts_day"] for p in later} == {"2026-11-03"}
    assert all(p.values["id_bucket"] in {"0", "1", "2", "3"} for p in later)
    assert sum(p.record_count for p in record.partitions) == 11
    assert record.partitions[0].last_updated == max(p.last_updated for p in record.partitions)

    summary = table.current_snapshot().summary
    assert record.totals.record_count == int(summary["total-records"]) == 11
    assert record.totals.file_count == int(summary["total-data-files"])
    assert record.totals.total_bytes == int(summary["total-files-size"])
    assert record.totals.partition_count == len(record.partitions)
    assert record.view_sql is None and record.column_stats == {}


def test_partition_values_read_as_text_per_transform(iceberg_crawler):
    record = iceberg_crawler.crawl(TableRef("sales.eu", "calendar"))
    assert [f.transform for f in record.partition_spec.fields] == ["month", "hour", "year", "truncate[2]"]
    assert [p.values for p in record.partitions] == [
        {"month_ts_month": "2026-11", "hour_ts_hour": "2026-11-01T13", "year_date_year": "2026", "code_trunc": "ab"}
    ]


def test_partition_value_text_reads_back_as_the_span_it_covers(iceberg_crawler):
    [stat] = iceberg_crawler.crawl(TableRef("sales.eu", "calendar")).partitions
    spans = {name: time_span(value) for name, value in stat.values.items()}
    assert spans == {
        "month_ts_month": TimeSpan(datetime(2026, 11, 1), datetime(2026, 12, 1), "month"),
        "hour_ts_hour": TimeSpan(datetime(2026, 11, 1, 13), datetime(2026, 11, 1, 14), "hour"),
        "year_date_year": TimeSpan(datetime(2026, 1, 1), datetime(2027, 1, 1), "year"),
        "code_trunc": None,
    }
    assert spans["month_ts_month"].days() == (date(2026, 11, 1), date(2026, 11, 30))
    assert stat.time_span() == spans["month_ts_month"]  # the first value that reads as a time


def test_empty_unpartitioned_table(iceberg_crawler):
    record = iceberg_crawler.crawl(TableRef("hr", "people"))
    assert record.current_snapshot_id is None and record.snapshots == [] and record.partitions == []
    assert record.partition_spec.fields == [] and record.sort_order is None
    assert record.totals.model_dump() == {"record_count": 0, "file_count": 0, "total_bytes": 0, "partition_count": 0}
    assert record.last_updated is not None


def test_partitions_capped_to_most_recent_but_totals_cover_all(lake):
    crawler = IcebergCrawler(lake["config"], max_partitions=2)
    record = crawler.crawl(TableRef("sales.eu", "orders"))
    assert len(record.partitions) == 2
    assert record.totals.partition_count > 2 and record.totals.record_count == 11
    assert all(p.spec_id == 1 for p in record.partitions)  # the last append wrote the newest partitions
    crawler.close()


def test_concurrent_crawls_match_sequential(iceberg_crawler):
    refs = iceberg_crawler.list_tables() * 4
    sequential = [iceberg_crawler.crawl(ref).fingerprint() for ref in refs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda ref: iceberg_crawler.crawl(ref).fingerprint(), refs))
    assert concurrent == sequential


def test_a_listed_sql_catalog_table_is_read_from_its_location_without_asking_the_catalog_again(iceberg_crawler):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    refs = iceberg_crawler.list_tables()
    loaded = [iceberg_crawler.crawl(TableRef(ref.namespace, ref.name)).fingerprint() for ref in refs]  # no version
    statements: list[str] = []

    def count(connection, cursor, statement, *rest) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)  # every engine's, the pool's catalogs' included
    try:
        read = [iceberg_crawler.crawl(ref).fingerprint() for ref in refs]
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert read == loaded  # the same records
    assert statements == [], statements  # and no query of the catalog's table per table


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (["sales.*"], ["*.calendar"], {"sales.eu.orders"}),
        (["hr"], [], {"hr.people"}),
        ([], ["sales.eu"], {"hr.people"}),
    ],
)
def test_include_exclude_globs(lake, include, expected, exclude):
    crawler = IcebergCrawler(sql_config(lake["root"], include=include, exclude=exclude))
    assert {ref.full_name for ref in crawler.list_tables()} == expected
    crawler.close()


def test_closed_rest_port_is_unreachable_quickly():
    uri = f"http://127.0.0.1:{free_port()}"
    crawler = crawler_for(CatalogConfig(name="remote", properties={"type": "rest", "uri": uri}), retries=1)
    started = time.monotonic()
    with pytest.raises(CatalogUnreachable, match=r"'remote'.*127\.0\.0\.1.*2 attempt"):
        crawler.list_tables()
    assert time.monotonic() - started < 10


def test_missing_sqlite_file_is_unreachable_and_not_created(tmp_path):
    missing = tmp_path / "nowhere" / "catalog.db"
    config = CatalogConfig(name="gone", properties={"type": "sql", "uri": f"sqlite:///{missing}"})
    with pytest.raises(CatalogUnreachable, match="does not exist"):
        IcebergCrawler(config, retries=3).list_tables()
    assert not missing.exists()


def test_corrupt_tables_are_unreadable_and_others_still_crawl(tmp_path):
    catalog = sql_catalog(tmp_path)
    catalog.create_namespace("ops")
    schema = Schema(NestedField(1, "id", LongType()))
    for name in ("good", "garbled", "lost_manifest"):
        table = catalog.create_table(("ops", name), schema)
        table.append(pa.Table.from_pylist([{"id": 1}], schema=table.schema().as_arrow()))
    Path(catalog.load_table(("ops", "garbled")).metadata_location.removeprefix("file://")).write_text("{not json")
    lost = catalog.load_table(("ops", "lost_manifest"))
    Path(lost.current_snapshot().manifest_list.removeprefix("file://")).unlink()

    crawler = IcebergCrawler(sql_config(tmp_path))
    refs = {ref.name: ref for ref in crawler.list_tables()}
    assert set(refs) == {"good", "garbled", "lost_manifest"}
    # the listing reads the SQL catalog's own table, no metadata file: the garbled table keeps its location
    assert refs["garbled"].version is not None and refs["garbled"].version.endswith(".metadata.json")
    with pytest.raises(TableUnreadable, match=r"^ops\.garbled: "):
        crawler.crawl(refs["garbled"])
    with pytest.raises(TableUnreadable, match=r"^ops\.lost_manifest: "):
        crawler.crawl(refs["lost_manifest"])
    assert crawler.crawl(refs["good"]).totals.record_count == 1
    crawler.close()


# --- Glue on moto ---------------------------------------------------------------------------------------


def glue_config(endpoint: str, database: str, **extra: list[str]) -> CatalogConfig:
    return CatalogConfig(
        name="aws",
        type="glue",
        properties={
            "region": "us-east-1",
            "endpoint_url": endpoint,
            "access_key_id": "testing",
            "secret_access_key": "testing",
        },
        include=[f"{database}.*"],
        **extra,
    )


def presto_view(sql: str) -> str:
    encoded = base64.b64encode(json.dumps({"originalSql": sql, "catalog": "awsdatacatalog"}).encode()).decode()
    return f"/* Presto View: {encoded} */"


@pytest.fixture(scope="module")
def glue_lake(aws_env):
    """A Hive-style partitioned parquet table (updated once), a view, and an Iceberg table on S3."""
    endpoint = aws_env
    database = f"db_{uuid.uuid4().hex[:8]}"
    glue = boto3.client("glue", region_name="us-east-1", endpoint_url=endpoint)
    glue.create_database(DatabaseInput={"Name": database})
    storage = {
        "Columns": [
            {"Name": "id", "Type": "bigint", "Comment": "event id"},
            {"Name": "payload", "Type": "struct<kind:string,tags:array<string>,scores:map<string,decimal(10,2)>>"},
            {"Name": "email", "Type": "string", "Parameters": {"pii": "true"}},
        ],
        "Location": f"s3://warehouse/{database}/events/",
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    }
    events = {
        "Name": "events",
        "Description": "Raw click events",
        "Owner": "hadoop",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": storage,
        "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "country", "Type": "string"}],
        "Parameters": {"owner": "web-team", "tags": "raw, clicks", "lakescout.pii": "payload.tags"},
    }
    glue.create_table(DatabaseName=database, TableInput=events)
    partitions = [
        (["2026-11-01", "fr"], {"numRows": "10", "totalSize": "1000", "numFiles": "1"}),
        (["2026-11-02", "fr"], {"numRows": "20", "totalSize": "2000", "numFiles": "2"}),
        (["2026-11-02", "de"], {"recordCount": "5"}),
    ]
    glue.batch_create_partition(
        DatabaseName=database,
        TableName="events",
        PartitionInputList=[
            {
                "Values": values,
                "Parameters": parameters,
                "StorageDescriptor": {**storage, "Location": storage["Location"] + "dt={}/country={}".format(*values)},
            }
            for values, parameters in partitions
        ],
    )
    added = [*storage["Columns"], {"Name": "channel", "Type": "string"}]
    glue.update_table(DatabaseName=database, TableInput={**events, "StorageDescriptor": {**storage, "Columns": added}})
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "v_daily",
            "TableType": "VIRTUAL_VIEW",
            "ViewOriginalText": presto_view("SELECT dt, count(*) AS n FROM events GROUP BY dt"),
            "StorageDescriptor": {"Columns": [{"Name": "dt", "Type": "string"}, {"Name": "n", "Type": "bigint"}]},
        },
    )

    boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint).create_bucket(Bucket=database)
    iceberg_catalog = load_catalog(
        "glue",
        **{
            "type": "glue",
            "glue.endpoint": endpoint,
            "glue.region": "us-east-1",
            "s3.endpoint": endpoint,
            "s3.region": "us-east-1",
            "s3.access-key-id": "testing",
            "s3.secret-access-key": "testing",
            "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
            "warehouse": f"s3://{database}/",
        },
    )
    schema = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "ts", TimestamptzType()))
    table = iceberg_catalog.create_table(
        (database, "orders"),
        schema,
        partition_spec=IcebergPartitionSpec(IcebergPartitionField(2, 1000, DayTransform(), "ts_day")),
        properties={"owner": "sales-eng"},
    )
    rows = [{"id": i, "ts": datetime(2026, 11, 1 + i % 2, tzinfo=timezone.utc)} for i in range(4)]
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))
    return {"endpoint": endpoint, "database": database, "iceberg": iceberg_catalog.load_table((database, "orders"))}


@pytest.fixture
def glue_crawler(glue_lake):
    crawler = GlueCrawler(glue_config(glue_lake["endpoint"], glue_lake["database"]), max_partitions=100, retries=1)
    yield crawler
    crawler.close()


def test_glue_lists_tables_with_update_time_and_version(glue_crawler, glue_lake):
    refs = {ref.name: ref for ref in glue_crawler.list_tables()}
    assert set(refs) == {"events", "v_daily", "orders"}
    assert all(ref.namespace == glue_lake["database"] for ref in refs.values())
    stamp, version = refs["events"].version.split("|")
    assert datetime.fromisoformat(stamp).tzinfo is not None and version == "2"


def test_glue_exclude_glob(glue_lake):
    config = glue_config(glue_lake["endpoint"], glue_lake["database"], exclude=["*.v_*"])
    assert {ref.name for ref in GlueCrawler(config).list_tables()} == {"events", "orders"}


def test_glue_hive_table_record(glue_crawler, glue_lake):
    ref = next(r for r in glue_crawler.list_tables() if r.name == "events")
    record = glue_crawler.crawl(ref)

    assert (record.catalog, record.namespace, record.name) == ("aws", glue_lake["database"], "events")
    assert (record.kind, record.format) == ("hive", "parquet")
    assert record.location == f"s3://warehouse/{glue_lake['database']}/events/"
    assert record.metadata_location is None
    assert (record.comment, record.owner, record.tags) == ("Raw click events", "web-team", ["raw", "clicks"])
    assert record.properties["lakescout.pii"] == "payload.tags"
    columns = {c.path: c for c in record.columns}
    assert list(columns) == [
        "id", "payload", "payload.kind", "payload.tags", "payload.tags.element", "payload.scores",
        "payload.scores.key", "payload.scores.value", "email", "channel", "dt", "country",
    ]  # fmt: skip
    assert (columns["id"].type, columns["id"].comment) == ("bigint", "event id")
    assert columns["payload"].type == "struct"
    assert columns["payload.scores"].type == "map<string, decimal(10,2)>"
    assert columns["payload.scores.value"].type == "decimal(10,2)"
    assert record.pii_columns == ["payload.tags", "payload.tags.element", "email"]
    assert [c.path for c in record.columns if c.is_partition_key] == ["dt", "country"]

    assert record.partition_spec.describe() == "partitioned by dt (each value), country (each value)"
    assert record.partition_spec_history == [record.partition_spec]
    partitions = {tuple(p.values.values()): p for p in record.partitions}
    assert set(partitions) == {("2026-11-01", "fr"), ("2026-11-02", "fr"), ("2026-11-02", "de")}
    fr = partitions[("2026-11-02", "fr")]
    assert (fr.record_count, fr.total_bytes, fr.file_count) == (20, 2000, 2)
    assert fr.location.endswith("dt=2026-11-02/country=fr") and fr.last_updated.tzinfo is not None
    assert partitions[("2026-11-02", "de")].record_count == 5
    totals = {"record_count": 35, "file_count": 3, "total_bytes": 3000, "partition_count": 3}
    assert record.totals.model_dump() == totals  # summed over partitions: the table states no counts

    assert record.current_snapshot_id == 2
    snapshots = [(s.snapshot_id, s.parent_id, s.operation, s.schema_id) for s in record.snapshots]
    assert snapshots == [(1, None, "update", 1), (2, 1, "update", 2)]
    assert [(v.schema_id, v.changes) for v in record.schema_history] == [(1, []), (2, ["added column channel"])]
    assert record.last_updated is not None and record.source_version == ref.version
    assert record.column_stats == {}  # moto has no column statistics API: skipped, not fatal


def test_glue_view_record(glue_crawler):
    record = glue_crawler.crawl(next(r for r in glue_crawler.list_tables() if r.name == "v_daily"))
    assert record.kind == "view" and record.format is None
    assert record.view_sql == "SELECT dt, count(*) AS n FROM events GROUP BY dt"
    assert [c.path for c in record.columns] == ["dt", "n"]
    assert record.partitions == [] and record.totals.record_count is None


def test_glue_iceberg_table_read_through_pyiceberg(glue_crawler, glue_lake):
    table: Table = glue_lake["iceberg"]
    ref = next(r for r in glue_crawler.list_tables() if r.name == "orders")
    record = glue_crawler.crawl(ref)
    assert (record.kind, record.format, record.owner) == ("iceberg", "parquet", "sales-eng")
    assert record.metadata_location == table.metadata_location and record.metadata_location.startswith("s3://")
    assert record.source_version == ref.version
    assert [c.path for c in record.columns] == ["id", "ts"]
    assert record.partition_spec.fields == [PartitionField(source_column="ts", transform="day", name="ts_day")]
    assert sorted(p.values["ts_day"] for p in record.partitions) == ["2026-11-01", "2026-11-02"]
    assert record.totals.record_count == 4 and record.totals.partition_count == 2
    assert record.current_snapshot_id == table.current_snapshot().snapshot_id


def test_glue_missing_table_is_unreadable(glue_crawler, glue_lake):
    with pytest.raises(TableUnreadable, match=rf"^{glue_lake['database']}\.nope: "):
        glue_crawler.crawl(TableRef(glue_lake["database"], "nope"))


def test_glue_closed_endpoint_is_unreachable_quickly(aws_env):
    config = glue_config(f"http://127.0.0.1:{free_port()}", "any")
    started = time.monotonic()
    with pytest.raises(CatalogUnreachable, match="'aws'.*could not be listed"):
        crawler_for(config, retries=1).list_tables()
    assert time.monotonic() - started < 20


def test_glue_column_statistics_in_plain_words():
    """moto lacks the statistics API, so the conversion is checked on a response shaped like AWS's."""
    decimal_entry = {
        "ColumnName": "price",
        "AnalyzedTime": datetime(2026, 11, 2, tzinfo=timezone.utc),
        "StatisticsData": {
            "Type": "DECIMAL",
            "DecimalColumnStatisticsData": {
                "MinimumValue": {"UnscaledValue": (-150).to_bytes(2, "big", signed=True), "Scale": 2},
                "MaximumValue": {"UnscaledValue": (12345).to_bytes(2, "big", signed=True), "Scale": 2},
                "NumberOfNulls": 3,
                "NumberOfDistinctValues": 40,
            },
        },
    }
    assert column_statistics(decimal_entry) == {
        "type": "decimal", "min": "-1.50", "max": "123.45", "nulls": 3, "distinct": 40,
        "analyzed": "2026-11-02T00:00:00+00:00",
    }  # fmt: skip


def test_catalog_passwords_stay_out_of_error_messages():
    assert redact_uri("postgresql://app:s3cret@db.internal:5432/catalog") == "postgresql://app:***@db.internal:5432/catalog"
    assert redact_uri("http://127.0.0.1:8181") == "http://127.0.0.1:8181"
