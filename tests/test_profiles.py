"""Column profiles on the real sample lake: what they say matches the data, PII stays out, budgets hold,
and search, describe, catalog show and validation use them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from langchain.tools import ToolRuntime
from pyiceberg.catalog import load_catalog
from pyiceberg.catalog.sql import SqlCatalog
from typer.testing import CliRunner

from agent.context import AgentContext
from agent.sql.validate import validate_sql
from agent.tools import describe_table
from catalog_ingest.crawlers.iceberg_record import iceberg_record
from catalog_ingest.crawlers.profiles import ProfileLimits
from catalog_ingest.documents import column_documents
from catalog_ingest.ingest import ingest
from catalog_ingest.records import ColumnProfile
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import CatalogConfig, load_settings
from catalog_ingest.store import RecordStore
from lakescout.cli import app


@pytest.fixture(scope="module")
def store(sample_settings) -> RecordStore:
    return RecordStore(sample_settings.store_path)


def sample_catalog(settings):
    lake = settings.data_dir / "lake"
    return load_catalog("demo", type="sql", uri=f"sqlite:///{lake / 'catalog.db'}", warehouse=f"file://{lake / 'warehouse'}")


def duckdb_of(settings, table: str) -> duckdb.DuckDBPyConnection:
    """The table's current snapshot in DuckDB, read through pyiceberg (the data, not the manifests)."""
    return sample_catalog(settings).load_table(table).scan().to_duckdb(table_name="t")


def profile_of(store: RecordStore, table: str, column: str) -> ColumnProfile:
    record = store.get(table)
    profile = next(c.profile for c in record.columns if c.path == column)
    assert profile is not None and profile.snapshot_id == record.current_snapshot_id
    return profile


@pytest.mark.parametrize(
    ("table", "column"),
    [("marts.orders", "total_amount_usd"), ("marts.orders", "campaign_id"), ("marts.orders", "order_ts"),
     ("marts.daily_revenue", "revenue_date"), ("ops.pipeline_runs", "rows_written")],
)  # fmt: skip
def test_counts_and_bounds_match_the_data(sample_settings, store, table, column):
    profile = profile_of(store, table, column)
    rows, nulls, low, high = duckdb_of(sample_settings, table).execute(
        f"SELECT count(*), count(*) - count({column}), min({column}), max({column}) FROM t"
    ).fetchone()
    assert (profile.value_count, profile.null_count) == (rows, nulls)
    if isinstance(low, Decimal):
        assert (Decimal(profile.min), Decimal(profile.max)) == (low, high)
    elif isinstance(low, int):
        assert (profile.min, profile.max) == (low, high)
    else:  # dates and timestamps as ISO text
        assert (profile.min, profile.max) == (low.isoformat(), high.isoformat())
    assert not profile.bounds_truncated and profile.values is None


