"""The record store on Postgres (``store_url``), on a real server (``postgres_support``): the same behaviours as
the SQLite file (records, names, partitions, families, generations published as one update, a killed ingest
resumed, pinned readers kept whole), readers held by leases that expire, and a lake ingested into Postgres
searched and described from another process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from catalog_ingest.ingest import ingest
from catalog_ingest.settings import CatalogConfig, ConfigError, load_settings
from catalog_ingest.store import AmbiguousTable, RecordStore
from catalog_ingest.store_backends import POSTGRES_SCHEMA, IngestBusy, PostgresBackend
from postgres_support import fresh_database, postgres_url  # noqa: F401  (the fixture)
from test_families_lake import build_lake
from test_store import generation_with, record, write_version_2_store

LAKESCOUT = Path(sys.executable).with_name("lakescout")


@pytest.fixture
def store_url(postgres_url):  # noqa: F811
    return fresh_database(postgres_url)


def in_process(script: str) -> subprocess.Popen:
    """Python in another process (a server on another host, as far as the store can tell), lines on stdout."""
    path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": path})  # fmt: skip


def test_records_names_and_partitions_read_as_on_sqlite(store_url):
    store = RecordStore(store_url)
    original = record("demo", "raw", "events", days=5)
    store.put(original)
    store.put(record("demo", "marts", "orders"))
    store.put(record("glue", "finance", "orders"))
    store.put(record("demo", "Raw", "Zeta"))
    again = RecordStore(store_url).get("raw.events")
    assert again == original and again.fingerprint() == original.fingerprint()
    assert [p.record_count for p in store.partitions(original.key, contains="2026-11-0", limit=2)] == [100, 200]
    assert store.partitions(original.key, contains="%") == []  # literal, not a pattern
    assert store.partitions(original.key, contains="_day=2026") != []
    assert store.resolve("RAW.Events") == store.resolve("events") == "demo.raw.events"
    assert store.resolve("glue.finance.orders") == "glue.finance.orders" and store.resolve("nope.nothing") is None
    with pytest.raises(AmbiguousTable, match="demo.marts.orders, glue.finance.orders"):
        store.resolve("orders")
    # ordered bytewise, as SQLite does: upper case before lower case
    assert [t.full_name for t in store.list()] == ["Raw.Zeta", "finance.orders", "marts.orders", "raw.events"]
    assert [t.key for t in store.list(catalog="demo", namespace="marts")] == ["demo.marts.orders"]
    assert store.catalogs() == {"demo", "glue"} and store.count() == 4
    store.put(record("demo", "raw", "events", days=2))
    assert len(store.partitions("demo.raw.events")) == 2
    store.delete("demo.raw.events")
    assert store.get("raw.events") is None and store.partitions("demo.raw.events") == [] and store.count() == 3


def test_a_store_written_before_records_were_compressed_is_upgraded_in_place(store_url):
    events, orders = record("demo", "raw", "events", days=0), record("demo", "marts", "orders", days=0)
    backend = PostgresBackend(store_url)
    conn = backend.connect()
    conn.execute(f"CREATE SCHEMA {POSTGRES_SCHEMA}")
    write_version_2_store(conn, backend.ddl, events, orders)  # such a store has no store_version table
    conn.close()
    store = RecordStore(store_url)
    assert store.get("raw.events") == events and store.get("marts.orders") == orders
    assert store.versions()["demo.raw.events"].fingerprint == events.fingerprint()
    store.put(record("demo", "raw", "events", days=2))
    again = RecordStore(store_url)  # opening an upgraded store again changes nothing
    assert len(again.partitions("demo.raw.events")) == 2 and again.get("marts.orders") == orders
    conn = backend.connect()
    columns = {row[0] for row in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = 'tables'",
        (POSTGRES_SCHEMA,))}  # fmt: skip
    assert "record" in columns and "record_json" not in columns
    assert conn.execute("SELECT version FROM store_version").fetchall() == [(3,)]
    conn.close()


def test_a_generation_is_published_as_one_update(store_url):
    writer, reader = RecordStore(store_url), RecordStore(store_url)
    first = generation_with(writer, record("demo", "raw", "events", days=5))
    writer.begin()
    writer.put(record("demo", "raw", "events", days=1))
    writer.put(record("demo", "raw", "orders"))
    assert writer.pending() and len(writer.partitions("demo.raw.events")) == 1  # the writer sees its generation
    assert reader.count() == 1 and len(reader.partitions("demo.raw.events")) == 5  # readers the served one
    assert writer.publish() and reader.published_generation() == first + 1
    assert reader.count() == 2 and len(reader.partitions("demo.raw.events")) == 1
    writer.begin()
    assert not writer.publish()  # nothing changed: nothing published
    assert RecordStore.published_at(store_url) == first + 1


def test_one_writer_at_a_time_across_hosts(store_url):
    first, second = RecordStore(store_url), RecordStore(store_url)
    first.begin()
    with pytest.raises(IngestBusy, match="another ingest is writing the record store at postgresql://"):
        second.begin()
    first.publish()
    assert second.begin() == first.published_generation() + 1


def test_a_killed_ingest_leaves_the_previous_generation_whole_and_is_resumed(store_url):
    writer = RecordStore(store_url)
    served = generation_with(writer, record("demo", "raw", "events", days=5))
    killed = in_process(f"""
        from catalog_ingest.store import RecordStore
        from test_store import record
        store = RecordStore({store_url!r})
        store.begin()
        for i in range(3):
            store.put(record("demo", "raw", f"new_{{i}}"))
        store.put(record("demo", "raw", "events", days=1))
        print("written", flush=True)
        input()  # killed here, before publishing
    """)
    assert killed.stdout.readline().strip() == "written"
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    reader = RecordStore(store_url)
    assert reader.published_generation() == served and reader.count() == 1
    assert len(reader.partitions("demo.raw.events")) == 5
    resumed = RecordStore(store_url)
    assert resumed.begin() == served + 1  # the killed run's lock went with its session; its rows are resumed
    assert set(resumed.versions()) == {"demo.raw.events", "demo.raw.new_0", "demo.raw.new_1", "demo.raw.new_2"}
    assert resumed.publish() and reader.count() == 4


def test_a_pinned_reader_in_another_process_keeps_its_generation_through_two_ingests(store_url):
    writer = RecordStore(store_url)
    generation_with(writer, record("demo", "raw", "events", days=5), record("demo", "raw", "orders", days=4))
    reader = in_process(f"""
        from catalog_ingest.store import RecordStore
        store = RecordStore({store_url!r}, pinned=True, lease_seconds=2)
        print(store.generation, flush=True)
        input()  # two ingests publish meanwhile, for longer than the lease
        print(len(store.partitions("demo.raw.events")), len(store.partitions("demo.raw.orders")), store.generation, flush=True)
        store.close()
    """)
    pinned = int(reader.stdout.readline())
    generation_with(writer, record("demo", "raw", "events", days=2))
    time.sleep(3)  # past the lease: only its renewals keep it
    generation_with(writer, record("demo", "raw", "orders", days=1))
    assert len(writer.retained_versions()) == 4  # the served versions and the pinned ones (their vectors stay)
    reader.stdin.write("\n")
    reader.stdin.flush()
    assert reader.stdout.readline().split() == ["5", "4", str(pinned)]
    assert reader.wait(timeout=30) == 0
    generation_with(writer, record("demo", "raw", "events", days=3))  # the reader has gone: its rows are collected
    assert writer.retained_versions() == {("demo.raw.events", pinned + 3), ("demo.raw.orders", pinned + 2)}


def test_the_lease_of_a_killed_reader_expires_and_no_longer_holds_rows(store_url):
    writer = RecordStore(store_url)
    generation_with(writer, record("demo", "raw", "events", days=5))
    reader = in_process(f"""
        from catalog_ingest.store import RecordStore
        store = RecordStore({store_url!r}, pinned=True, lease_seconds=3)
        print(store.generation, flush=True)
        input()
    """)
    pinned = int(reader.stdout.readline())
    os.kill(reader.pid, signal.SIGKILL)  # a host that died: nothing ends its registration
    reader.wait(timeout=30)
    generation_with(writer, record("demo", "raw", "events", days=2))
    assert ("demo.raw.events", pinned) in writer.retained_versions()  # still within its lease
    time.sleep(3.5)
    generation_with(writer, record("demo", "raw", "events", days=1))
    assert writer.retained_versions() == {("demo.raw.events", pinned + 2)}
    RecordStore(store_url, pinned=True).close()  # a new reader drops the expired registration
    import psycopg

    with psycopg.connect(store_url) as conn:
        assert conn.execute("SELECT count(*) FROM lakescout.readers").fetchone()[0] == 0


def test_a_reader_that_stalled_past_its_lease_registers_again_and_says_so(store_url):
    import psycopg

    writer = RecordStore(store_url)
    generation_with(writer, record("demo", "raw", "events", days=5))
    reader = in_process(f"""
        import logging
        from catalog_ingest.store import RecordStore
        logging.basicConfig()
        store = RecordStore({store_url!r}, pinned=True, lease_seconds=1.5)
        print(store.generation, flush=True)
        input()
    """)
    pinned = int(reader.stdout.readline())
    os.kill(reader.pid, signal.SIGSTOP)  # a process that stalls (swapped out, a long pause) past its lease
    try:
        time.sleep(2.5)
        generation_with(writer, record("demo", "raw", "events", days=2))
        generation_with(writer, record("demo", "raw", "events", days=1))
        assert writer.retained_versions() == {("demo.raw.events", pinned + 2)}  # its generation was let go
    finally:
        os.kill(reader.pid, signal.SIGCONT)
    deadline = time.monotonic() + 30
    with psycopg.connect(store_url) as conn:
        while not conn.execute("SELECT 1 FROM lakescout.readers WHERE generation = %s AND expires_at > now()",
                               (pinned,)).fetchone():  # fmt: skip
            assert time.monotonic() < deadline, "the reader did not register again"
            time.sleep(0.2)
    _, stderr = reader.communicate("\n", timeout=30)
    assert reader.returncode == 0 and "lease" in stderr and "ran out; registered again" in stderr, stderr


def test_store_url_must_be_a_postgres_url():
    with pytest.raises(ConfigError, match=r"store_url \(LAKESCOUT_STORE_URL\)"):
        load_settings(store_url="sqlite:///records.sqlite")


def test_a_lake_ingested_into_postgres_is_searched_and_described_from_another_process(tmp_path, store_url):
    catalog = CatalogConfig(name="lake", properties=build_lake(tmp_path / "lake"))
    settings = load_settings(data_dir=tmp_path / "data", catalogs=[catalog], store_url=store_url)
    report = ingest(settings)
    assert not report.skipped and not settings.store_path.exists()  # no SQLite file: the records are in Postgres
    store = RecordStore(store_url)
    family = store.family("web.events_YYYYMMDD")
    assert family is not None and len(family.members) == 8
    assert store.family_of("lake.web.events_20240102").key == family.key
    assert "lake.web.events_20240101" in store.member_keys(dated=True)
    assert family.key in store.searchable_versions() and "lake.web.events_20240101" not in store.searchable_versions()

    config = tmp_path / "lakescout.toml"
    properties = ", ".join(f'{key} = "{value}"' for key, value in catalog.properties.items())
    config.write_text(f'data_dir = "{tmp_path / "data"}"\nstore_url = "{store_url}"\n'
                      f'[[catalogs]]\nname = "lake"\nproperties = {{ {properties} }}\n')  # fmt: skip
    env = {**os.environ, "PATH": f"{LAKESCOUT.parent}:{os.environ['PATH']}"}
    command = [str(LAKESCOUT), "--config", str(config)]
    found = subprocess.run([*command, "search", "site events of one day", "--json"], capture_output=True, text=True, env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["full_name"] == "web.events_YYYYMMDD"
    shown = subprocess.run([*command, "catalog", "show", "web.users", "--json"], capture_output=True, text=True, env=env)
    assert shown.returncode == 0, shown.stderr
    assert [c["path"] for c in json.loads(shown.stdout)["columns"]] == ["user_id", "email"]
    asked = subprocess.run([*command, "ask", "describe web.users_v2"], capture_output=True, text=True, env=env)
    assert asked.returncode == 0 and "name" in asked.stdout, asked.stderr
    replica = {**env, "LAKESCOUT_DATA_DIR": str(tmp_path / "replica")}  # a host with a data directory of its own
    shown = subprocess.run([*command, "catalog", "show", "web.events_20240103", "--json"], capture_output=True, text=True, env=replica)
    assert shown.returncode == 0, shown.stderr
    assert "coupon_code" not in shown.stdout and json.loads(shown.stdout)["name"] == "events_20240103"


def test_the_cli_says_in_one_line_that_the_store_s_postgres_is_down(tmp_path):
    from api.loopback import free_port

    url = f"postgresql://lake:secret@127.0.0.1:{free_port()}/lake"
    env = {**os.environ, "LAKESCOUT_STORE_URL": url, "LAKESCOUT_DATA_DIR": str(tmp_path)}
    result = subprocess.run([str(LAKESCOUT), "catalog", "list"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "store_url" in lines[0] and "LAKESCOUT_STORE_URL" in lines[0], result.stderr
    assert "secret" not in result.stderr and "127.0.0.1" in lines[0]
