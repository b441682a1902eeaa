"""The sample lake, read back through pyiceberg and boto3 the way the crawlers will read it."""

from __future__ import annotations

import hashlib
import io
from collections import Counter

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pyiceberg.catalog.glue import GlueCatalog
from pyiceberg.types import ListType

from catalog_ingest.crawlers.common import PII_PROPERTY
from catalog_ingest.settings import SAMPLE_CATALOG_NAME as CATALOG_NAME
from sample.build import FIRST_ORDER_ID, build_sample_lake, open_sample_catalog, sample_tables
from sample.glue import register_sample_in_glue
from sample.reference import ANCHOR


@pytest.fixture(scope="module")
def lake_dir(sample_lake_dir):
    """The session's default lake (tests/conftest.py), read only here."""
    return sample_lake_dir / "lake"


@pytest.fixture(scope="module")
def catalog(lake_dir):
    return open_sample_catalog(lake_dir)


@pytest.fixture(scope="module")
def tables(catalog):
    return {".".join(ident): catalog.load_table(ident)
            for ns in catalog.list_namespaces() for ident in catalog.list_tables(ns)}


def rows(tables, name) -> pa.Table:
    return tables[name].scan().to_arrow()


def checksum(table: pa.Table, key: str) -> str:
    """Of the values only: field ids and docs in the Arrow metadata differ between writers."""
    bare = pa.schema([f.remove_metadata() for f in table.schema])
    ordered = table.sort_by(key).cast(bare)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, ordered.schema) as writer:
        writer.write_table(ordered)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def test_catalog_has_many_tables_in_several_namespaces(lake_dir, tables):
    assert (lake_dir / "catalog.db").exists()
    assert not (lake_dir / "catalog.db.building").exists()
    assert len(tables) >= 25
    assert len({name.split(".")[0] for name in tables}) >= 4


def test_every_partition_transform_kind_is_present(tables):
    kinds = Counter()
    for table in tables.values():
        for field in table.spec().fields:
            kinds[str(field.transform).split("[")[0]] += 1
    assert {"identity", "year", "month", "day", "hour", "bucket", "truncate"} <= set(kinds)
    unpartitioned = [n for n, t in tables.items() if not t.spec().fields]
    assert len(unpartitioned) >= 3
    assert [str(f.transform) for f in tables["raw.events"].spec().fields] == ["day"]
    assert [str(f.transform) for f in tables["marts.orders"].spec().fields] == ["month"]


def test_ad_spend_spec_evolved_from_month_to_day_with_data_under_both(tables):
    table = tables["marketing.ad_spend"]
    specs = table.metadata.partition_specs
    assert [[str(f.transform) for f in s.fields] for s in specs] == [["month"], ["day"]]
    files = table.inspect.files()
    assert set(files["spec_id"].to_pylist()) == {0, 1}


def test_history_has_appends_an_overwrite_and_a_delete(tables):
    operations = Counter(s.summary.operation.value for t in tables.values() for s in t.snapshots())
    assert {"append", "overwrite", "delete"} <= set(operations)
    assert sum(len(t.snapshots()) > 1 for t in tables.values()) >= 5

    refunds = tables["finance.refunds"]
    assert "overwrite" in [s.summary.operation.value for s in refunds.snapshots()]
    statuses = set(rows(tables, "finance.refunds")["status"].to_pylist())
    assert "reprocessed" in statuses

    logs = tables["ops.app_logs"]
    assert [s.summary.operation.value for s in logs.snapshots()][-1] == "delete"
    oldest = pc.min(rows(tables, "ops.app_logs")["logged_at"]).as_py()
    assert oldest.replace(tzinfo=None) >= (ANCHOR - np.timedelta64(72, "h")).astype(object)


def test_customers_schema_renamed_a_column_and_added_one(tables):
    table = tables["marts.customers"]
    first, current = table.metadata.schemas[0], table.schema()
    assert len(table.metadata.schemas) == 2
    assert first.find_field("segment").field_id == current.find_field("customer_segment").field_id
    assert "lifetime_value_usd" not in first.column_names
    assert "lifetime_value_usd" in current.column_names
    # The latest signups were appended after the change and carry the new column.
    last_snapshot = table.snapshots()[-1]
    assert last_snapshot.schema_id == current.schema_id
    data = rows(tables, "marts.customers")
    assert 0 < pc.count(data["lifetime_value_usd"]).as_py() < data.num_rows


