"""Drift of the semantic layer: a real schema evolution of a sample-lake table (pyiceberg), then a re-ingest,
re-validates every layer entry touching that table: broken ones are listed as stale beside stale verified
queries (CLI and a real server) with the fix to make; valid ones stay in use."""

from __future__ import annotations

import json

import pytest
from pyiceberg.catalog.sql import SqlCatalog
from typer.testing import CliRunner

from agent.context import AgentContext
from api_support import USER
from catalog_ingest.ingest import ingest
from catalog_ingest.semantic_drift import stale_entries
from catalog_ingest.settings import Settings, load_settings
from lakescout.cli import app
from test_verified_api import serving

runner = CliRunner()

METRIC = "metric 'refunded amount'"
TERM = "term 'refund reason'"


def teach(settings: Settings, *args: str) -> dict:
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "teach", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def drifted(tmp_path_factory) -> tuple[Settings, list[str], list[str]]:
    """A sample lake of its own with the sample layer and one verified pair; then finance.refunds has
    ``amount_usd`` renamed to ``refund_amount_usd`` and ``reason`` dropped, and the lake is ingested again.
    Returns the settings, the entries the first ingest found stale (none) and those the second found."""
    from sample.build import build_sample_lake
    from sample.layer import install_sample_layer

    data_dir = tmp_path_factory.mktemp("semantic_drift")
    build_sample_lake(data_dir / "lake")
    install_sample_layer(data_dir)
    settings = load_settings(data_dir=data_dir)
    first = ingest(settings).semantic_stale
    teach(settings, "add", "refunds per currency", "--sql",
          "SELECT currency, COUNT(*) AS refunds FROM finance.refunds WHERE reason IS NOT NULL GROUP BY currency")  # fmt: skip
    config = settings.effective_catalogs()[0]
    refunds = SqlCatalog(config.name, **config.properties).load_table("finance.refunds")
    with refunds.update_schema() as update:
        update.rename_column("amount_usd", "refund_amount_usd")
        update.delete_column("reason")
    return settings, first, ingest(settings).semantic_stale


def test_the_ingest_lists_the_entries_the_schema_change_broke(drifted):
    _, first, second = drifted
    assert first == []
    assert second == [METRIC, TERM]


def test_teach_stale_lists_broken_entries_beside_stale_queries_with_the_fix(drifted):
    settings, _, _ = drifted
    listing = teach(settings, "--stale")
    assert [q["question"] for q in listing["queries"]] == ["refunds per currency"]
    entries = {e["entry"]: e for e in listing["semantic_entries"]}
    assert set(entries) == {METRIC, TERM}
    metric = entries[METRIC]
    assert metric["kind"] == "metric" and metric["tables"] == ["finance.refunds"] and metric["status"] == "stale"
    assert "column finance.refunds.amount_usd does not exist" in metric["stale_reason"]
    assert "dimension finance.refunds.reason does not exist" in metric["stale_reason"]
    assert "amount_usd of finance.refunds was renamed to refund_amount_usd" in metric["suggestion"]
    assert "reason was dropped" in metric["suggestion"]
    assert entries[TERM]["suggestion"] == "column reason was dropped from finance.refunds"
    assert metric["schema_ids"] == {"demo.finance.refunds": 0}  # what it last validated against


def test_teach_stale_in_text_names_the_entries_and_the_fix(drifted):
    settings, _, _ = drifted
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "teach", "--stale"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "2 stale semantic-layer entries" in result.output
    assert "refunded amount" in result.output and "refund_amount_usd" in result.output


def test_still_valid_entries_of_the_table_stay_in_use_and_broken_ones_are_left_out(drifted):
    settings, _, _ = drifted
    context = AgentContext.from_settings(settings)
    try:
        layer = context.semantic.layer
    finally:
        context.close()
    assert layer is not None
    assert "refunded amount" not in {m.name for m in layer.metrics}
    terms = {t.name for t in layer.terms}
    assert "refund" in terms and "refund reason" not in terms
    assert any(r.source == "finance.refunds.order_id" for r in layer.relationships)


def test_the_stale_listing_is_served_by_the_api_beside_stale_queries(drifted, tmp_path):
    settings, _, _ = drifted
    with serving(settings, tmp_path / "data") as api:
        stale = api.get("/v1/verified", params={"stale": "true"}, headers=USER)
        assert stale.status_code == 200, stale.text
        body = stale.json()
        assert [q["status"] for q in body["queries"]] == ["stale"]
        assert {e["entry"] for e in body["semantic_entries"]} == {METRIC, TERM}
        by_table = api.get("/v1/verified", params={"stale": "true", "table": "marts.orders"}, headers=USER).json()
        assert by_table["semantic_entries"] == []
        assert api.get("/v1/verified", params={"stale": "false"}, headers=USER).json()["semantic_entries"] == []


def test_an_entry_fixed_in_the_layer_file_is_no_longer_stale(drifted, tmp_path):
    from lake_changes import copy_lake

    settings = copy_lake(drifted[0], tmp_path / "fixed")
    layer_file = settings.data_dir / "semantic.yaml"
    layer_file.write_text(layer_file.read_text(encoding="utf-8").replace("SUM(amount_usd)", "SUM(refund_amount_usd)")
                          .replace("dimensions: [region, country, reason, status, currency]",
                                   "dimensions: [region, country, status, currency]"), encoding="utf-8")  # fmt: skip
    assert [e.entry for e in stale_entries(settings)] == [TERM]  # the edited metric is another entry now
    assert ingest(settings).semantic_stale == [TERM]


def test_describe_stays_whole_json_with_the_shipped_layer(drifted):
    """marts.orders has more sample-layer entries than fit a tool result: some are left out, never the JSON cut."""
    from langchain.tools import ToolRuntime

    from agent.tools import describe_table

    context = AgentContext.from_settings(drifted[0])
    try:
        runtime = ToolRuntime(state={"messages": []}, context=context, config={}, stream_writer=None, tool_call_id="1", store=None)
        content, _ = describe_table.func(table="marts.orders", runtime=runtime)
    finally:
        context.close()
    shown = json.loads(content)
    assert shown["table"] == "marts.orders"
    assert shown["semantic"]["metrics"] and shown["semantic"]["relationships"]
    assert shown["semantic"]["note"] == "more layer entries touch this table than fit here"


def test_lakescout_ingest_names_the_stale_entries(drifted, tmp_path):
    from lake_changes import copy_lake

    settings = copy_lake(drifted[0], tmp_path / "again")
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "ingest"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert f"semantic-layer entries a schema change broke (left out): {METRIC}, {TERM}" in result.output
