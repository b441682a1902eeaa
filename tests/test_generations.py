"""One generation per request: while an API ingest job rewrites the record store and the indexes, every
``/v1/tables`` and ``/v1/search`` response is wholly the old generation or wholly the new one."""

from __future__ import annotations

import sqlite3
import subprocess
import time

from fastapi.testclient import TestClient

from api.app import GENERATION_HEADER, create_app
from api_support import ADMIN, USER, VENV_BIN, with_api
from lake_changes import NEW_NAMESPACE, change_lake, copy_lake

NEW_TABLES = 6


def rows_written_after(store_path, generation: int) -> int:
    """Record-store rows of generations after ``generation``: the ingest's work in progress, on disk."""
    with sqlite3.connect(store_path, timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM tables WHERE born > ?", (generation,)).fetchone()[0]


def read(client: TestClient, route: str, on_disk: int) -> tuple[str, int, set[str], int]:
    """One response of ``/v1/tables`` or ``/v1/search``: (route, its generation, the tables it names, on_disk)."""
    response = client.get(f"/v1/{route}", params={"q": "zebra ledger entries", "k": 50}, headers=USER)
    body = response.json()
    names = {t["name"] for t in body["tables"]} if route == "tables" else {h["full_name"] for h in body["hits"]}
    return route, int(response.headers[GENERATION_HEADER]), names, on_disk


def test_every_response_reads_one_generation_during_an_ingest(sample_settings, tmp_path):
    settings = with_api(copy_lake(sample_settings, tmp_path / "data"))
    with TestClient(create_app(settings)) as client:
        first = client.get("/v1/tables", headers=USER)
        old_generation = int(first.headers[GENERATION_HEADER])
        old_tables = {t["name"] for t in first.json()["tables"]}
        dropped = change_lake(settings, NEW_TABLES)
        new_tables = old_tables - {dropped} | {f"{NEW_NAMESPACE}.ledger_{i}" for i in range(NEW_TABLES)}

        job = client.post("/v1/ingest", json={"full": True}, headers=ADMIN).json()
        seen: list[tuple[str, int, set[str], int]] = []  # (route, generation, table names, new rows on disk)
        deadline = time.monotonic() + 600
        while client.get(f"/v1/ingest/{job['job']}", headers=ADMIN).json()["status"] == "running":
            assert time.monotonic() < deadline
            on_disk = rows_written_after(settings.store_path, old_generation)
            seen += [read(client, "tables", on_disk), read(client, "search", on_disk)]
        assert client.get(f"/v1/ingest/{job['job']}", headers=ADMIN).json()["status"] == "succeeded"
        seen += [read(client, "tables", 0), read(client, "search", 0)]

    new_generation = max(generation for _, generation, _, _ in seen)
    assert new_generation > old_generation
    zebras = {name for name in new_tables if name.startswith(f"{NEW_NAMESPACE}.")}
    for route, generation, names, _ in seen:
        assert generation in (old_generation, new_generation)
        if route == "tables":
            assert names == (old_tables if generation == old_generation else new_tables), (route, generation)
        elif generation == old_generation:
            assert not names & zebras, names
        else:
            assert zebras <= names and dropped not in names, names
    mid_ingest = [s for s in seen if s[1] == old_generation and s[3] > 0]
    assert mid_ingest, "no response was read while the ingest's rows were on disk"


def test_the_server_switches_to_a_generation_an_outside_ingest_published(sample_settings, tmp_path):
    settings = copy_lake(sample_settings, tmp_path / "data")
    settings = with_api(settings, follow_ingests_seconds=0.2)
    with TestClient(create_app(settings)) as client:
        first = client.get("/v1/tables", headers=USER)
        old_generation = int(first.headers[GENERATION_HEADER])
        dropped = change_lake(settings, 1)
        cli = subprocess.run([str(VENV_BIN / "lakescout"), "--data-dir", str(settings.data_dir), "ingest"],
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        assert cli.returncode == 0, cli.stderr
        deadline = time.monotonic() + 120
        while int((now := client.get("/v1/tables", headers=USER)).headers[GENERATION_HEADER]) == old_generation:
            assert time.monotonic() < deadline, "the server never served the new generation"
            time.sleep(0.2)
        names = {t["name"] for t in now.json()["tables"]}
        assert f"{NEW_NAMESPACE}.ledger_0" in names and dropped not in names
        hits = client.get("/v1/search", params={"q": "zebra ledger entries"}, headers=USER).json()["hits"]
        assert hits[0]["full_name"] == f"{NEW_NAMESPACE}.ledger_0"