def test_comments_owners_tags_and_pii_are_mostly_there(tables):
    commented = [n for n, t in tables.items() if t.properties.get("comment")]
    assert 0.75 * len(tables) <= len(commented) < len(tables)
    docs = [f.doc for t in tables.values() for f in t.schema().fields]
    assert 0.5 * len(docs) < sum(d is not None for d in docs) < len(docs)
    assert all(t.properties.get("owner", "").endswith("@shopco.example") for t in tables.values())
    assert "gold" in tables["marts.orders"].properties["tags"].split(",")

    pii = {n: t.properties[PII_PROPERTY].split(",") for n, t in tables.items() if PII_PROPERTY in t.properties}
    assert {"email", "phone", "address.street"} <= set(pii["marts.customers"])
    for name, paths in pii.items():
        for path in paths:
            tables[name].schema().find_field(path)  # raises if the flagged column does not exist


def test_nested_list_identifier_and_sort_order(tables):
    address = tables["marts.customers"].schema().find_field("address")
    assert [f.name for f in address.field_type.fields] == ["street", "city", "country", "postal_code"]
    assert isinstance(tables["staging.products"].schema().find_field("tags").field_type, ListType)
    assert tables["marts.orders"].schema().identifier_field_names() == {"order_id"}
    events = tables["raw.events"]
    assert [events.schema().find_column_name(f.source_id) for f in events.sort_order().fields] == [
        "event_time", "user_id"]


def test_ids_join_across_tables(tables):
    orders = rows(tables, "marts.orders")
    customers = set(rows(tables, "marts.customers")["customer_id"].to_pylist())
    order_ids = set(orders["order_id"].to_pylist())
    assert set(orders["customer_id"].to_pylist()) <= customers
    assert set(rows(tables, "raw.order_items")["order_id"].to_pylist()) == order_ids
    assert set(rows(tables, "raw.payments")["order_id"].to_pylist()) == order_ids
    refunds = rows(tables, "finance.refunds")
    assert set(refunds["order_id"].to_pylist()) <= order_ids
    assert set(refunds["region"].to_pylist()) == {"NA", "EMEA", "LATAM", "APAC"}
    assert set(rows(tables, "marketing.attribution")["campaign_id"].to_pylist()) <= set(
        rows(tables, "marketing.campaigns")["campaign_id"].to_pylist())
    tickets = rows(tables, "support.tickets")
    assert set(pc.drop_null(tickets["order_id"]).to_pylist()) <= order_ids

    # Marts are true summaries of the facts.
    not_cancelled = pc.sum(pc.not_equal(orders["status"], "cancelled")).as_py()
    assert pc.sum(rows(tables, "marts.daily_revenue")["orders"]).as_py() == not_cancelled
    events = rows(tables, "raw.events")
    assert {"user_id", "country", "event_time"} <= set(events.column_names)
    week_one = rows(tables, "marts.weekly_active_users")
    assert pc.min(week_one["active_users"]).as_py() > 0

    # Timestamps sit in the 90 days before the fixed anchor.
    first, last = pc.min_max(orders["order_ts"]).values()
    assert (ANCHOR - np.timedelta64(90, "D")).astype(object) <= first.as_py() < last.as_py() < ANCHOR.astype(object)


