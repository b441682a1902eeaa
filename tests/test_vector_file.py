"""The vector file: an ingest writes the served generation's vectors beside the lexical index (copying the
versions an earlier file holds, reading only the others from Chroma), a retriever opens and searches from it
without importing chromadb, with the same hits as from Chroma, and falls back to Chroma when the file is
missing or stale."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from catalog_ingest.dense_bounds import BOUND_BYTES_PER_ROW
from catalog_ingest.embeddings import MiniLMEmbedder
from catalog_ingest.index import VectorIndex
from catalog_ingest.ingest import Ingester, ingest
from catalog_ingest.retrieval import Retriever
from catalog_ingest.saved_dirs import GENERATION_FILE
from catalog_ingest.store import RecordStore
from catalog_ingest.vector_file import (DOCUMENTS_FILE, FLOAT32_MATRIX_FILE, FORMAT, MATRIX_FILE, HeaderText,
                                       has_vector_file, load_vector_file, save_vector_file)
from lake_changes import NEW_NAMESPACE, change_lake, copy_lake

EMBEDDER = MiniLMEmbedder.name
QUESTIONS = ("money given back to customers", "refunds by region", "ad_spend utm_source", "daily revenue")

SEARCH_IN_A_FRESH_PROCESS = """
import json, sys
from pathlib import Path
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import load_settings

