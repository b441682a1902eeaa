"""Ingest end to end on real Iceberg catalogs: incremental, failures isolated, interruptions recovered."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.types import StringType
from typer.testing import CliRunner

from catalog_ingest.crawlers.base import CatalogUnreachable
from catalog_ingest.embeddings import MiniLMEmbedder
from catalog_ingest.family_index import searchable_documents
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.ingest import IngestBusy, ingest, ingest_lock
from catalog_ingest.ingest_pipeline import EMBED_GROUP_TABLES
from catalog_ingest.memo_file import load_memo
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import CatalogConfig, load_settings
from catalog_ingest.store import RecordStore
from catalog_ingest.vector_file import load_vector_file
from lakescout.cli import app

TOPICS = ["refund", "invoice", "shipment", "ticket", "campaign", "session", "payout", "review"]


def make_catalog(root: Path, tables: int) -> tuple[SqlCatalog, dict[str, str]]:
    properties = {"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}", "warehouse": f"file://{root / 'wh'}"}
    root.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog("small", **properties)
    catalog.create_namespace("ops")
    for i in range(tables):
        topic = TOPICS[i % len(TOPICS)]
        table = catalog.create_table(
            f"ops.{topic}s_{i}",
            schema=pa.schema(
                [
                    pa.field(f"{topic}_id", pa.int64(), metadata={"doc": f"identifier of the {topic}"}),
                    pa.field("region", pa.string(), metadata={"doc": "sales region"}),
                    pa.field("amount", pa.float64(), metadata={"doc": f"{topic} amount in USD"}),
                ]
            ),
            properties={"comment": f"one row per {topic}"},
        )
        table.append(pa.table({f"{topic}_id": [1, 2], "region": ["EU", "US"], "amount": [1.5, 2.5]}))
    return catalog, properties


def settings_for(tmp_path: Path, properties: dict[str, str], **catalog) -> object:
    return load_settings(
        data_dir=tmp_path / "data", catalogs=[CatalogConfig(name="small", properties=properties, **catalog)]
    )


def search_names(settings, query: str, k: int = 20) -> list[str]:
    return [hit.full_name for hit in Retriever(settings).search(query, k=k)]


def test_sample_lake_ingested_whole(sample_settings):
    store = RecordStore(sample_settings.store_path)
    assert store.count() >= 25
    assert len({row.namespace for row in store.list()}) >= 4
    assert "finance.refunds" in search_names(sample_settings, "refunds by region", k=3)
    again = ingest(sample_settings, dry_run=True)
    assert again.counts()["unchanged"] == store.count() and again.documents_embedded == 0


def test_incremental_reembeds_only_what_changed(tmp_path):
    catalog, properties = make_catalog(tmp_path / "lake", tables=4)
    settings = settings_for(tmp_path, properties)
    first = ingest(settings)
    assert len(first.added) == 4 and first.documents_embedded > 0

    unchanged = ingest(settings)
    assert unchanged.documents_embedded == 0
    assert len(unchanged.unchanged) == 4

    catalog.load_table("ops.invoices_1").append(pa.table({"invoice_id": [3], "region": ["APAC"], "amount": [9.0]}))
    catalog.drop_table("ops.shipments_2")
    second = ingest(settings)
    assert second.changed == ["ops.invoices_1"]
    assert second.removed == ["ops.shipments_2"]
    per_table = first.documents_embedded // 4
    assert second.documents_embedded == per_table

    store = RecordStore(settings.store_path)
    assert store.get("ops.invoices_1").totals.record_count == 3
    assert store.get("ops.shipments_2") is None
    assert "ops.shipments_2" not in search_names(settings, "shipment identifier")
    assert "small.ops.shipments_2" not in LexicalIndex.load(settings.lexical_path).table_keys()


class CountingMiniLM(MiniLMEmbedder):
    """The real model, noting every text it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return super().embed(texts)


def vector_texts(settings) -> set[str]:
    """The texts the served documents' vectors are composed from."""
    store = RecordStore(settings.store_path)
    try:
        return {text for doc in searchable_documents(store) if doc.in_vectors for text in doc.vector_texts}
    finally:
        store.close()


