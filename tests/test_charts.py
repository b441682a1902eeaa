"""Charts over the ingested sample lake: the Vega-Lite specs hold the record store's own numbers, the API
serves them (auth, 404, OpenAPI), and the terminal draws the same rows as bars."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api_support import USER, with_api
from catalog_ingest.charts import MAX_PARTITION_BARS, VEGA_LITE_SCHEMA, lake_charts, partition_rows, table_charts
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import Settings
from catalog_ingest.sizes import human_bytes
from catalog_ingest.store import RecordStore


@pytest.fixture(scope="module")
def store(sample_settings: Settings) -> Iterator[RecordStore]:
    records = RecordStore(sample_settings.store_path)
    yield records
    records.close()


@pytest.fixture(scope="module")
def events(store: RecordStore) -> TableRecord:
    record = store.get("raw.events")
    assert record is not None
    return record


def by_id(charts) -> dict:
    return {chart.id: chart for chart in charts}


# The spec builders --------------------------------------------------------------------------------------


def test_history_has_one_point_per_snapshot_with_the_summary_totals(events: TableRecord) -> None:
    history = by_id(table_charts(events))["history"]
    values = history.spec["data"]["values"]
    snapshots = sorted(events.snapshots, key=lambda s: s.timestamp)
    assert [v["snapshot_id"] for v in values] == [str(s.snapshot_id) for s in snapshots]
    assert [v["records"] for v in values] == [int(s.summary["total-records"]) for s in snapshots]
    assert [v["bytes"] for v in values] == [int(s.summary["total-files-size"]) for s in snapshots]
    assert [v["files"] for v in values] == [int(s.summary["total-data-files"]) for s in snapshots]
    current = values[-1]
    assert (current["records"], current["bytes"], current["files"]) == (
        events.totals.record_count, events.totals.total_bytes, events.totals.file_count)
    assert history.spec["$schema"] == VEGA_LITE_SCHEMA
    panels = history.spec["vconcat"]
    assert [p["encoding"]["y"]["field"] for p in panels] == ["records", "bytes", "files"]
    assert all(p["encoding"]["x"] == {"field": "time", "type": "temporal", "title": "snapshot committed"}
               for p in panels)


def test_partition_bars_add_up_to_the_table_and_fold_the_smallest_into_one(events: TableRecord) -> None:
    assert len(events.partitions) > MAX_PARTITION_BARS  # 90 days of events
    rows = by_id(table_charts(events))["partitions"].spec["data"]["values"]
    assert len(rows) == MAX_PARTITION_BARS
    assert sum(r["bytes"] for r in rows) == events.totals.total_bytes == sum(p.total_bytes for p in events.partitions)
    assert sum(r["records"] for r in rows) == events.totals.record_count
    assert rows[-1]["partition"] == f"(other {len(events.partitions) - MAX_PARTITION_BARS + 1} partitions)"
    drawn = [r["partition"] for r in rows[:-1]]
    assert drawn == sorted(drawn)  # time order
    smallest_drawn = min(r["bytes"] for r in rows[:-1])
    assert all(p.total_bytes <= smallest_drawn for p in events.partitions
               if f"event_time_day={p.values['event_time_day']}" not in drawn)


def test_every_partition_is_its_own_bar_below_the_limit(store: RecordStore) -> None:
    refunds = store.get("finance.refunds")
    rows = partition_rows(refunds)
    assert len(rows) == len(refunds.partitions) < MAX_PARTITION_BARS
    assert {r["partition"]: r["bytes"] for r in rows} == {
        "/".join(f"{k}={v}" for k, v in p.values.items()): p.total_bytes for p in refunds.partitions}


def test_an_unpartitioned_table_has_history_only(store: RecordStore) -> None:
    assert [c.id for c in table_charts(store.get("marts.customers"))] == ["history"]


def test_lake_overview_counts_every_table_and_byte(store: RecordStore) -> None:
    records = list(store.records())
    newest = max(r.last_updated for r in records)
    charts = by_id(lake_charts(records, now=newest + timedelta(days=3)))
    namespaces = charts["namespaces"].spec["data"]["values"]
    assert sum(n["tables"] for n in namespaces) == len(records) == 29
    assert sum(n["bytes"] for n in namespaces) == sum(r.totals.total_bytes for r in records)
    assert {n["namespace"] for n in namespaces} == {r.namespace for r in records}
    assert [n["bytes"] for n in namespaces] == sorted((n["bytes"] for n in namespaces), reverse=True)
    freshness = charts["freshness"].spec["data"]["values"]
    assert {f["table"] for f in freshness} == {r.full_name for r in records}
    days = {f["table"]: f["days"] for f in freshness}
    for record in records:
        assert days[record.full_name] == round((newest + timedelta(days=3) - record.last_updated).total_seconds() / 86400, 2)
    assert [f["days"] for f in freshness] == sorted(days.values(), reverse=True)


def test_catalog_text_stays_data(events: TableRecord) -> None:
    hostile = events.model_copy(update={"name": "<img src=x onerror=alert(1)>", "comment": "<script>x</script>"})
    for chart in table_charts(hostile):
        text = json.dumps(chart.spec)
        assert "<script>" not in text  # comments are never drawn
        assert chart.spec["title"]["text"].startswith("raw.<img src=x onerror=alert(1)>")  # a plain-text title


# The API ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(sample_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(with_api(sample_settings))) as test_client:
        yield test_client


def test_table_charts_endpoint_serves_the_specs(client: TestClient, events: TableRecord) -> None:
    response = client.get("/v1/tables/raw.events/charts", headers=USER)
    assert response.status_code == 200
    charts = response.json()["charts"]
    assert [c["id"] for c in charts] == ["history", "partitions"]
    assert charts[1]["title"] == "raw.events: partitions by size"
    assert sum(r["bytes"] for r in charts[1]["spec"]["data"]["values"]) == events.totals.total_bytes
    assert charts == [{"id": c.id, "title": c.title, "spec": c.spec} for c in table_charts(events)]


def test_lake_charts_endpoint(client: TestClient) -> None:
    response = client.get("/v1/lake/charts", headers=USER)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["charts"]] == ["namespaces", "freshness"]


def test_chart_endpoints_need_a_key_and_a_known_table(client: TestClient) -> None:
    assert client.get("/v1/lake/charts").status_code == 401
    assert client.get("/v1/tables/raw.events/charts").status_code == 401
    missing = client.get("/v1/tables/raw.nope/charts", headers=USER)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "unknown_table", "message": missing.json()["error"]["message"]}}
    assert "raw.nope" in missing.json()["error"]["message"]


def test_chart_endpoints_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/v1/tables/{name}/charts", "/v1/lake/charts"):
        operation = spec["paths"][path]["get"]
        assert operation["description"]
        assert "404" in operation["responses"] or path == "/v1/lake/charts"
    schema = spec["components"]["schemas"]["ChartsResponse"]
    assert schema["example"]["charts"][0]["spec"]["$schema"] == VEGA_LITE_SCHEMA


# The terminal -------------------------------------------------------------------------------------------


def lakescout(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lakescout", "--data-dir", str(settings.data_dir), *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "160"},
    )


def test_catalog_show_chart_draws_each_snapshot_and_partition(sample_settings: Settings, events: TableRecord) -> None:
    result = lakescout(sample_settings, "catalog", "show", "raw.events", "--chart")
    assert result.returncode == 0, result.stderr
    for snapshot in events.snapshots:
        line = next(line for line in result.stdout.splitlines() if str(snapshot.snapshot_id) in line)
        assert f"{int(snapshot.summary['total-records']):,}" in line
        assert "█" in line
    totals = events.totals
    scale = f"full bar: rows {totals.record_count:,} · bytes {human_bytes(totals.total_bytes)} · data files {totals.file_count}"
    assert scale in result.stdout
    assert "raw.events: partitions by size" in result.stdout
    assert "(other 31 partitions)" in result.stdout


def test_lake_command_draws_namespaces_and_freshness(sample_settings: Settings, store: RecordStore) -> None:
    result = lakescout(sample_settings, "lake")
    assert result.returncode == 0, result.stderr
    raw_line = next(line for line in result.stdout.splitlines() if line.startswith("raw "))
    raw_bytes = sum(r.totals.total_bytes for r in store.records() if r.namespace == "raw")
    assert human_bytes(raw_bytes) in raw_line and "█" in raw_line
    assert "days since the last write, per table" in result.stdout
    assert all(r.full_name in result.stdout for r in store.list())
    as_json = lakescout(sample_settings, "lake", "--json")
    assert [c["id"] for c in json.loads(as_json.stdout)["charts"]] == ["namespaces", "freshness"]