retriever = Retriever(load_settings(data_dir=Path(sys.argv[1])))
hits = {q: [[h.key, h.score, h.matched_columns] for h in retriever.search(q, k=8)] for q in json.loads(sys.argv[2])}
print(json.dumps({"chromadb": "chromadb" in sys.modules, "health": retriever.health(), "hits": hits}))
"""


def search_in_fresh_process(settings) -> dict:
    command = [sys.executable, "-c", SEARCH_IN_A_FRESH_PROCESS, str(settings.data_dir), json.dumps(QUESTIONS)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def generation_of(settings) -> int:
    store = RecordStore(settings.store_path, pinned=True)
    try:
        return store.generation
    finally:
        store.close()


@pytest.fixture
def lake(sample_settings, tmp_path):
    return copy_lake(sample_settings, tmp_path / "data")


def test_a_retriever_searches_from_the_vector_file_without_chromadb(lake):
    assert has_vector_file(lake, EMBEDDER, generation_of(lake))
    from_file = search_in_fresh_process(lake)
    assert from_file["chromadb"] is False
    assert from_file["health"] == "ok"
    assert from_file["hits"]["refunds by region"][0][0].endswith("finance.refunds")

    shutil.rmtree(lake.vectors_path)
    from_chroma = search_in_fresh_process(lake)
    assert from_chroma["chromadb"] is True
    assert_same_hits(from_file["hits"], from_chroma["hits"])


def assert_same_hits(from_file: dict, from_chroma: dict) -> None:
    """The same tables in the same order with the same matched columns; scores as close as float16 rows keep
    them (the file rounds Chroma's float32 vectors, which may swap two columns whose scores differ by less)."""
    for question, hits in from_chroma.items():
        assert [(key, sorted(columns)) for key, _, columns in from_file[question]] == \
            [(key, sorted(columns)) for key, _, columns in hits]
        assert np.allclose([score for _, score, _ in from_file[question]], [score for _, score, _ in hits], atol=1e-3)


def test_a_stale_vector_file_falls_back_to_chroma(lake):
    (lake.vectors_path / GENERATION_FILE).write_text(str(generation_of(lake) - 1), encoding="utf-8")
    stale = search_in_fresh_process(lake)
    assert stale["chromadb"] is True and stale["health"] == "ok"
    assert stale["hits"]["refunds by region"][0][0].endswith("finance.refunds")

    ingest(lake)  # nothing changed in the lake: the served generation's vector file is written again
    assert has_vector_file(lake, EMBEDDER, generation_of(lake))
    assert search_in_fresh_process(lake)["chromadb"] is False


def test_a_vector_file_from_another_embedder_is_not_read(lake):
    header_path = lake.vectors_path / DOCUMENTS_FILE
    header = json.loads(header_path.read_text(encoding="utf-8"))
    header_path.write_text(json.dumps(header | {"embedder": "openai:text-embedding-3-small"}), encoding="utf-8")
    assert search_in_fresh_process(lake)["chromadb"] is True


def test_a_vector_file_copied_from_another_chroma_store_is_not_read(lake):
    assert has_vector_file(lake, EMBEDDER, generation_of(lake))
    server = lake.with_section("index", chroma_host="127.0.0.1", chroma_port=8000)
    assert not has_vector_file(server, EMBEDDER, generation_of(lake))


def test_an_ingest_that_publishes_writes_the_new_generations_vectors(lake):
    old_generation = generation_of(lake)
    change_lake(lake, new_tables=1)
    ingest(lake)
    generation = generation_of(lake)
    assert generation > old_generation and has_vector_file(lake, EMBEDDER, generation)
    assert not has_vector_file(lake, EMBEDDER, old_generation)
    retriever = Retriever(lake)
    assert retriever.health() == "ok"
    assert retriever._indexes.vector is None  # searched from the file: no Chroma client held open
    store = RecordStore(lake.store_path, pinned=True)
    assert retriever._indexes.dense.table_keys() == set(store.versions())
    store.close()


class RecordingIndex(VectorIndex):
    """The real Chroma collection, noting which table versions' vectors are read back out of it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.read: list[dict[str, int]] = []

    def vector_pages(self, visible):
        self.read.append(dict(visible))
        return super().vector_pages(visible)


def file_contents(settings, generation: int):
    vectors = load_vector_file(settings, EMBEDDER, generation)
    return vectors._ids, vectors._metadatas, np.asarray(vectors._matrix)


def assert_same_contents(found, expected) -> None:
    """The file holds Chroma's documents, in its order, and its vectors rounded to float16."""
    assert found[0] == expected[0] and found[1] == expected[1]
    assert np.array_equal(found[2], expected[2].astype(np.float16))  # held float32 below the bounds' size


def test_exact_search_holds_what_index_exact_search_mb_allows_and_past_it_says_so(lake):
    """The limit lowered to what the sample lake's vectors need: its vector file is written and searched
    exactly; lowered below that, the next ingest removes the file and dense search says it is approximate."""
    header = json.loads((lake.vectors_path / DOCUMENTS_FILE).read_text(encoding="utf-8"))
    rows, generation = header["rows"], generation_of(lake)
    needed_mb = rows * (2 * header["dim"] + BOUND_BYTES_PER_ROW) / 2**20
    roomy = lake.with_section("index", exact_search_mb=needed_mb)
    shutil.rmtree(lake.vectors_path)
    ingest(roomy)  # nothing changed: the vector file is written again, at exactly the limit
    assert has_vector_file(roomy, EMBEDDER, generation)
    retriever = Retriever(roomy)
    try:
        assert retriever.dense_search() == f"exact: {rows:,} vectors in memory"
        assert retriever._indexes.vector is None
    finally:
        retriever.close()

    tight = lake.with_section("index", exact_search_mb=needed_mb * 0.99)
    assert load_vector_file(tight, EMBEDDER, generation) is None
    ingest(tight)
    assert not has_vector_file(roomy, EMBEDDER, generation)
    retriever = Retriever(tight)
    try:
        described = retriever.dense_search()
        assert described.startswith(f"approximate: {rows:,} vectors, past the ")
        assert "raise index.exact_search_mb to search exactly" in described
        assert retriever.search("refunds by region", k=3)[0].key.endswith("finance.refunds")
    finally:
        retriever.close()


def test_after_a_change_the_vector_file_reads_only_the_new_versions_from_chroma(lake):
    change_lake(lake, new_tables=1)
    ingester = Ingester(lake)
    index = RecordingIndex(lake, ingester.embedder, sole_writer=True)
    ingester._vectors = index
    try:
        ingester.run()
        generation = generation_of(lake)
        served = ingester.store.searchable_versions()
        assert index.read == [{key: g for key, g in served.items() if g == generation}]
        assert any(key.endswith(f"{NEW_NAMESPACE}.ledger_0") for key in index.read[0])
        assert len(index.read[0]) < len(served) / 4
    finally:
        ingester.close()
    reopened = VectorIndex(lake, MiniLMEmbedder())  # the ingest closed its index once it had published
    try:
        assert_same_contents(file_contents(lake, generation), reopened.all_vectors(served))
    finally:
        reopened.close()


def served_versions(settings) -> dict[str, int]:
    store = RecordStore(settings.store_path, pinned=True)
    try:
        return store.searchable_versions()
    finally:
        store.close()


def relabelled(**label):
    def relabel(settings) -> None:
        header_path = settings.vectors_path / DOCUMENTS_FILE
        header = json.loads(header_path.read_text(encoding="utf-8"))
        header_path.write_text(json.dumps(header | label), encoding="utf-8")

    return relabel


def truncated(settings) -> None:
    matrix_path = settings.vectors_path / MATRIX_FILE
    matrix_path.write_bytes(matrix_path.read_bytes()[:-4096])


@pytest.mark.parametrize(
    "spoil",
    [None, relabelled(embedder="openai:text-embedding-3-small"), relabelled(collection="another"), truncated],
    ids=["same", "another-embedder", "another-collection", "truncated"],
)
def test_a_new_vector_file_copies_only_from_an_earlier_one_of_the_same_embedder_and_collection(lake, spoil):
    """Written for the next generation with the same versions served: everything is copied from the earlier
    file, unless that file is labelled with another embedder or collection (or damaged), when all is read
    from Chroma."""
    generation, visible = generation_of(lake), served_versions(lake)
    if spoil:
        spoil(lake)
    index = RecordingIndex(lake, MiniLMEmbedder())
    try:
        expected = index.all_vectors(visible)
        index.read.clear()
        save_vector_file(lake, index, visible, generation + 1)
        assert index.read == [visible if spoil else {}]
        assert_same_contents(file_contents(lake, generation + 1), expected)
    finally:
        index.close()


def rewritten_as_format_2(settings) -> np.ndarray:
    """The saved file turned into the float32 ``.npy`` of format 2 (what the previous lakescout wrote)."""
    header_path = settings.vectors_path / DOCUMENTS_FILE
    header = json.loads(header_path.read_text(encoding="utf-8"))
    rows = np.fromfile(settings.vectors_path / MATRIX_FILE, dtype=np.float16).reshape(header["rows"], header["dim"])
    np.save(settings.vectors_path / FLOAT32_MATRIX_FILE, rows.astype(np.float32))
    (settings.vectors_path / MATRIX_FILE).unlink()
    header = {key: value for key, value in header.items() if key not in ("rows", "dim")} | {"format": 2}
    header_path.write_text(json.dumps(header), encoding="utf-8")
    return rows.astype(np.float32)


def test_a_vector_file_of_the_previous_format_is_read_and_copied_from(lake):
    generation, visible = generation_of(lake), served_versions(lake)
    rows = rewritten_as_format_2(lake)
    assert np.array_equal(file_contents(lake, generation)[2], rows)
    assert search_in_fresh_process(lake)["chromadb"] is False

    index = RecordingIndex(lake, MiniLMEmbedder())
    try:
        save_vector_file(lake, index, visible, generation + 1)
        assert index.read == [{}]  # every row copied from the float32 file
    finally:
        index.close()
    assert json.loads((lake.vectors_path / DOCUMENTS_FILE).read_text(encoding="utf-8"))["format"] == FORMAT
    assert np.array_equal(file_contents(lake, generation + 1)[2], rows)


def test_a_vector_file_of_an_unknown_format_is_not_read(lake):
    relabelled(format=FORMAT + 1)(lake)
    assert not has_vector_file(lake, EMBEDDER, generation_of(lake))
    assert search_in_fresh_process(lake)["chromadb"] is True


def test_a_cut_short_vector_file_is_not_read(lake):
    truncated(lake)
    assert load_vector_file(lake, EMBEDDER, generation_of(lake)) is None
    assert search_in_fresh_process(lake)["chromadb"] is True


def test_a_vector_file_whose_header_lost_its_dimension_is_not_read(lake):
    header_path = lake.vectors_path / DOCUMENTS_FILE
    header = json.loads(header_path.read_text(encoding="utf-8"))
    header_path.write_text(json.dumps({key: value for key, value in header.items() if key != "dim"}), encoding="utf-8")
    assert load_vector_file(lake, EMBEDDER, generation_of(lake)) is None
    assert search_in_fresh_process(lake)["chromadb"] is True


def test_the_header_encoded_a_page_at_a_time_is_the_header_encoded_whole():
    fields = {"format": FORMAT, "embedder": EMBEDDER, "store": "embedded", "collection": "lakescout", "dim": 384}
    pages = [(["a::table::0", "a::col::ü"], [{"table_key": "a", "generation": 1}, {"table_key": "a", "column": "ü"}]),
             ([], []), (["b::table::0"], [{"table_key": "b", "generation": 2}])]  # fmt: skip
    header, out = HeaderText(fields), io.StringIO()
    for ids, metadatas in pages:
        header.add(ids, metadatas)
    header.write(out, 3)
    whole = fields | {"ids": [i for ids, _ in pages for i in ids], "metadatas": [m for _, ms in pages for m in ms], "rows": 3}
    assert out.getvalue() == json.dumps(whole, separators=(",", ":"))
    empty = io.StringIO()
    HeaderText(fields).write(empty, 0)
    assert json.loads(empty.getvalue()) == fields | {"ids": [], "metadatas": [], "rows": 0}