def test_rebuild_replaces_a_stale_lake_and_is_deterministic(lake_dir, tables, tmp_path):
    stale = tmp_path / "again"
    (stale / "warehouse" / "old.db").mkdir(parents=True)
    (stale / "warehouse" / "old.db" / "orphan.parquet").write_bytes(b"left by a killed build")
    (stale / "catalog.db.building").write_bytes(b"half written")
    (stale / "catalog.db").write_bytes(b"previous catalog")

    again = build_sample_lake(stale)
    assert again.catalog_name == CATALOG_NAME
    assert again.catalog_properties == {
        "type": "sql",
        "uri": f"sqlite:///{stale.resolve()}/catalog.db",
        "warehouse": f"file://{stale.resolve()}/warehouse",
    }
    assert not (stale / "warehouse" / "old.db").exists()
    assert not (stale / "catalog.db.building").exists()

    catalog = open_sample_catalog(again.lake_dir)
    other = {".".join(i): catalog.load_table(i) for ns in catalog.list_namespaces() for i in catalog.list_tables(ns)}
    assert sorted(again.tables) == sorted(other) == sorted(tables)
    assert {n: len(rows(other, n)) for n in other} == {n: len(rows(tables, n)) for n in tables}
    assert checksum(rows(other, "marts.orders"), "order_id") == checksum(rows(tables, "marts.orders"), "order_id")
    on_disk = sum(p.stat().st_size for p in (lake_dir / "warehouse").rglob("*.parquet"))
    assert 1_000_000 < again.total_bytes == pytest.approx(on_disk, rel=0.01)


def test_the_seed_changes_the_data(tables):
    orders = sample_tables(["marts.orders"], seed=8)["marts.orders"]
    first_batch = pc.less(rows(tables, "marts.orders")["order_id"], FIRST_ORDER_ID + orders.num_rows)
    assert checksum(orders, "order_id") != checksum(rows(tables, "marts.orders").filter(first_batch), "order_id")
    same_seed = sample_tables(["marts.orders"], seed=7)["marts.orders"]
    assert checksum(same_seed, "order_id") == checksum(rows(tables, "marts.orders").filter(first_batch), "order_id")


def test_refuses_to_wipe_a_folder_that_is_not_a_lake(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a sample lake"):
        build_sample_lake(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_glue_registration_reads_back(aws_env):
    endpoint = aws_env
    summary = register_sample_in_glue(endpoint_url=endpoint, bucket="sample-test")
    glue = boto3.client("glue", endpoint_url=endpoint, region_name="us-east-1")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    listed = {f"{db}.{t['Name']}": t for db in summary["databases"]
              for t in glue.get_tables(DatabaseName=db)["TableList"]}
    assert set(listed) == {*summary["iceberg_tables"], *summary["hive_tables"], *summary["views"]}
    assert listed["glue_finance.refunds"]["Parameters"]["table_type"].upper() == "ICEBERG"

    events = listed["glue_raw.events"]
    assert events["PartitionKeys"][0]["Name"] == "dt"
    assert "ParquetHiveSerDe" in events["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    assert events["Parameters"]["classification"] == "parquet"
    partitions = [p for page in glue.get_paginator("get_partitions").paginate(DatabaseName="glue_raw",
                                                                              TableName="events")
                  for p in page["Partitions"]]
    assert len(partitions) == 30
    assert sum(int(p["Parameters"]["recordCount"]) for p in partitions) == int(events["Parameters"]["recordCount"])
    newest = max(partitions, key=lambda p: p["Values"][0])
    bucket, prefix = newest["StorageDescriptor"]["Location"].removeprefix("s3://").split("/", 1)
    [obj] = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
    assert obj["Size"] == int(newest["Parameters"]["totalSize"])
    body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    assert pq.read_table(io.BytesIO(body)).num_rows == int(newest["Parameters"]["recordCount"])

    csv = listed["glue_finance.fx_rates_csv"]
    assert csv["Parameters"]["classification"] == "csv"
    view = listed["glue_finance.refunds_by_region"]
    assert view["TableType"] == "VIRTUAL_VIEW"
    assert "FROM glue_finance.refunds" in view["ViewOriginalText"]

    refunds = GlueCatalog("glue", **summary["catalog_properties"]).load_table("glue_finance.refunds")
    scanned = refunds.scan(row_filter="region = 'EMEA'").to_arrow()
    expected = sample_tables(["finance.refunds"])["finance.refunds"]
    assert scanned.num_rows == pc.sum(pc.equal(expected["region"], "EMEA")).as_py() > 0
    assert refunds.properties["owner"] == "finance-data@shopco.example"
