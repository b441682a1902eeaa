"""The embedded Chroma store's database is vacuumed after an ingest once much of it is free (Chroma purges its
write log into free pages), keeping every vector; a store with few free pages, or a busy one, is left as it is."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing

import numpy as np
import pytest

import catalog_ingest.index
from catalog_ingest.chroma import EMBEDDED_DATABASE, FREE_SHARE_TO_VACUUM, vacuum_embedded_store
from catalog_ingest.documents import documents_for
from catalog_ingest.embeddings import MiniLMEmbedder
from catalog_ingest.index import VectorIndex
from catalog_ingest.ingest import ingest
from catalog_ingest.settings import Settings
from lake_changes import copy_lake
from test_index import catalog


@pytest.fixture
def small_log(monkeypatch):
    """Chroma moves its log into the vector graph (and purges it) every 100 rows instead of every 50,000, so a
    small lake leaves free pages behind as a big one does."""
    monkeypatch.setattr(catalog_ingest.index, "HNSW_CONFIGURATION",
                        catalog_ingest.index.HNSW_CONFIGURATION | {"batch_size": 50, "sync_threshold": 100})  # fmt: skip


def pages(settings: Settings) -> tuple[int, int]:
    """(free pages, pages) of the embedded store's database."""
    with closing(sqlite3.connect(settings.chroma_path / EMBEDDED_DATABASE)) as database:
        return tuple(database.execute(f"PRAGMA {count}").fetchone()[0] for count in ("freelist_count", "page_count"))


def rewritten(settings: Settings, generations: int) -> tuple[VectorIndex, dict[str, int]]:
    """An index whose tables were written ``generations`` times over (random unit vectors), each older version
    deleted; returns it open, with the versions it holds."""
    index = VectorIndex(settings, MiniLMEmbedder())
    records = catalog()
    vectors = np.random.default_rng(14)
    for generation in range(1, generations + 1):
        for record in records:
            documents = [doc for doc in documents_for(record) if doc.in_vectors]
            rows = vectors.normal(size=(len(documents), index.embedder.dim)).astype(np.float32)
            index.replace_tables([record.key], documents, rows / np.linalg.norm(rows, axis=1, keepdims=True), generation)
        index.delete_versions([(record.key, generation - 1) for record in records])
    return index, {record.key: generations for record in records}


def test_a_store_mostly_free_is_vacuumed_and_keeps_its_vectors(tmp_path, small_log):
    settings = Settings(data_dir=tmp_path)
    index, visible = rewritten(settings, generations=10)
    kept = index.all_vectors(visible)
    index.close()
    free, total = pages(settings)
    assert free >= FREE_SHARE_TO_VACUUM * total

    VectorIndex(settings, MiniLMEmbedder()).close(vacuum=True)
    after_free, after_total = pages(settings)
    assert after_free == 0 and after_total <= total - free
    reopened = VectorIndex(settings, MiniLMEmbedder())
    ids, metadatas, matrix = reopened.all_vectors(visible)
    reopened.close()
    assert (ids, metadatas) == kept[:2] and np.array_equal(matrix, kept[2])


def test_a_store_with_few_free_pages_is_left_as_it_is(tmp_path):
    settings = Settings(data_dir=tmp_path)
    index, _ = rewritten(settings, generations=2)
    index.close()
    before = pages(settings)
    assert before[0] < FREE_SHARE_TO_VACUUM * before[1]
    vacuum_embedded_store(settings)
    assert pages(settings) == before


def test_a_busy_store_is_left_for_the_next_ingest(tmp_path, small_log):
    settings = Settings(data_dir=tmp_path)
    index, _ = rewritten(settings, generations=10)
    index.close()
    before = pages(settings)
    with closing(sqlite3.connect(settings.chroma_path / EMBEDDED_DATABASE)) as writer:
        writer.execute("BEGIN EXCLUSIVE")
        vacuum_embedded_store(settings)
    assert pages(settings) == before


def test_a_full_ingest_vacuums_the_embedded_store(sample_settings, tmp_path, small_log):
    lake = copy_lake(sample_settings, tmp_path / "data")
    shutil.rmtree(lake.chroma_path)  # a new collection, with the small log
    for _ in range(3):  # every vector written again and the old ones deleted, each time
        ingest(lake, full=True)
    free, total = pages(lake)
    assert free < FREE_SHARE_TO_VACUUM * total
