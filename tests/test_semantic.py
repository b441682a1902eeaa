"""The semantic layer against the real ingested sample lake: loading and validation errors with the closest
names, terms and metrics in the tools' results, the offline model drafting with them, and a bad layer that
leaves the lake served."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from langgraph.checkpoint.memory import InMemorySaver

from agent.context import AgentContext
from agent.models.offline import OfflineChatModel
from agent.service import LakeAgent
from api.app import create_app
from api_support import USER, with_api
from catalog_ingest.semantic import SemanticLayerError, install_layer, load_checked, load_layer, parse_layer
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore

FIXTURE = Path(__file__).with_name("semantic_fixture.yaml")


@pytest.fixture(scope="module")
def records(sample_settings: Settings) -> list:
    store = RecordStore(sample_settings.store_path)
    try:
        return list(store.records())
    finally:
        store.close()


def layer_settings(sample_settings: Settings, path: Path) -> Settings:
    return sample_settings.model_copy(update={"semantic_layer": path})


def problems_of(text: str, records: list) -> list[str]:
    return [str(p) for p in parse_layer(text).check(records)]


def test_the_fixture_layer_is_valid_against_the_sample_lake(records):
    layer = parse_layer(FIXTURE.read_text())
    assert [p for p in layer.check(records) if p.severity == "error"] == []
    assert {e.label() for e in layer.entries_touching("marts.orders")} == {
        "metric 'net sales'", "relationship finance.refunds.order_id -> marts.orders.order_id"}
    assert [e.label() for e in layer.entries_touching("demo.support.tickets", records)] == ["term 'open ticket'"]


def test_bad_table_and_column_name_the_entry_and_the_closest_real_names(records):
    text = """
terms:
  - name: refund
    table: finance.refundz
  - name: open ticket
    column: support.tickets.priorty
    values: [high]
metrics:
  - name: net sales
    table: marts.orders
    expression: SUM(total_amount_us) - SUM(tax_usd)
    filter: status = 'completed'
    time_column: order_time
    dimensions: [countri]
relationships:
  - from: finance.refunds.order_id
    to: marts.order.order_id
"""
    assert problems_of(text, records) == [
        "term 'refund': table finance.refundz does not exist; closest: finance.refunds",
        "term 'open ticket': column support.tickets.priorty does not exist; closest: priority",
        "metric 'net sales': expression: column marts.orders.total_amount_us does not exist; closest: total_amount_usd, total_amount",
        "metric 'net sales': time_column marts.orders.order_time does not exist; closest: order_ts, order_id",
        "metric 'net sales': dimension marts.orders.countri does not exist; closest: country",
        "relationship finance.refunds.order_id -> marts.order.order_id: table marts.order does not exist; closest: marts.orders",
    ]


def test_metric_sql_must_parse_and_stay_on_its_table_and_values_are_checked_against_profiles(records):
    text = """
terms:
  - name: done order
    column: marts.orders.status
    values: [complete]