def served_vectors(settings, key: str) -> dict[str, np.ndarray]:
    store = RecordStore(settings.store_path)
    vectors = load_vector_file(settings, MiniLMEmbedder.name, store.generation)
    store.close()
    return {id_: np.asarray(vectors._matrix[i]) for i, id_ in enumerate(vectors._ids) if id_.startswith(key + "::")}


def test_a_changed_table_embeds_only_the_texts_no_earlier_ingest_embedded(tmp_path):
    catalog, properties = make_catalog(tmp_path / "lake", tables=4)
    settings = settings_for(tmp_path, properties)
    ingest(settings)
    before = vector_texts(settings)
    assert len(load_memo(settings, MiniLMEmbedder.name)) == len(before)
    assert load_memo(settings, "openai:text-embedding-3-small") is None

    with catalog.load_table("ops.invoices_1").update_schema() as update:
        update.add_column("clerk_note", StringType(), doc="free text the clerk wrote")
    model = CountingMiniLM()
    report = ingest(settings, embedder=model)
    assert report.changed == ["ops.invoices_1"]
    new = vector_texts(settings) - before
    assert any("clerk_note" in text for text in new)
    assert sorted(model.texts) == sorted(new) and report.texts_embedded == len(new)
    remembered = served_vectors(settings, "small.ops.invoices_1")

    model = CountingMiniLM()
    ingest(settings, full=True, embedder=model)  # --full embeds every text again: the memo is not read
    assert set(model.texts) == vector_texts(settings)
    embedded_again = served_vectors(settings, "small.ops.invoices_1")
    assert remembered.keys() == embedded_again.keys()
    for id_, vector in remembered.items():
        assert np.allclose(vector, embedded_again[id_], atol=2e-3), id_


def test_excluded_tables_leave_the_index(tmp_path):
    _, properties = make_catalog(tmp_path / "lake", tables=3)
    ingest(settings_for(tmp_path, properties))
    narrowed = settings_for(tmp_path, properties, exclude=["ops.refunds_*"])
    report = ingest(narrowed)
    assert report.removed == ["ops.refunds_0"]
    assert "ops.refunds_0" not in search_names(narrowed, "refunds")


def test_unreadable_table_skipped_others_ingested(tmp_path):
    catalog, properties = make_catalog(tmp_path / "lake", tables=3)
    broken = catalog.load_table("ops.invoices_1").metadata_location.removeprefix("file://")
    Path(broken).write_text("{ not json")
    report = ingest(settings_for(tmp_path, properties))
    assert [name for name, _ in report.skipped] == ["ops.invoices_1"]
    assert "ops.invoices_1" in report.skipped[0][1]
    assert sorted(report.added) == ["ops.refunds_0", "ops.shipments_2"]


def test_unreachable_catalog_leaves_index_untouched(tmp_path):
    _, properties = make_catalog(tmp_path / "lake", tables=2)
    settings = settings_for(tmp_path, properties)
    ingest(settings)
    before = sorted(RecordStore(settings.store_path).versions("small").items())
    gone = load_settings(
        data_dir=settings.data_dir,
        catalogs=[
            CatalogConfig(name="small", properties=properties),
            CatalogConfig(name="remote", properties={"type": "rest", "uri": "http://127.0.0.1:9"}),
        ],
        ingest={"retries": 1},
    )
    started = time.monotonic()
    with pytest.raises(CatalogUnreachable, match="remote"):
        ingest(gone)
    assert time.monotonic() - started < 30
    assert sorted(RecordStore(settings.store_path).versions("small").items()) == before
    assert "ops.refunds_0" in search_names(settings, "refund amount")


def test_one_ingest_at_a_time(tmp_path):
    _, properties = make_catalog(tmp_path / "lake", tables=1)
    settings = settings_for(tmp_path, properties)
    with ingest_lock(settings.data_dir), pytest.raises(IngestBusy, match="another ingest"):
        ingest(settings)


