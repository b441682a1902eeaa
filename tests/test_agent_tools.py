"""Each agent tool against a store of realistic hand-made records: exact facts, budgets, clear errors."""

from __future__ import annotations

import json

import pytest
from agent_lake import INJECTION, StubEngine, make_context, orders
from langchain.tools import ToolRuntime

from agent.tools import (
    BUDGET,
    ToolError,
    describe_table,
    estimate_scan,
    list_partitions,
    run_sql,
    search_tables,
    table_history,
    validate_sql,
)
from catalog_ingest.records import Column
from catalog_ingest.sizes import human_bytes


@pytest.fixture
def engine():
    return StubEngine()


@pytest.fixture
def ctx(tmp_path, engine):
    return make_context(tmp_path, engine)


def call(tool, ctx, **args):
    """Invoke a tool as ToolNode would; returns (content as parsed JSON, artifact)."""
    runtime = ToolRuntime(state={}, context=ctx, config={}, stream_writer=None, tool_call_id="1", store=None)
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": {**args, "runtime": runtime}})
    assert len(message.content) <= BUDGET + 10
    return json.loads(message.content), message.artifact


def test_search_tables_returns_candidates_with_snapshots(ctx):
    content, artifact = call(search_tables, ctx, query="refunds by region")
    assert content["tables"][0]["table"] == "finance.refunds"
    assert "region" in content["tables"][0]["matched_columns"]
    assert artifact["candidates"][0] == {
        "table": "finance.refunds",
        "catalog": "demo",
        "snapshot_id": 7001,
        "as_of": "2026-11-20T06:00:00+00:00",
    }


def test_describe_table_gives_exact_facts_and_fences_metadata(ctx):
    record = orders()
    content, _ = call(describe_table, ctx, table="sales.orders")
    assert content["rows"] == record.totals.record_count
    assert content["size"] == human_bytes(record.totals.total_bytes)
    assert content["partitioning"] == record.partition_spec.describe()
    assert content["snapshot_id"] == record.current_snapshot_id
    assert [c["name"] for c in content["columns"]] == [c.path for c in record.columns]
    assert content["pii_columns"] == ["email"]
    # Catalog-written text only ever appears under metadata_untrusted.
    assert content["metadata_untrusted"]["properties"]["note"] == INJECTION
    assert INJECTION not in json.dumps({k: v for k, v in content.items() if k != "metadata_untrusted"})


def test_unknown_table_names_the_closest_real_one(ctx):
    with pytest.raises(ToolError) as caught:
        call(describe_table, ctx, table="sales.ordrs")
    assert caught.value.payload["did_you_mean"][0] == "sales.orders"
    assert "no table named 'sales.ordrs'" in str(caught.value)


def test_wide_table_is_cut_to_the_budget(ctx):
    wide = orders().model_copy(update={"name": "wide", "columns": [Column(path=f"col_{i:03d}", type="string") for i in range(400)]})
    ctx.store.put(wide)
    content, artifact = call(describe_table, ctx, table="sales.wide")
    assert len(artifact["columns"]) == 400
    assert content["columns_shown"].endswith("of 400")
    narrowed, _ = call(describe_table, ctx, table="sales.wide", columns="col_39")
    assert [c["name"] for c in narrowed["columns"]] == [f"col_39{i}" for i in range(10)]


def test_list_partitions_range_substring_and_totals(ctx):
    stats = orders().partitions
    content, _ = call(list_partitions, ctx, table="sales.orders", filter="2026-11-14..2026-11-20", limit=3)
    week = [s for s in stats if "2026-11-14" <= s.values["order_ts_day"] <= "2026-11-20"]
    assert content["matched"] == 7
    assert content["matched_rows"] == sum(s.record_count for s in week)
    assert [p["partition"] for p in content["partitions"]] == [
        "order_ts_day=2026-11-20",
        "order_ts_day=2026-11-19",
        "order_ts_day=2026-11-18",
    ]
    assert "showing the newest 3 of 7" in content["note"]
    assert content["latest"].startswith("2026-11-20") and content["total_partitions"] == 30
    month, _ = call(list_partitions, ctx, table="sales.orders", filter="2026-11")
    assert month["matched"] == sum(s.values["order_ts_day"].startswith("2026-11") for s in stats)
    open_ended, _ = call(list_partitions, ctx, table="finance.refunds", filter="2026-11-15..")
    assert [p["partition"] for p in open_ended["partitions"]] == ["refunded_at_month=2026-11"]


def test_list_partitions_rejects_a_bad_range(ctx):
    with pytest.raises(ToolError, match="cannot read the range"):
        call(list_partitions, ctx, table="sales.orders", filter="last week..now")


