"""The index on a Chroma server (HttpClient) instead of the embedded store: ingest, search, incremental."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from catalog_ingest.ingest import ingest
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import CatalogConfig, load_settings
from api.loopback import free_port, wait_http
from tests.test_ingest import make_catalog


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory):
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc.pid)
        yield port
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_ingest_and_search_through_a_chroma_server(tmp_path, chroma_port):
    catalog, properties = make_catalog(tmp_path / "lake", tables=3)
    settings = load_settings(
        data_dir=tmp_path / "data",
        catalogs=[CatalogConfig(name="small", properties=properties)],
        index={"chroma_host": "127.0.0.1", "chroma_port": chroma_port, "collection": "server_test"},
    )
    assert len(ingest(settings).added) == 3
    assert not (settings.chroma_path).exists(), "a configured server must not get an embedded store beside it"
    assert Retriever(settings).search("refund amount", k=1)[0].full_name == "ops.refunds_0"

    catalog.drop_table("ops.refunds_0")
    assert ingest(settings).removed == ["ops.refunds_0"]
    assert "ops.refunds_0" not in [hit.full_name for hit in Retriever(settings).search("refund amount", k=5)]
