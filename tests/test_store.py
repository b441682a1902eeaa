"""The record store keeps records exactly and resolves names the way users type them."""

import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timezone

import pytest

from catalog_ingest.records import Column, PartitionField, PartitionSpec, PartitionStat, TableRecord
from catalog_ingest.store import SCHEMA, AmbiguousTable, RecordStore


def record(catalog: str, namespace: str, name: str, days: int = 3) -> TableRecord:
    return TableRecord(
        catalog=catalog,
        namespace=namespace,
        name=name,
        partition_spec=PartitionSpec(spec_id=0, fields=[PartitionField(source_column="ts", transform="day", name="ts_day")]),
        partitions=[
            PartitionStat(
                values={"ts_day": f"2026-11-{d:02d}"},
                record_count=100 * d,
                file_count=d,
                total_bytes=1000 * d,
                last_updated=datetime(2026, 11, d, tzinfo=timezone.utc),
            )
            for d in range(1, days + 1)
        ],
    )


def test_round_trip_keeps_partitions_exact(tmp_path):
    store = RecordStore(tmp_path / "r.sqlite")
    original = record("demo", "raw", "events", days=5)
    store.put(original)
    again = RecordStore(tmp_path / "r.sqlite").get("raw.events")
    assert again == original
    assert again.fingerprint() == original.fingerprint()
    assert [p.record_count for p in store.partitions(original.key, contains="2026-11-0", limit=2)] == [100, 200]
    assert [p.values["ts_day"] for p in store.partitions(original.key, contains="11-05")] == ["2026-11-05"]


def test_partition_filter_is_literal_not_a_pattern(tmp_path):
    store = RecordStore(tmp_path / "r.sqlite")
    store.put(record("demo", "raw", "events"))
    assert store.partitions("demo.raw.events", contains="%") == []
    assert store.partitions("demo.raw.events", contains="_day=2026") != []


def test_resolve_names(tmp_path):
    store = RecordStore(tmp_path / "r.sqlite")
    store.put(record("demo", "raw", "events"))
    store.put(record("demo", "marts", "orders"))
    store.put(record("glue", "finance", "orders"))
    assert store.resolve("raw.events") == "demo.raw.events"
    assert store.resolve("RAW.Events") == "demo.raw.events"
    assert store.resolve("events") == "demo.raw.events"
    assert store.resolve("glue.finance.orders") == "glue.finance.orders"
    assert store.resolve("nope.nothing") is None
    with pytest.raises(AmbiguousTable, match="demo.marts.orders, glue.finance.orders"):
        store.resolve("orders")


def test_replace_and_delete(tmp_path):
    store = RecordStore(tmp_path / "r.sqlite")
    store.put(record("demo", "raw", "events", days=5))
    store.put(record("demo", "raw", "events", days=2))
    assert len(store.partitions("demo.raw.events")) == 2
    assert store.versions("demo")["demo.raw.events"].fingerprint == record("demo", "raw", "events", 2).fingerprint()
    store.delete("demo.raw.events")
    assert store.get("raw.events") is None
    assert store.partitions("demo.raw.events") == []
    assert store.count() == 0


def test_an_error_that_ended_the_transaction_surfaces_itself(tmp_path):
    """SQLite rolls a transaction back itself after some errors (a full disk, an I/O error); the error must
    reach the caller, not 'cannot rollback - no transaction is active' from the store's own ROLLBACK."""
    store = RecordStore(tmp_path / "r.sqlite")
    store.put(record("demo", "raw", "events"))
    with pytest.raises(ValueError, match="the real error"):
        with store._transaction() as conn:
            conn.execute("ROLLBACK")  # what SQLite did on its own
            raise ValueError("the real error")
    store.put(record("demo", "raw", "orders"))
    assert store.count() == 2


def test_concurrent_readers_and_writer(tmp_path):
    store = RecordStore(tmp_path / "r.sqlite")
    store.put(record("demo", "raw", "events"))
    failures = []

    def read():
        try:
            for _ in range(50):
                assert store.get("raw.events") is not None
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for days in range(1, 30):
        store.put(record("demo", "raw", "events", days=days))
    for t in threads:
        t.join()
    assert failures == []


def generation_with(store: RecordStore, *records: TableRecord) -> int:
    store.begin()
    for rec in records:
        store.put(rec)
    store.publish()
    return store.published_generation()


