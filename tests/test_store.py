"""The record store keeps records exactly and resolves names the way users type them."""

import threading
from datetime import datetime, timezone

import pytest

from catalog_ingest.records import PartitionField, PartitionSpec, PartitionStat, TableRecord
from catalog_ingest.store import AmbiguousTable, RecordStore


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
