"""The sample lake registered in Glue (moto server), ingested, searched, described and queried end to end."""

from __future__ import annotations

import pytest

from agent.service import LakeAgent
from catalog_ingest.ingest import ingest
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import CatalogConfig, load_settings
from catalog_ingest.store import RecordStore
from sample.glue import register_sample_in_glue


@pytest.fixture(scope="module")
def glue_settings(aws_env, tmp_path_factory):
    summary = register_sample_in_glue(endpoint_url=aws_env, bucket="lakescout-e2e")
    catalog = CatalogConfig(
        name="glue",
        type="glue",
        properties={
            "region": "us-east-1",
            "endpoint_url": aws_env,
            "access_key_id": "testing",
            "secret_access_key": "testing",
        },
        include=[f"{db}.*" for db in summary["databases"]],
    )
    settings = load_settings(data_dir=tmp_path_factory.mktemp("glue"), catalogs=[catalog])
    report = ingest(settings)
    assert not report.skipped, report.skipped
    return settings, summary


def test_every_glue_table_kind_is_ingested(glue_settings):
    settings, summary = glue_settings
    store = RecordStore(settings.store_path)
    kinds = {row.full_name: row.kind for row in store.list()}
    for name in summary["iceberg_tables"]:
        assert kinds[name] == "iceberg"
    for name in summary["hive_tables"]:
        assert kinds[name] == "hive"
    for name in summary["views"]:
        assert kinds[name] == "view"
    events = store.get("glue_raw.events")
    assert [c.path for c in events.columns if c.is_partition_key] == ["dt"]
    assert len(events.partitions) == 30
    assert events.totals.record_count == sum(p.record_count for p in events.partitions)


def test_glue_tables_are_searchable(glue_settings):
    settings, _ = glue_settings
    names = [hit.full_name for hit in Retriever(settings).search("refunds by region", k=3)]
    assert {"glue_finance.refunds", "glue_finance.refunds_by_region"} & set(names)


def test_sql_runs_on_s3_tables(glue_settings):
    settings, _ = glue_settings
    agent = LakeAgent.from_settings(settings)
    store = RecordStore(settings.store_path)
    engine = agent.context.engine()
    hive = engine.run("SELECT count(*) AS n FROM glue_raw.events", limit=10)
    assert hive.rows[0][0] == store.get("glue_raw.events").totals.record_count
    iceberg = engine.run("SELECT count(*) AS n FROM glue_finance.refunds", limit=10)
    assert iceberg.rows[0][0] == store.get("glue_finance.refunds").totals.record_count
    pruned = engine.run(
        "SELECT count(*) FROM glue_raw.events WHERE dt = (SELECT max(dt) FROM glue_raw.events)", limit=10
    )
    latest = max(store.get("glue_raw.events").partitions, key=lambda p: p.values["dt"])
    assert pruned.rows[0][0] == latest.record_count
