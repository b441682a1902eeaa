"""Index faults for real: an ingest process killed (SIGKILL) at each named point leaves one whole generation
served by a retriever opened right after; a Chroma folder deleted under a running server is reported by
/readyz and repaired by the next ingest."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api_support import ADMIN, USER, with_api
from catalog_ingest.documents import documents_for
from catalog_ingest.embeddings import MiniLMEmbedder
from catalog_ingest.faults import KILL_AT_VARIABLE
from catalog_ingest.index import ExactVectors, VectorIndex
from catalog_ingest.ingest import ingest
from catalog_ingest.retrieval import Retriever
from catalog_ingest.store import RecordStore
from lake_changes import NEW_NAMESPACE, change_lake, copy_lake

BEFORE_PUBLISHING = ("vectors-deleted", "vectors-written", "embedding-memo-swapping")
AFTER_PUBLISHING = ("generation-published", "lexical-swapping", "lexical-saved", "vector-file-swapping")


def served_tables(settings) -> tuple[int, set[str]]:
    store = RecordStore(settings.store_path, pinned=True)
    try:
        return store.generation, {record.full_name for record in store.records()}
    finally:
        store.close()


def assert_whole_generation(settings, embedder) -> None:
    """Every table the published generation holds has its vectors and lexical entries, and each table's
    own text finds it by dense search alone (among the top 3: the new ledgers differ only by name)."""
    retriever = Retriever(settings, embedder)
    assert retriever.health() == "ok"
    store = RecordStore(settings.store_path, pinned=True)
    visible = {key: version.generation for key, version in store.versions().items()}
    index = VectorIndex(settings, embedder)
    dense = ExactVectors.load(index, visible)
    index.close()
    for record in store.records():
        text = documents_for(record)[0].text
        assert record.key in {m["table_key"] for _, _, m in dense.query(embedder.embed_query(text), 3)}
        assert any(hit.key == record.key for hit in retriever.search(record.full_name, k=3))
    store.close()


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


@pytest.mark.parametrize("point", BEFORE_PUBLISHING + AFTER_PUBLISHING)
def test_a_kill_at_any_point_leaves_one_whole_generation(point, sample_settings, tmp_path, embedder):
    settings = copy_lake(sample_settings, tmp_path / "data")
    old_generation, old_tables = served_tables(settings)
    dropped = change_lake(settings, new_tables=2)
    # --full replaces every table: a kill inside the first replace is one between a delete and an add
    command = [sys.executable, "-m", "lakescout", "--data-dir", str(settings.data_dir), "ingest"]
    command += ["--full"] if point in BEFORE_PUBLISHING else []
    done = subprocess.run(command, env={**os.environ, KILL_AT_VARIABLE: point}, capture_output=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]

    generation, tables = served_tables(settings)
    if point in BEFORE_PUBLISHING:
        assert (generation, tables) == (old_generation, old_tables)
    else:
        assert generation > old_generation
        assert tables == old_tables - {dropped} | {f"{NEW_NAMESPACE}.ledger_0", f"{NEW_NAMESPACE}.ledger_1"}
    assert_whole_generation(settings, embedder)

    report = ingest(settings)
    assert not report.repaired and not report.skipped
    assert f"{NEW_NAMESPACE}.ledger_1" in served_tables(settings)[1]
    assert Retriever(settings, embedder).health() == "ok"


def test_deleted_chroma_folder_is_reported_and_repaired(sample_settings, tmp_path):
    settings = with_api(copy_lake(sample_settings, tmp_path / "data"))
    tables = RecordStore(settings.store_path).count()
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["checks"]["index"] == "ok"
        shutil.rmtree(settings.chroma_path)
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["index"].startswith("degraded: ")
        assert "folder is missing" in ready.json()["checks"]["index"]

        job = client.post("/v1/ingest", headers=ADMIN).json()
        deadline = time.monotonic() + 600
        while (status := client.get(f"/v1/ingest/{job['job']}", headers=ADMIN).json())["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert status["status"] == "succeeded", status
        assert status["counts"]["repaired"] == tables and status["counts"]["unchanged"] == 0
        assert client.get("/readyz").json()["checks"]["index"] == "ok"
        assert client.get("/v1/search", params={"q": "money given back to customers"}, headers=USER).json()["hits"]
    index = VectorIndex(settings, MiniLMEmbedder())
    assert len(index.table_keys()) == tables  # the vectors are on disk, not in a deleted file
    index.close()


def test_a_server_started_without_vectors_says_degraded(sample_settings, tmp_path):
    settings = with_api(copy_lake(sample_settings, tmp_path / "data"))
    shutil.rmtree(settings.chroma_path)
    tables = RecordStore(settings.store_path).count()
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert f"{tables} tables without vectors" in ready.json()["checks"]["index"]