def test_table_history_lists_snapshots_and_schema_changes(ctx):
    record = orders()
    content, _ = call(table_history, ctx, table="orders")
    assert [s["snapshot_id"] for s in content["snapshots"]] == [s.snapshot_id for s in reversed(record.snapshots)]
    assert content["snapshots"][0]["added-records"] == record.snapshots[-1].summary["added-records"]
    assert content["schema_changes"] == [{"schema_id": 1, "changes": ["added column country"]}]


def test_validate_sql_accepts_and_rejects_with_suggestions(ctx):
    content, artifact = call(validate_sql, ctx, sql="SELECT status, count(*) FROM sales.orders WHERE order_ts >= DATE '2026-11-01' GROUP BY 1")
    assert content["ok"] and artifact["sources"][0]["snapshot_id"] == 7002
    with pytest.raises(ToolError) as caught:
        call(validate_sql, ctx, sql="SELECT amout FROM sales.orders")
    assert "did you mean amount" in caught.value.payload["errors"][0]


def test_estimate_scan_prunes_by_partition(ctx):
    everything, _ = call(estimate_scan, ctx, sql="SELECT count(*) FROM sales.orders")
    one_week, _ = call(
        estimate_scan, ctx, sql="SELECT count(*) FROM sales.orders WHERE order_ts >= DATE '2026-11-14' AND order_ts < DATE '2026-11-21'"
    )
    assert everything["files"] == everything["total_files"]
    assert one_week["files"] < everything["files"] and one_week["bytes"] < everything["bytes"]


def test_sql_tools_cite_the_record_the_query_resolved_to_when_two_catalogs_share_a_name(ctx):
    ctx.store.put(orders().model_copy(update={"catalog": "backup"}))
    resolved = ctx.records()["sales.orders"]
    sql = "SELECT status, count(*) AS orders FROM sales.orders WHERE order_ts >= DATE '2026-11-14' GROUP BY 1"
    for sql_tool in (validate_sql, estimate_scan, run_sql):
        _, artifact = call(sql_tool, ctx, sql=sql)
        assert [(s["table"], s["catalog"]) for s in artifact["sources"]] == [("sales.orders", resolved.catalog)]


def test_run_sql_returns_rows_and_reports_engine_errors(ctx, engine):
    content, artifact = call(run_sql, ctx, sql="SELECT status, count(*) AS orders FROM sales.orders GROUP BY 1")
    assert content["rows"] == [["shipped", 812], ["placed", 97]] and artifact["row_count"] == 2
    assert artifact["sources"][0]["table"] == "sales.orders"
    with pytest.raises(ToolError, match="the query failed: Binder Error"):
        call(run_sql, ctx, sql="SELECT broken FROM sales.orders")
    with pytest.raises(ToolError, match="the query failed"):
        call(run_sql, ctx, sql="DROP TABLE sales.orders")
    assert engine.ran == ["SELECT status, count(*) AS orders FROM sales.orders GROUP BY 1", "SELECT broken FROM sales.orders"]


# Against the sample lake: real index, real DuckDB engine, facts read back from the record store.


@pytest.fixture(scope="module")
def lake(sample_settings):
    from agent.context import AgentContext

    return AgentContext.from_settings(sample_settings)


def test_sample_lake_search_and_describe(lake):
    content, _ = call(search_tables, lake, query="refunds by region")
    assert content["tables"][0]["table"] == "finance.refunds"
    record = lake.store.get("marts.orders")
    described, _ = call(describe_table, lake, table="marts.orders")
    assert described["rows"] == record.totals.record_count and described["snapshot_id"] == record.current_snapshot_id


def test_sample_lake_partitions_history_and_pruning(lake):
    record = lake.store.get("raw.events")
    overview, _ = call(list_partitions, lake, table="raw.events", limit=1)
    assert overview["total_partitions"] == record.totals.partition_count
    latest = overview["latest"][:10]
    one_day, _ = call(list_partitions, lake, table="raw.events", filter=f"{latest}..{latest}")
    assert one_day["matched"] == 1 and one_day["partitions"][0]["partition"].endswith(latest)
    history, _ = call(table_history, lake, table="raw.events")
    assert history["current_snapshot_id"] == record.current_snapshot_id
    everything, _ = call(estimate_scan, lake, sql="SELECT count(*) FROM raw.events")
    day, _ = call(estimate_scan, lake, sql=f"SELECT count(*) FROM raw.events WHERE event_time >= DATE '{latest}'")
    assert day["files"] < everything["files"]


def test_sample_lake_run_sql_counts_and_masks_pii(lake):
    record = lake.store.get("marts.orders")
    counted, _ = call(run_sql, lake, sql="SELECT count(*) AS n FROM marts.orders")
    assert counted["rows"] == [[record.totals.record_count]]
    masked, _ = call(run_sql, lake, sql="SELECT email FROM marts.customers", limit=2)
    assert masked["masked_columns"] == ["email"] and masked["rows"] == [["***"], ["***"]]