def test_a_pinned_reader_keeps_its_generation_through_later_ingests(tmp_path):
    writer = RecordStore(tmp_path / "r.sqlite")
    generation_with(writer, record("demo", "raw", "events", days=5), record("demo", "raw", "orders", days=4))
    reader = RecordStore(tmp_path / "r.sqlite", pinned=True)  # the API's store, opened on that generation
    generation_with(writer, record("demo", "raw", "events", days=2))  # one ingest replaces events...
    generation_with(writer, record("demo", "raw", "orders", days=1))  # ...the next one orders
    assert len(reader.partitions("demo.raw.events")) == 5  # both old versions still whole for the reader
    assert len(reader.partitions("demo.raw.orders")) == 4
    assert {key for key, _ in writer.retained_versions()} == {"demo.raw.events", "demo.raw.orders"}
    assert len(writer.retained_versions()) == 4  # so their vectors stay too
    reader.close()  # the reader is gone: the next publish collects what only it read
    generation_with(writer, record("demo", "raw", "events", days=3))
    assert writer.retained_versions() == {("demo.raw.events", 4), ("demo.raw.orders", 3)}  # the served ones
    assert len(writer.partitions("demo.raw.orders")) == 1


def test_readers_of_processes_that_died_do_not_hold_rows(tmp_path):
    writer = RecordStore(tmp_path / "r.sqlite")
    generation_with(writer, record("demo", "raw", "events", days=5))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:  # a server that was killed while pinned
        conn.execute("INSERT INTO readers VALUES ('killed', ?, 1)", (int(gone.stdout),))
    generation_with(writer, record("demo", "raw", "events", days=2))
    generation_with(writer, record("demo", "raw", "events", days=1))
    assert writer.retained_versions() == {("demo.raw.events", 3)}  # the killed reader's generation 1 let go
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM readers").fetchone()[0] == 0
    assert RecordStore.published_at(tmp_path / "r.sqlite") == 3
    assert RecordStore.published_at(tmp_path / "missing.sqlite") is None
    assert not (tmp_path / "missing.sqlite").exists()


def write_version_2_store(conn, ddl, *records: TableRecord) -> None:
    """The tables of a store as lakescout wrote them before records were compressed (schema version 2: each
    record's JSON text in ``record_json``), with ``records`` published in generation 1."""
    conn.executescript(ddl(SCHEMA.replace("record BLOB NOT NULL", "record_json TEXT NOT NULL")))
    for rec in records:
        conn.execute(
            "INSERT INTO tables (key, born, catalog, namespace, name, kind, fingerprint, record_json)"
            " VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
            (rec.key, rec.catalog, rec.namespace, rec.name, rec.kind, rec.fingerprint(), rec.model_dump_json()),
        )
    conn.execute("UPDATE generation SET published = 1")


def test_records_are_stored_compressed_and_read_back_exactly(tmp_path):
    wide = record("demo", "raw", "events", days=0).model_copy(
        update={"columns": [Column(path=f"metric_{i}", type="double", comment="A measured value.") for i in range(300)]}
    )
    RecordStore(tmp_path / "r.sqlite").put(wide)
    assert RecordStore(tmp_path / "r.sqlite").get("raw.events") == wide
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:
        (body,) = conn.execute("SELECT record FROM tables").fetchone()
    assert isinstance(body, bytes) and len(body) * 5 < len(wide.model_dump_json())


def test_a_store_of_schema_version_2_is_upgraded_in_place_keeping_its_records(tmp_path):
    events = record("demo", "raw", "events", days=0).model_copy(
        update={"columns": [Column(path=f"metric_{i}", type="double", comment="A measured value.") for i in range(300)]}
    )
    orders = record("demo", "marts", "orders", days=0)
    conn = sqlite3.connect(tmp_path / "r.sqlite", isolation_level=None)
    write_version_2_store(conn, lambda sql: sql, events, orders)
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    store = RecordStore(tmp_path / "r.sqlite")
    assert store.get("raw.events") == events and store.get("marts.orders") == orders
    assert store.versions()["demo.raw.events"].fingerprint == events.fingerprint()  # nothing to re-ingest
    store.put(record("demo", "raw", "events", days=2))
    assert len(RecordStore(tmp_path / "r.sqlite").partitions("demo.raw.events")) == 2
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # vacuumed: the text form's pages gone
        assert "record_json" not in {row[1] for row in conn.execute("PRAGMA table_info(tables)")}
        assert {type(body) for (body,) in conn.execute("SELECT record FROM tables")} == {bytes}
