"""Drift: a real schema evolution of a sample-lake table (pyiceberg), then a re-ingest, re-validates every
verified query over that table: broken ones turn stale with the fix to make, valid ones stay verified."""

from __future__ import annotations

import json

import pytest
from pyiceberg.catalog.sql import SqlCatalog
from typer.testing import CliRunner

from agent.context import AgentContext
from agent.service import LakeAgent
from catalog_ingest.ingest import ingest
from catalog_ingest.settings import Settings, load_settings
from lakescout.cli import app

runner = CliRunner()

PAIRS = {
    "renamed": ("total refunded amount per region", "SELECT region, SUM(amount) AS refunded FROM finance.refunds GROUP BY region"),
    "dropped": ("refunds per currency", "SELECT currency, COUNT(*) AS refunds FROM finance.refunds GROUP BY currency"),
    "valid": ("how many refunds were issued per region?", "SELECT region, COUNT(*) AS refunds FROM finance.refunds GROUP BY region"),
    "other": ("orders per status", "SELECT status, COUNT(*) AS orders FROM marts.orders GROUP BY status"),
}


def teach(settings: Settings, *args: str) -> object:
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "teach", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def drifted(tmp_path_factory) -> tuple[Settings, dict[str, str], list[str]]:
    """A sample lake of its own with four verified pairs; then finance.refunds has ``amount`` renamed to
    ``refund_amount`` and ``currency`` dropped, and the lake is ingested again."""
    from sample.build import build_sample_lake

    data_dir = tmp_path_factory.mktemp("drift")
    build_sample_lake(data_dir / "lake")
    settings = load_settings(data_dir=data_dir)
    ingest(settings)
    ids = {name: teach(settings, "add", question, "--sql", sql)["id"] for name, (question, sql) in PAIRS.items()}
    config = settings.effective_catalogs()[0]
    refunds = SqlCatalog(config.name, **config.properties).load_table("finance.refunds")
    with refunds.update_schema() as update:
        update.rename_column("amount", "refund_amount")
        update.delete_column("currency")
    report = ingest(settings)
    return settings, ids, report.drifted


def test_ingest_reports_the_table_that_drifted(drifted):
    _, _, tables = drifted
    assert tables == ["finance.refunds"]


def test_broken_queries_are_stale_with_the_validators_suggestion(drifted):
    settings, ids, _ = drifted
    stale = {q["id"]: q for q in teach(settings, "--stale")["queries"]}
    assert set(stale) == {ids["renamed"], ids["dropped"]}
    renamed = stale[ids["renamed"]]
    assert renamed["status"] == "stale"
    assert "unknown column amount" in renamed["stale_reason"]
    assert "renamed to refund_amount" in renamed["suggestion"]
    assert "currency was dropped" in stale[ids["dropped"]]["suggestion"]


def test_still_valid_queries_stay_verified_against_the_new_schema(drifted):
    settings, ids, _ = drifted
    every = {q["id"]: q for q in teach(settings)["queries"]}
    assert every[ids["valid"]]["status"] == "verified"
    assert every[ids["valid"]]["tables"][0]["schema_id"] == 1  # re-validated against the evolved schema
    assert every[ids["other"]]["status"] == "verified"
    assert every[ids["other"]]["tables"][0]["schema_id"] == 0


def test_a_stale_query_is_never_served(drifted):
    settings, _, _ = drifted
    agent = LakeAgent(AgentContext.from_settings(settings), checkpointer=settings.data_dir / "threads.sqlite")
    try:
        stale = agent.ask("what is the total refunded amount per region?")
        valid = agent.ask("number of refunds issued per region")
    finally:
        agent.close()
    assert "verified query" not in stale.answer
    assert "SUM(amount)" not in (stale.sql or "")
    assert valid.answer.startswith("Based on a verified query from ")
    assert valid.sql == PAIRS["valid"][1]


def test_a_fixed_stale_query_can_be_approved_again_only_once_it_validates(drifted):
    settings, ids, _ = drifted
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "teach", "approve", ids["dropped"], "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "sql_refused"
    assert {q["id"] for q in teach(settings, "--stale")["queries"]} >= {ids["dropped"]}


def test_any_model_sees_only_served_verified_queries_in_search_results(drifted):
    from langchain.tools import ToolRuntime
    from langchain_core.messages import HumanMessage

    from agent.tools import search_tables

    settings, ids, _ = drifted
    context = AgentContext.from_settings(settings)
    try:
        runtime = ToolRuntime(state={"messages": [HumanMessage("how many refunds were there per region?")]},
                              context=context, config={}, stream_writer=None, tool_call_id="1", store=None)  # fmt: skip
        _, payload = search_tables.func(query="refunds region", runtime=runtime)
    finally:
        context.close()
    shown = {example["id"] for example in payload["verified_queries"]}
    assert ids["valid"] in shown and not shown & {ids["renamed"], ids["dropped"]}
    assert "based on a verified query" in payload["verified_note"]
