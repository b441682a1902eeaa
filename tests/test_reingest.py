"""A re-ingest after some tables changed (one a family's member), one was dropped and one added: every index
and store it updates table by table ends as a full ingest of the changed lake builds them, and it reads
only the records it wrote for the drift checks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from bench.scale_lake import CATALOG_NAME, LakeShape, change_tables, generate_lake
from catalog_ingest import semantic_drift, store_encoding
from catalog_ingest.embeddings import MiniLMEmbedder
from catalog_ingest.index import FEW_WRITES_SYNC_THRESHOLD, HNSW_CONFIGURATION, VectorIndex
from catalog_ingest.ingest import ingest
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.semantic_drift import read_state
from catalog_ingest.settings import CatalogConfig, Settings
from catalog_ingest.store import RecordStore
from catalog_ingest.vector_file import load_vector_file

QUERIES = ("order_id created_at", "refund amount by country", "session duration", "zebra stripe count", "events per day")


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def reingested(tmp_path_factory, embedder):
    """(settings re-ingested after the changes, settings of a full ingest of the changed lake, the tables
    changed, the records the re-ingest's drift checks read)."""
    root = tmp_path_factory.mktemp("reingest")
    generated = generate_lake(root / "lake", LakeShape(tables=20, seed=3, shard_share=0.5, shard_family_size=(7, 9)))
    config = [CatalogConfig(name=CATALOG_NAME, properties=generated.properties)]
    again, whole = Settings(data_dir=root / "again", catalogs=config), Settings(data_dir=root / "whole", catalogs=config)
    ingest(again, embedder=embedder)
    store = RecordStore(again.store_path)
    members = sorted(store.member_keys())
    store.close()
    assert members, "the generated lake holds a family"
    plain = sorted(name for name in generated.tables if f"{CATALOG_NAME}.{name}" not in members)
    catalog = SqlCatalog(CATALOG_NAME, **generated.properties)
    catalog.drop_table(plain[0])
    schema = pa.schema([pa.field("zebra_id", pa.int64()), pa.field("stripe_count", pa.int64())])
    catalog.create_table(f"{plain[1].split('.')[0]}.zebra_ledger", schema=schema)
    catalog.engine.dispose()
    changed = change_tables(generated.properties, [members[0].split(".", 1)[1]], share=1.0)
    changed += change_tables(generated.properties, plain[2:], share=0.2, seed=5)
    read: list[str] = []
    drift_checks = [False]

    def counted(body):
        record = store_encoding.decode_record(body)
        if drift_checks[0]:
            read.append(record.key)
        return record

    def revalidate(*args, **kwargs):
        drift_checks[0] = True
        try:
            return semantic_drift.revalidate_after_publish(*args, **kwargs)
        finally:
            drift_checks[0] = False

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("catalog_ingest.store.decode_record", counted)
        patch.setattr("catalog_ingest.ingest.revalidate_after_publish", revalidate)
        report = ingest(again, embedder=embedder)
    assert sorted(report.changed) == sorted(changed) and report.added and report.removed
    ingest(whole, embedder=embedder)
    return again, whole, changed, read


def contents(settings: Settings) -> tuple[list[dict], list[dict], dict[str, int]]:
    store = RecordStore(settings.store_path)
    try:
        records = [r.model_dump(mode="json") for r in store.records(with_partitions=True)]
        families = [f.model_dump(mode="json") for f in store.families()]
        return records, families, {key: v.generation for key, v in store.versions().items()}
    finally:
        store.close()


def test_the_store_and_families_are_what_a_full_ingest_gives(reingested):
    again, whole, _, _ = reingested
    (records, families, _), (full_records, full_families, _) = contents(again), contents(whole)
    assert records == full_records and families == full_families


def test_search_indexes_are_what_a_full_ingest_gives(reingested, embedder):
    again, whole, _, _ = reingested
    lexical, full_lexical = LexicalIndex.load(again.lexical_path), LexicalIndex.load(whole.lexical_path)
    assert lexical.table_metadata() == full_lexical.table_metadata()
    assert lexical.columns_by_table() == full_lexical.columns_by_table()
    for query in QUERIES:
        assert lexical.search(query, 50) == full_lexical.search(query, 50)
    vectors = [load_vector_file(s, embedder.name, RecordStore.published_at(s.store_path)) for s in (again, whole)]
    assert all(v is not None for v in vectors)
    for query in QUERIES:
        vector = embedder.embed([query])[0]
        hits = [[(doc, round(score, 5), meta["table_key"]) for doc, score, meta in v.query(vector, 20)] for v in vectors]
        assert hits[0] == hits[1]


def test_drift_checks_read_only_the_records_written_and_keep_every_schema_id(reingested):
    again, whole, changed, read = reingested
    state, full_state = read_state(again.data_dir), read_state(whole.data_dir)
    _, _, versions = contents(again)
    assert state.schema_ids == full_state.schema_ids and state.generations == versions
    written = {key for key, generation in versions.items() if generation == max(versions.values())}
    assert {f"{CATALOG_NAME}.{name}" for name in changed} <= written and sorted(read) == sorted(written)


def test_a_reingest_has_chroma_write_its_graph_often_and_a_full_ingest_seldom(reingested, embedder):
    again, whole, _, _ = reingested
    for settings, rows in ((again, FEW_WRITES_SYNC_THRESHOLD), (whole, HNSW_CONFIGURATION["sync_threshold"])):
        index = VectorIndex(settings, embedder)
        try:
            assert index._collection.configuration["hnsw"]["sync_threshold"] == rows
        finally:
            index.close()
