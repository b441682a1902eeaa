"""Date-shard families end to end on a real pyiceberg SQL catalog: ingest keeps one family (indexed once,
with real row counts from the members written to), search returns it once, describe, partitions and history
understand the family's name and a member's and say how SQL reads the family, SQL validation accepts a member
and the family (the engine's side of that is tests/test_family_sql.py)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from langchain.tools import ToolRuntime
from pyiceberg.catalog.sql import SqlCatalog

from agent.context import AgentContext
from agent.tools import BUDGET, ToolError, describe_table, list_partitions, search_tables, table_history, validate_sql
from catalog_ingest.ingest import ingest
from catalog_ingest.retrieval import Retriever
from catalog_ingest.settings import CatalogConfig, load_settings
from catalog_ingest.store import RecordStore

DAYS = 8
ODD_DAY = 3
"""The member with one extra column."""
FIRST_DAY = date(2024, 1, 1)
NUMBERED = 10
"""Numbered tables of one schema that make a family (catalog_ingest.families.MIN_NUMBER_MEMBERS)."""


def build_lake(root: Path) -> dict[str, str]:
    properties = {"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}", "warehouse": f"file://{root / 'wh'}"}
    root.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog("lake", **properties)
    catalog.create_namespace("web")
    base = [pa.field("event_id", pa.int64()), pa.field("country", pa.string()), pa.field("revenue", pa.float64())]
    for i in range(DAYS):
        fields = base + ([pa.field("coupon_code", pa.string())] if i == ODD_DAY else [])
        table = catalog.create_table(f"web.events_{FIRST_DAY + timedelta(days=i):%Y%m%d}", schema=pa.schema(fields),
                                     properties={"comment": "site events of one day"})  # fmt: skip
        if i % 2 == 0:
            rows = {"event_id": [1, 2, 3][: 1 + i % 3], "country": ["DE", "US", "FR"][: 1 + i % 3]}
            rows["revenue"] = [1.0, 2.0, 3.0][: 1 + i % 3]
            table.append(pa.table(rows, schema=pa.schema(base)))
    catalog.create_table("web.users", schema=pa.schema([pa.field("user_id", pa.int64()), pa.field("email", pa.string())]))
    catalog.create_table("web.users_v2", schema=pa.schema([pa.field("user_id", pa.int64()), pa.field("name", pa.string())]))
    for i in range(NUMBERED):  # numbered, different schemas: not a family
        catalog.create_table(f"web.report_{i + 1}", schema=pa.schema([pa.field(f"measure_{i}", pa.int64())]))
    for i in range(NUMBERED):  # numbered, one schema: a family
        catalog.create_table(f"web.shard_{i}", schema=pa.schema([pa.field("payload", pa.string())]))
    return properties


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    settings = load_settings(data_dir=root / "data", catalogs=[CatalogConfig(name="lake", properties=build_lake(root / "lake"))])
    report = ingest(settings)
    assert not report.skipped
    return settings, report


@pytest.fixture(scope="module")
def ctx(lake):
    context = AgentContext.from_settings(lake[0])
    yield context
    context.close()


def call(tool, ctx, **args):
    runtime = ToolRuntime(state={}, context=ctx, config={}, stream_writer=None, tool_call_id="1", store=None)
    message = tool.invoke({"type": "tool_call", "id": "1", "name": tool.name, "args": {**args, "runtime": runtime}})
    assert len(message.content) <= BUDGET + 10
    return json.loads(message.content), message.artifact


def test_ingest_keeps_one_family_with_real_totals_and_the_odd_schema(lake):
    settings, report = lake
    store = RecordStore(settings.store_path)
    families = {f.full_name: f for f in store.families()}
    assert set(families) == {"web.events_YYYYMMDD", "web.shard_N"}
    events = families["web.events_YYYYMMDD"]
    members = [store.get(f"web.{m.name}") for m in events.members]
    assert [m.name for m in events.members] == [f"events_{FIRST_DAY + timedelta(days=i):%Y%m%d}" for i in range(DAYS)]
    assert events.totals.record_count == sum(m.totals.record_count for m in members) > 0
    assert events.totals.total_bytes == sum(m.totals.total_bytes for m in members) > 0
    assert [(d.member, d.added, d.missing) for d in events.schema_differences] == [("events_20240104", ["coupon_code"], [])]
    assert events.representative == "events_20240108"
    # every table is still a table of its own; members are served through their family
    assert store.count() == DAYS + 2 + 2 * NUMBERED
    assert "lake.web.report_1" not in store.member_keys() and "lake.web.shard_0" in store.member_keys()
    searchable = store.searchable_versions()
    assert "lake.web.events_YYYYMMDD" in searchable and "lake.web.events_20240101" not in searchable


def test_family_is_indexed_once_and_a_rerun_changes_nothing(lake):
    settings, report = lake
    retriever = Retriever(settings)
    try:
        lexical = retriever._indexes.lexical
        keys = lexical.table_keys()
        assert "lake.web.events_YYYYMMDD" in keys and not any(k.startswith("lake.web.events_2024") for k in keys)
        assert retriever.health() == "ok"
    finally:
        retriever.close()
    again = ingest(settings)
    assert again.documents_embedded == 0 and len(again.unchanged) == DAYS + 2 + 2 * NUMBERED


def test_search_returns_the_family_once_with_its_range(ctx):
    content, artifact = call(search_tables, ctx, query="site events revenue by country", k=10)
    names = [hit["table"] for hit in content["tables"]]
    assert names[0] == "web.events_YYYYMMDD"
    assert not any(name.startswith("web.events_2024") for name in names)
    top = content["tables"][0]
    assert top["first_member"] == "web.events_20240101" and top["last_member"] == "web.events_20240108"
    assert "8 tables" in top["family"] and top["rows"] > 0
    assert artifact["candidates"][0]["family"] == "web.events_YYYYMMDD"
    # a column only the odd member has finds the family; a member named outright is found as itself
    content, _ = call(search_tables, ctx, query="coupon_code", k=3)
    assert content["tables"][0]["table"] == "web.events_YYYYMMDD"
    content, _ = call(search_tables, ctx, query="web.events_20240105", k=3)
    assert content["tables"][0]["table"] == "web.events_20240105"


def test_describe_understands_the_family_and_a_member(ctx):
    family, _ = call(describe_table, ctx, table="web.events_YYYYMMDD")
    assert family["kind"] == "family" and family["members"] == DAYS
    assert [c["name"] for c in family["columns"]] == ["event_id", "country", "revenue"]
    assert family["schema_differences"] == [{"member": "web.events_20240104", "adds": ["coupon_code"]}]
    assert family["newest_members"][0]["table"] == "web.events_20240108"
    member, _ = call(describe_table, ctx, table="web.events_20240104")
    assert member["table"] == "web.events_20240104" and "coupon_code" in [c["name"] for c in member["columns"]]
    assert member["family"] == {"name": "web.events_YYYYMMDD", "range": "8 tables events_20240101 .. events_20240108, one per day",
                                "member": "4 of 8"}  # fmt: skip
    lone, _ = call(describe_table, ctx, table="web.users")
    assert "family" not in lone


def test_partitions_and_history_of_a_family_and_a_member(ctx):
    content, _ = call(list_partitions, ctx, table="web.events_YYYYMMDD", filter="2024-01-03..2024-01-05")
    assert [p["table"] for p in content["partitions"]] == ["web.events_20240105", "web.events_20240104", "web.events_20240103"]
    assert content["partitions"][0]["partition"] == "day=2024-01-05"
    rows = {m.name: m.record_count for m in ctx.store.family("web.events_YYYYMMDD").members}
    assert content["matched_rows"] == sum(rows[f"events_2024010{d}"] for d in (3, 4, 5))
    member, _ = call(list_partitions, ctx, table="web.events_20240101")
    assert member["table"] == "web.events_20240101" and member["family"]["name"] == "web.events_YYYYMMDD"
    history, _ = call(table_history, ctx, table="web.events_YYYYMMDD")
    assert history["members"] == DAYS and history["newest_members"][0]["table"] == "web.events_20240108"
    own, _ = call(table_history, ctx, table="web.events_20240101")
    assert own["snapshot_count"] == 1 and own["family"]["member"] == "1 of 8"


def test_validation_accepts_a_member_and_the_family_and_points_a_wrong_column_at_the_suffix(ctx):
    content, _ = call(validate_sql, ctx, sql="SELECT country, sum(revenue) FROM web.events_20240105 GROUP BY country")
    assert content["ok"] and content["tables"] == ["web.events_20240105"]
    sql = "SELECT count(*) FROM web.events_YYYYMMDD WHERE _table_suffix BETWEEN '20240102' AND '20240103'"
    content, _ = call(validate_sql, ctx, sql=sql)
    assert content["ok"] and content["tables"] == ["web.events_20240102", "web.events_20240103"]
    assert content["families"][0]["members_read"] == 2 and content["sources"][0]["table"] == "web.events_20240102"
    sql = "SELECT count(*) FROM web.events_YYYYMMDD WHERE event_date BETWEEN '2024-01-02' AND '2024-01-03'"
    with pytest.raises(ToolError) as caught:
        call(validate_sql, ctx, sql=sql)
    problem = caught.value.payload["errors"][0]
    assert problem.startswith("unknown column event_date in web.events_YYYYMMDD")
    assert "_table_suffix ('20240101' .. '20240108')" in problem


def test_describe_and_partitions_say_how_sql_reads_the_family(ctx):
    family, _ = call(describe_table, ctx, table="web.events_YYYYMMDD")
    assert "web.events_* (or web.events_YYYYMMDD)" in family["sql"]
    assert "WHERE _table_suffix BETWEEN '20240101' AND '20240108'" in family["sql"]
    partitions, _ = call(list_partitions, ctx, table="web.events_YYYYMMDD")
    assert partitions["sql"] == family["sql"]


def test_a_new_day_extends_the_family_and_a_full_rebuild_keeps_it(tmp_path):
    root = tmp_path / "lake"
    properties = {"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}", "warehouse": f"file://{root / 'wh'}"}
    root.mkdir()
    catalog = SqlCatalog("lake", **properties)
    catalog.create_namespace("app")
    schema = pa.schema([pa.field("session_id", pa.int64()), pa.field("duration_seconds", pa.int64())])
    catalog.create_table("app.sessions_20240101", schema=schema)
    catalog.create_table("app.checkout", schema=pa.schema([pa.field("cart_id", pa.int64())]))
    settings = load_settings(data_dir=tmp_path / "data", catalogs=[CatalogConfig(name="lake", properties=properties)])
    ingest(settings)
    assert RecordStore(settings.store_path).families() == []  # one dated table is not a family

    catalog.create_table("app.sessions_20240102", schema=schema).append(
        pa.table({"session_id": [1, 2], "duration_seconds": [30, 60]}, schema=schema)
    )
    report = ingest(settings)
    assert report.added == ["app.sessions_20240102"] and report.repaired == ["app.sessions_20240101"]  # now a member
    store = RecordStore(settings.store_path)
    (family,) = store.families()
    assert family.full_name == "app.sessions_YYYYMMDD" and family.totals.record_count == 2
    assert [m.name for m in family.members] == ["sessions_20240101", "sessions_20240102"]
    assert "lake.app.sessions_20240101" not in store.searchable_versions()  # it joined the family

    catalog.create_table("app.sessions_20240103", schema=schema)
    report = ingest(settings)
    assert report.added == ["app.sessions_20240103"] and "app.sessions_20240101" in report.unchanged
    assert RecordStore(settings.store_path).family("app.sessions_YYYYMMDD").members[-1].name == "sessions_20240103"
    assert [h.full_name for h in Retriever(settings).search("session duration", k=3)][0] == "app.sessions_YYYYMMDD"

    ingest(settings, full=True)
    retriever = Retriever(settings)
    try:
        assert retriever.health() == "ok"
        assert [h.full_name for h in retriever.search("session duration", k=3)][0] == "app.sessions_YYYYMMDD"
    finally:
        retriever.close()