TABLES_AFTER = 2 * EMBED_GROUP_TABLES + 20


def test_killed_ingest_keeps_old_index_and_next_run_completes(tmp_path):
    catalog, properties = make_catalog(tmp_path / "lake", tables=6)
    settings = settings_for(tmp_path, properties)
    ingest(settings)
    for i in range(6, TABLES_AFTER):  # past two write groups (EMBED_GROUP_TABLES), so a kill lands between them
        catalog.create_table(f"ops.batch_{i}", schema=pa.schema([pa.field("refund_id", pa.int64())]))
    env = {**os.environ, "LAKESCOUT_CATALOGS": f'[{{"name": "small", "properties": {_json(properties)}}}]'}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lakescout", "--data-dir", str(settings.data_dir), "ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while stored_count(settings.store_path) <= 6 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    partial = stored_count(settings.store_path)
    assert 6 < partial < TABLES_AFTER, f"the ingest was not caught mid-way ({partial} tables stored)"
    assert "ops.refunds_0" in search_names(settings, "refund amount")

    report = ingest(settings)
    assert len(report.added) == TABLES_AFTER - partial
    assert stored_count(settings.store_path) == TABLES_AFTER
    assert f"ops.batch_{TABLES_AFTER - 1}" in search_names(settings, f"batch_{TABLES_AFTER - 1}", k=3)
    assert ingest(settings).documents_embedded == 0


def stored_count(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM tables").fetchone()[0]
    except sqlite3.Error:
        return 0


def _json(value: dict[str, str]) -> str:
    import json

    return json.dumps(value)


def test_cli_ingest_dry_run_and_errors(tmp_path):
    _, properties = make_catalog(tmp_path / "lake", tables=2)
    runner = CliRunner()
    env = {"LAKESCOUT_CATALOGS": f'[{{"name": "small", "properties": {_json(properties)}}}]'}
    data = str(tmp_path / "data")
    dry = runner.invoke(app, ["--data-dir", data, "ingest", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    assert not (tmp_path / "data" / "records.sqlite").exists() or stored_count(tmp_path / "data" / "records.sqlite") == 0

    done = runner.invoke(app, ["--data-dir", data, "ingest"], env=env)
    assert done.exit_code == 0 and "added" in done.output
    shown = runner.invoke(app, ["--data-dir", data, "catalog", "show", "ops.refunds_0", "--json"], env=env)
    assert shown.exit_code == 0 and '"comment": "one row per refund"' in shown.output
    missing = runner.invoke(app, ["--data-dir", data, "catalog", "show", "ops.nope"], env=env)
    assert missing.exit_code == 1 and "catalog list" in missing.output

    bad = runner.invoke(app, ["--data-dir", data, "ingest"], env={"LAKESCOUT_INGEST__CONCURRENCY": "0"})
    assert bad.exit_code == 2 and "LAKESCOUT_INGEST__CONCURRENCY" in bad.output
    unreachable = runner.invoke(
        app,
        ["--data-dir", data, "ingest"],
        env={"LAKESCOUT_CATALOGS": '[{"name": "x", "properties": {"type": "sql", "uri": "sqlite:////nope/c.db"}}]'},
    )
    assert unreachable.exit_code == 1 and "left untouched" in unreachable.output


def test_catalog_removed_from_settings_leaves_the_index(tmp_path):
    _, first = make_catalog(tmp_path / "one", tables=2)
    _, second = make_catalog(tmp_path / "two", tables=1)
    both = load_settings(
        data_dir=tmp_path / "data",
        catalogs=[CatalogConfig(name="small", properties=first), CatalogConfig(name="other", properties={**second, "catalog-name": "small"})],
    )
    assert len(ingest(both).added) == 3
    only_first = load_settings(data_dir=tmp_path / "data", catalogs=[CatalogConfig(name="small", properties=first)])
    report = ingest(only_first)
    assert report.removed == ["ops.refunds_0"]
    assert RecordStore(only_first.store_path).catalogs() == {"small"}