metrics:
  - name: broken
    table: marts.orders
    expression: SUM(total_amount_usd
  - name: sneaky
    table: marts.orders
    expression: (SELECT SUM(amount_usd) FROM finance.refunds)
"""
    found = parse_layer(text).check(records)
    warning = next(p for p in found if p.entry == "term 'done order'")
    assert warning.severity == "warning" and "completed" in warning.suggestions
    assert any(p.entry == "metric 'broken'" and "does not parse" in p.message for p in found)
    assert any(p.entry == "metric 'sneaky'" and "not a query" in p.message for p in found)


def test_a_name_two_catalogs_hold_must_be_catalog_qualified(records):
    refunds = next(r for r in records if r.full_name == "finance.refunds")
    two_catalogs = [*records, refunds.model_copy(update={"catalog": "other"})]
    found = parse_layer("terms:\n  - {name: refund, table: finance.refunds}\n").check(two_catalogs)
    assert [str(p) for p in found] == [
        "term 'refund': table finance.refunds is in more than one catalog: name it demo.finance.refunds or "
        "other.finance.refunds"]
    assert parse_layer("terms:\n  - {name: refund, table: other.finance.refunds}\n").check(two_catalogs) == []


def test_file_errors_are_one_line_naming_the_file_and_entry(tmp_path, sample_settings):
    bad = tmp_path / "semantic.yaml"
    bad.write_text("terms:\n  - name: refund\n    table: [\n")
    with pytest.raises(SemanticLayerError, match=r"not valid YAML at line \d+"):
        load_layer(layer_settings(sample_settings, bad))
    bad.write_text("terms:\n  - name: refund\n    table: finance.refunds\n    column: finance.refunds.amount\n")
    with pytest.raises(SemanticLayerError, match=r"terms\[0\] 'refund': .*exactly one of"):
        load_layer(layer_settings(sample_settings, bad))
    with pytest.raises(SemanticLayerError, match="does not exist"):
        load_layer(layer_settings(sample_settings, tmp_path / "missing.yaml"))
    assert load_layer(Settings(data_dir=tmp_path / "empty")) is None  # no default file: no layer


def test_an_installed_layer_is_found_at_the_default_path_and_not_overwritten(tmp_path):
    data_dir = tmp_path / "data"
    assert install_layer(FIXTURE, data_dir) == data_dir / "semantic.yaml"
    assert [m.name for m in load_layer(Settings(data_dir=data_dir)).metrics] == ["net sales"]
    assert install_layer(FIXTURE, data_dir) is None  # a lake owner's own file stays
    config = tmp_path / "conf" / "lakescout.toml"
    config.parent.mkdir()
    config.write_text("")
    assert load_layer(Settings(data_dir=data_dir, config_file=config)) is None  # next to the config file first


@pytest.fixture(scope="module")
def layer_agent(sample_settings):
    context = AgentContext.from_settings(layer_settings(sample_settings, FIXTURE))
    agent = LakeAgent(context, model=OfflineChatModel(), checkpointer=InMemorySaver())
    yield agent
    agent.close()


def tool_data(answer, name: str) -> dict:
    return next(call["result"] for call in answer.tool_calls if call["name"] == name)


def test_search_and_describe_show_the_terms_metrics_and_relationships(layer_agent):
    from agent.tools import describe_table, search_tables

    runtime = type("Runtime", (), {"context": layer_agent.context, "state": {}})()
    _, found = search_tables.func(query="money back per region", runtime=runtime)
    assert found["tables"][0]["table"] == "finance.refunds"
    assert found["semantic"]["terms"] == [{"term": "refund", "matched": "money back", "table": "finance.refunds"}]
    assert found["semantic"]["metadata_untrusted"]["descriptions"]["refund"].startswith("Money returned")
    _, described = describe_table.func(table="marts.orders", runtime=runtime)
    metric = described["semantic"]["metrics"][0]
    assert metric["expression"] == "SUM(total_amount_usd) - SUM(tax_usd)" and metric["filter"] == "status = 'completed'"
    assert described["semantic"]["relationships"][0]["to"] == "marts.orders.order_id"


def test_offline_model_drafts_a_metric_with_its_expression_filter_and_time_column(layer_agent):
    answer = layer_agent.ask("net sales by month", run=True)
    assert "SUM(t.total_amount_usd) - SUM(t.tax_usd)" in answer.sql
    assert "t.status = 'completed'" in answer.sql and "date_trunc('month', t.order_ts)" in answer.sql
    assert answer.tables_cited == ["marts.orders"] and answer.result["rows"]
    assert not answer.answer.startswith("Partial answer")


def test_offline_model_reads_a_term_as_its_value_filter(layer_agent):
    answer = layer_agent.ask("how many unresolved tickets by channel?")
    assert "FROM support.tickets" in answer.sql
    assert "t.priority IN ('high', 'urgent')" in answer.sql
    assert "unresolved" in answer.grounding.accounted and not answer.grounding.unaccounted


def test_offline_model_joins_a_dimension_attribute_along_the_layers_relationship(layer_agent):
    answer = layer_agent.ask("count events by customer segment")
    assert "JOIN marts.customers AS c ON t.user_id = c.customer_id" in answer.sql  # no name-based key joins these
    assert "c.customer_segment" in answer.sql and "FROM raw.events" in answer.sql


def test_doctor_fails_the_layer_check_naming_the_broken_entry(tmp_path, sample_settings):
    from lakescout.doctor import check_semantic_layer

    bad = tmp_path / "semantic.yaml"
    bad.write_text("terms:\n  - name: refund\n    table: finance.refundz\n")
    found = check_semantic_layer(layer_settings(sample_settings, bad))
    assert found.failed and "term 'refund': table finance.refundz does not exist; closest: finance.refunds" in found.detail
    assert check_semantic_layer(layer_settings(sample_settings, FIXTURE)).status == "ok"


def test_without_the_layer_the_same_question_gets_no_metric(sample_settings):
    context = AgentContext.from_settings(layer_settings(sample_settings, FIXTURE).model_copy(update={"use_semantic_layer": False}))
    agent = LakeAgent(context, model=OfflineChatModel(), checkpointer=InMemorySaver())
    try:
        assert "tax_usd" not in (agent.ask("net sales by month").sql or "")
    finally:
        agent.close()


def test_a_bad_layer_is_reported_and_the_lake_is_served_without_it(tmp_path, sample_settings, records):
    bad = tmp_path / "semantic.yaml"
    bad.write_text(FIXTURE.read_text().replace("finance.refunds\n", "finance.refundz\n", 1))
    checked = load_checked(layer_settings(sample_settings, bad), records)
    assert "term 'refund'" in checked.status() and checked.layer is not None
    assert "refund" not in [t.name for t in checked.layer.terms]  # a broken entry is never used
    bad_yaml = tmp_path / "broken.yaml"
    bad_yaml.write_text("metrics: [\n")
    with TestClient(create_app(with_api(layer_settings(sample_settings, bad_yaml)))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and "not valid YAML" in ready.json()["checks"]["semantic_layer"]
        chat = client.post("/v1/chat", json={"message": "count orders by status"}, headers=USER)
        assert chat.status_code == 200 and "marts.orders" in chat.json()["tables_cited"]


def test_a_metric_stands_for_the_measure_only_when_the_question_asks_its_kind_of_aggregate():
    from agent.models.semantic_terms import LayerUse, fitting_metric, metric_kind

    assert metric_kind("SUM(amount_usd) - SUM(discount_usd)") == "total"
    assert metric_kind("COUNT(DISTINCT customer_id)") == "count"
    assert metric_kind("SUM(amount_usd) / COUNT(*)") is None  # a ratio: no one kind to contradict
    refunded = {"metric": "refunded amount", "table": "finance.refunds", "expression": "SUM(amount_usd)"}

    def use() -> LayerUse:
        return LayerUse(tables=["finance.refunds"], metric=dict(refunded))

    counted = fitting_metric(use(), "count", implicit=False)  # "how many refunds were issued"
    assert counted.metric is None and counted.tables == ["finance.refunds"]
    assert fitting_metric(use(), "total", implicit=False).metric == refunded  # "total refunded amount"
    assert fitting_metric(use(), "count", implicit=True).metric == refunded  # no aggregate word: the metric's
    assert fitting_metric(None, "count", implicit=False) is None