def test_value_counts_of_a_status_column_match_the_data(sample_settings, store):
    profile = profile_of(store, "ops.pipeline_runs", "status")
    truth = duckdb_of(sample_settings, "ops.pipeline_runs").execute(
        "SELECT status, count(*) FROM t WHERE status IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    assert [(v.value, v.count) for v in profile.values] == truth
    assert profile.values_complete and not profile.many_values
    assert profile.holds("failed") and not profile.holds("FAILED")


def test_high_cardinality_and_long_strings_are_flagged(store):
    run_id = profile_of(store, "ops.pipeline_runs", "run_id")
    assert run_id.many_values and run_id.values is None
    pipeline = profile_of(store, "ops.pipeline_runs", "pipeline")
    assert pipeline.bounds_truncated and pipeline.values_complete  # 'ingest_shop_orders' is cut to 16 characters
    assert max(len(v.value) for v in pipeline.values) > 16


def test_pii_columns_have_counts_but_no_values_or_bounds(store):
    pii = [(record, c) for record in store.records() for c in record.columns if c.pii]
    assert len(pii) >= 10
    for record, column in pii:
        profile = column.profile
        if profile is not None:
            assert (profile.min, profile.max, profile.values) == (None, None, None), (record.full_name, column.path)
        assert "Values:" not in next(d.text for d in column_documents(record) if d.id.endswith("::" + column.path))
    email = profile_of(store, "staging.customers", "email")
    assert email.value_count == 6000 and email.null_count == 0


def test_byte_budget_is_honoured(sample_settings):
    """A budget that fits the first data file's string columns reads that file only: sampled values."""
    table = sample_catalog(sample_settings).load_table("marts.orders")
    files = [f for f in table.inspect.files().to_pylist() if f["content"] == 0]
    assert len(files) > 1
    strings = [f.field_id for f in table.schema().fields if str(f.field_type) == "string"]
    first = dict(files[0]["column_sizes"])
    budget = sum(first[field_id] for field_id in strings)

    def status_profile(limits: ProfileLimits) -> ColumnProfile:
        record = iceberg_record("demo", "marts", "orders", table, 100, limits)
        return next(c.profile for c in record.columns if c.path == "status")

    sampled = status_profile(ProfileLimits(max_bytes=budget, max_distinct=50))
    assert sampled.values_sampled and not sampled.values_complete
    assert sum(v.count for v in sampled.values) == files[0]["record_count"]
    assert status_profile(ProfileLimits(max_bytes=budget - 1, max_distinct=50)).values is None
    complete = status_profile(ProfileLimits())
    assert complete.values_complete and sum(v.count for v in complete.values) == sum(f["record_count"] for f in files)
    # Counts and bounds come from the manifests whatever the budget.
    assert status_profile(ProfileLimits(max_bytes=0)).model_dump(include={"value_count", "min", "max"}) == \
        complete.model_dump(include={"value_count", "min", "max"})  # fmt: skip


@pytest.mark.parametrize(("question", "value"), [("klarna", "klarna"), ("paid with klarna", "klarna"), ("EUR", "EUR"), ("runs that failed", "failed")])
def test_search_finds_a_column_by_one_of_its_values(sample_settings, store, question, value):
    top = Retriever(sample_settings).search(question)[0]
    record = store.get(top.key)
    holding = [c.path for c in record.columns if c.profile and c.profile.holds(value)]
    assert holding and holding[0] in top.matched_columns[:3], (top, holding)


def test_validation_warns_on_a_value_the_column_does_not_hold(sample_settings, store):
    missing = validate_sql("SELECT count(*) FROM ops.pipeline_runs WHERE status = 'faild'", store.get, sample_settings.sql)
    assert missing.ok
    [issue] = missing.warning_issues
    assert (issue.code, issue.identifier, issue.suggestions) == ("unknown_value", "faild", ["failed"])
    assert "'failed'" in issue.message and (issue.line, issue.column) == (1, 46)
    listed = validate_sql("SELECT count(*) FROM marts.orders o WHERE o.currency IN ('EUR', 'EURO')", store.get, sample_settings.sql)
    assert [(i.identifier, i.suggestions[0]) for i in listed.warning_issues] == [("EURO", "EUR")]
    present = validate_sql("SELECT count(*) FROM ops.pipeline_runs WHERE status = 'failed'", store.get, sample_settings.sql)
    assert present.ok and not present.issues


def test_validation_trusts_only_complete_profiles(store, sample_settings):
    record = store.get("ops.pipeline_runs")
    for column in record.columns:
        if column.profile is not None:
            column.profile.values_sampled = True
    result = validate_sql("SELECT count(*) FROM ops.pipeline_runs WHERE status = 'faild'", {"ops.pipeline_runs": record},
                          sample_settings.sql)  # fmt: skip
    assert not result.issues


def test_describe_and_catalog_show_give_the_profile(sample_settings, store):
    context = AgentContext(sample_settings, store, Retriever(sample_settings), lambda records, settings: None)
    runtime = ToolRuntime(state={}, context=context, config={}, stream_writer=None, tool_call_id="1", store=None)
    message = describe_table.invoke({"type": "tool_call", "id": "1", "name": "describe_table",
                                     "args": {"table": "ops.pipeline_runs", "runtime": runtime}})  # fmt: skip
    columns = {c["name"]: c for c in json.loads(message.content)["columns"]}
    assert columns["status"]["profile"]["top_values"] == {"success": 610, "failed": 20}
    assert "sampled" not in columns["status"]["profile"] and columns["status"]["profile"]["distinct"] == 2
    assert columns["rows_written"]["profile"]["nulls"] == 0 and "top_values" not in columns["rows_written"]["profile"]
    shown = CliRunner().invoke(app, ["--data-dir", str(sample_settings.data_dir), "catalog", "show", "ops.pipeline_runs"],
                               env={"COLUMNS": "200"})  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "values: success 610, failed 20" in shown.output


def test_profiles_follow_snapshots_and_a_property_change_reads_no_data(tmp_path):
    """Only a new snapshot recomputes a profile: a property change writes new metadata over the same
    snapshot, and ingest keeps the stored profiles without reading a data file (here they are moved away);
    ``--full`` reads them again."""
    lake = tmp_path / "lake"
    lake.mkdir()
    properties = {"type": "sql", "uri": f"sqlite:///{lake / 'catalog.db'}", "warehouse": f"file://{lake / 'wh'}"}
    catalog = SqlCatalog("small", **properties)
    catalog.create_namespace("ops")
    schema = pa.schema([pa.field("job_id", pa.int64()), pa.field("state", pa.string())])
    for name in ("jobs", "retries"):
        catalog.create_table(f"ops.{name}", schema=schema).append(
            pa.table({"job_id": [1, 2, 3], "state": ["done", "done", "failed"]})
        )
    settings = load_settings(data_dir=tmp_path / "data", catalogs=[CatalogConfig(name="small", properties=properties)])
    assert len(ingest(settings).added) == 2

    def state_values(table: str) -> list[tuple[str, int]]:
        profile = profile_of(RecordStore(settings.store_path), table, "state")
        return [(v.value, v.count) for v in profile.values]

    before = RecordStore(settings.store_path).get("ops.jobs")
    assert state_values("ops.jobs") == [("done", 2), ("failed", 1)]
    jobs = catalog.load_table("ops.jobs")
    with jobs.transaction() as change:
        change.set_properties({"comment": "one row per job"})
    for data_file in jobs.inspect.files().to_pylist():
        path = Path(data_file["file_path"].removeprefix("file://"))
        path.rename(path.with_suffix(".moved"))
    catalog.load_table("ops.retries").append(pa.table({"job_id": [4], "state": ["queued"]}))

    report = ingest(settings)
    assert sorted(report.changed) == ["ops.jobs", "ops.retries"] and not report.skipped
    after = RecordStore(settings.store_path).get("ops.jobs")
    assert after.comment == "one row per job"
    assert [c.profile for c in after.columns] == [c.profile for c in before.columns]
    assert state_values("ops.retries") == [("done", 2), ("failed", 1), ("queued", 1)]

    assert sorted(ingest(settings).unchanged) == ["ops.jobs", "ops.retries"]
    assert [name for name, _ in ingest(settings, full=True).skipped] == ["ops.jobs"]


def test_a_snapshot_with_no_data_files_is_ingested_without_profiles(tmp_path):
    """Appending an empty batch writes a snapshot that lists no manifests; the table is still ingested
    (it was skipped: pyiceberg's files() cannot inspect such a snapshot), with no profiles, and a later
    append profiles it."""
    lake = tmp_path / "lake"
    lake.mkdir()
    properties = {"type": "sql", "uri": f"sqlite:///{lake / 'catalog.db'}", "warehouse": f"file://{lake / 'wh'}"}
    catalog = SqlCatalog("small", **properties)
    catalog.create_namespace("ops")
    rows = pa.table({"job_id": pa.array([1, 2], pa.int64()), "state": ["done", "failed"]})
    table = catalog.create_table("ops.jobs", schema=rows.schema)
    table.append(rows.slice(0, 0))
    assert table.current_snapshot() is not None and not table.current_snapshot().manifests(table.io)
    settings = load_settings(data_dir=tmp_path / "data", catalogs=[CatalogConfig(name="small", properties=properties)])

    report = ingest(settings)
    assert report.added == ["ops.jobs"] and not report.skipped
    record = RecordStore(settings.store_path).get("ops.jobs")
    assert record.current_snapshot_id == table.current_snapshot().snapshot_id
    assert all(c.profile is None for c in record.columns)

    table.append(rows)
    assert ingest(settings).changed == ["ops.jobs"]
    assert [(v.value, v.count) for v in profile_of(RecordStore(settings.store_path), "ops.jobs", "state").values] == [
        ("done", 1), ("failed", 1)]
