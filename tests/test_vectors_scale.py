"""Vectors at scale: continuation chunks composed from column phrases and headers, none for wide tables' column documents, searched
exactly (top-k equal to brute force) on a generated lake of real shape; the lexical index updated table by table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from bench.scale_lake import CATALOG_NAME, LakeShape, change_tables, generate_lake
from catalog_ingest.documents import COLUMN_VECTORS_MAX_COLUMNS, WIDE_CHUNKS_PER_VECTOR, documents_for
from catalog_ingest.embeddings import MiniLMEmbedder, l2_normalise
from catalog_ingest.index import ExactVectors, VectorIndex
from catalog_ingest.family_index import lexical_index
from catalog_ingest.ingest import ingest
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.settings import CatalogConfig, Settings
from catalog_ingest.store import RecordStore


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.fixture(scope="module")
def lake(tmp_path_factory, embedder):
    """A small generated lake (wide and narrow tables, date shards, descriptions), ingested."""
    root = tmp_path_factory.mktemp("scale")
    generated = generate_lake(root / "lake", LakeShape(tables=14, seed=3))
    settings = Settings(data_dir=root / "data", catalogs=[CatalogConfig(name="scale", properties=generated.properties)])
    ingest(settings, embedder=embedder)
    return settings, generated


def stored(settings: Settings) -> tuple[list, dict[str, int]]:
    store = RecordStore(settings.store_path)
    try:
        visible = {key: version.generation for key, version in store.versions().items()}
        return list(store.records()), visible
    finally:
        store.close()


def expected_vector(embedder: MiniLMEmbedder, parts: tuple[str, ...]) -> np.ndarray:
    """First part plus the rest pooled to one unit vector, normalised: written out from the definition."""
    vectors = embedder.embed(list(parts))
    if len(parts) == 1:
        return vectors[0]
    rest = vectors[1:].sum(axis=0)
    return l2_normalise((vectors[0] + rest / np.linalg.norm(rest))[None, :])[0]


def test_vectors_are_composed_from_headers_and_column_phrases(lake, embedder):
    settings, _ = lake
    records, visible = stored(settings)
    index = VectorIndex(settings, embedder)
    try:
        ids, metadatas, matrix = index.all_vectors(visible)
    finally:
        index.close()
    by_id = dict(zip(ids, matrix))
    documents = [doc for record in records for doc in documents_for(record)]
    wide = {record.key for record in records if len(record.columns) > COLUMN_VECTORS_MAX_COLUMNS}
    assert wide and len(wide) < len(records), "the generated lake holds wide and narrow tables"
    assert set(by_id) == {doc.id for doc in documents if doc.in_vectors}
    for doc in documents:
        is_wide = doc.metadata["table_key"] in wide
        if doc.metadata["kind"] == "column":
            assert doc.in_vectors == doc.in_lexical == (not is_wide)
            continue
        chunk_number = int(doc.id.rpartition("::")[2])
        # a wide table's continuation chunks share one vector per WIDE_CHUNKS_PER_VECTOR
        assert doc.in_vectors == (not is_wide or chunk_number % WIDE_CHUNKS_PER_VECTOR == 1 or chunk_number == 0)
        if doc.in_vectors and chunk_number > 0:
            assert len(doc.vector_texts) > 1, "a continuation chunk is composed, not embedded as one long text"
    chunk = next(doc for doc in documents if doc.id.endswith("::table::1") and doc.metadata["table_key"] in wide)
    column = next(doc for doc in documents if doc.metadata["kind"] == "column" and doc.in_vectors)
    for doc in (chunk, column):
        # the memo keeps float16 vectors: equal to about 1e-3
        assert float(by_id[doc.id] @ expected_vector(embedder, doc.vector_texts)) > 0.999
    assert len(chunk.vector_texts) > 2 and chunk.vector_texts[0].startswith("Iceberg table")


def test_exact_search_returns_the_brute_force_top_k(lake, embedder):
    settings, _ = lake
    _, visible = stored(settings)
    index = VectorIndex(settings, embedder)
    try:
        exact = ExactVectors.load(index, visible)
        ids, metadatas, matrix = index.all_vectors(visible)
    finally:
        index.close()
    namespaces = sorted({str(m["namespace"]) for m in metadatas})
    held = matrix.astype(exact._matrix.dtype).astype(np.float32)  # float16 rows once there are enough for bounds
    for question in ("refund amount by country", "daily sessions per device platform", "customer email address"):
        query = embedder.embed_query(question)
        scores = held @ query
        for namespace in (None, namespaces[0]):
            allowed = [i for i, m in enumerate(metadatas) if namespace is None or m["namespace"] == namespace]
            brute = sorted(allowed, key=lambda i: -scores[i])[:10]
            hits = exact.query(query, 10, namespace)
            assert [doc_id for doc_id, _, _ in hits] == [ids[i] for i in brute]
            assert np.allclose([score for _, score, _ in hits], scores[brute], atol=1e-6)


@pytest.fixture
def lake_with_family(tmp_path, embedder):
    """A generated lake holding a date family (half its tables are shards), ingested."""
    shape = LakeShape(tables=20, seed=3, shard_share=0.5, shard_family_size=(7, 9))
    generated = generate_lake(tmp_path / "lake", shape)
    settings = Settings(data_dir=tmp_path / "data", catalogs=[CatalogConfig(name="scale", properties=generated.properties)])
    ingest(settings, embedder=embedder)
    return settings, generated


def test_a_reingest_updates_the_lexical_index_to_what_a_rebuild_gives(lake_with_family, embedder):
    """Changed tables (one a family's member, so its family's documents change too), a dropped table and a
    new one: the ingest updates the saved index table by table, and it equals the index built whole."""
    settings, generated = lake_with_family
    store = RecordStore(settings.store_path)
    try:
        members, before = store.member_keys(), LexicalIndex.load(settings.lexical_path).table_versions()
    finally:
        store.close()
    assert members, "the generated lake holds a family"
    member = sorted(members)[0].split(".", 1)[1]
    plain = sorted(name for name in generated.tables if f"{CATALOG_NAME}.{name}" not in members)
    namespace = plain[1].split(".")[0]
    catalog = SqlCatalog(CATALOG_NAME, **generated.properties)
    catalog.drop_table(plain[0])
    schema = pa.schema([pa.field("zebra_id", pa.int64()), pa.field("stripe_count", pa.int64())])
    catalog.create_table(f"{namespace}.zebra_ledger", schema=schema)
    catalog.engine.dispose()
    change_tables(generated.properties, [member], share=1.0)
    change_tables(generated.properties, plain[2:], share=0.15, seed=5)

    report = ingest(settings, embedder=embedder)
    assert report.added == [f"{namespace}.zebra_ledger"] and report.removed == [plain[0]]
    assert member in report.changed and len(report.changed) > 1 and report.unchanged
    store = RecordStore(settings.store_path)
    try:
        rebuilt = lexical_index(store)
        served = store.searchable_versions()
        saved_versions = LexicalIndex.saved_table_versions(settings.lexical_path, str(store.published_generation()))
        families = store.family_versions()
    finally:
        store.close()
    assert any(before.get(key) != version.generation for key, version in families.items())
    saved = LexicalIndex.load(settings.lexical_path)
    assert saved.count() == rebuilt.count() and saved.table_metadata() == rebuilt.table_metadata()
    assert saved.columns_by_table() == rebuilt.columns_by_table()
    assert saved.words_by_namespace() == rebuilt.words_by_namespace()
    for query in ("order_id created_at", "refund amount by country", "session duration", "zebra stripe count"):
        for within in (None, namespace):
            assert saved.search(query, 50, within) == rebuilt.search(query, 50, within)
    assert saved.search("zebra stripe count", 1)[0][2]["table_key"] == f"{CATALOG_NAME}.{namespace}.zebra_ledger"
    assert f"{CATALOG_NAME}.{plain[0]}" not in saved.table_keys()
    assert saved_versions == saved.table_versions() == served  # the small tables file a no-change ingest checks


def test_a_wide_family_has_the_vectors_a_wide_table_has(tmp_path, embedder):
    """A date family of wide members: its column documents have no vectors and its continuation chunks share
    one per four, as a wide table's do (once, every column document and chunk had one)."""
    properties = {"type": "sql", "uri": f"sqlite:///{tmp_path / 'catalog.db'}", "warehouse": f"file://{tmp_path / 'wh'}"}
    catalog = SqlCatalog("wide", **properties)
    catalog.create_namespace("web")
    schema = pa.schema([pa.field(f"metric_{i}_total", pa.int64()) for i in range(COLUMN_VECTORS_MAX_COLUMNS + 100)])
    for day in ("20240101", "20240102", "20240103"):
        catalog.create_table(f"web.clicks_{day}", schema=schema)
    catalog.engine.dispose()
    settings = Settings(data_dir=tmp_path / "data", catalogs=[CatalogConfig(name="wide", properties=properties)])
    ingest(settings, embedder=embedder)
    store = RecordStore(settings.store_path)
    try:
        visible = store.searchable_versions()
    finally:
        store.close()
    index = VectorIndex(settings, embedder)
    try:
        ids, _, _ = index.all_vectors(visible)
    finally:
        index.close()
    family_ids = [doc_id for doc_id in ids if doc_id.startswith("wide.web.clicks_YYYYMMDD::")]
    chunks = sorted(int(doc_id.rpartition("::")[2]) for doc_id in family_ids)
    assert family_ids and not any("::col::" in doc_id for doc_id in family_ids)
    assert chunks[:2] == [0, 1] and all(n == 0 or n % WIDE_CHUNKS_PER_VECTOR == 1 for n in chunks)
