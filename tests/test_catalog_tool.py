"""list_tables: the catalog listed, filtered and ranked from the record store; the offline model's catalog-wide answers."""

from __future__ import annotations

from datetime import date

import pytest
from agent_lake import make_context
from langchain.tools import ToolRuntime
from langgraph.checkpoint.memory import InMemorySaver

from agent.models import OfflineChatModel
from agent.models.offline.catalog import compose_listing, list_args
from agent.models.offline.intents import detect_intent
from agent.service import LakeAgent
from agent.state import ToolResult
from agent.tools import TOOLS, ToolError, list_tables


@pytest.fixture
def ctx(tmp_path):
    return make_context(tmp_path)


def listed(ctx, **args):
    runtime = ToolRuntime(state={}, context=ctx, config={}, stream_writer=None, tool_call_id="1", store=None)
    return list_tables.func(runtime=runtime, **args)[1]


def test_list_tables_is_a_tool_for_every_model():
    assert "list_tables" in [t.name for t in TOOLS]


def test_rank_by_rows_and_bytes(ctx):
    by_rows = listed(ctx, rank_by="rows", limit=2)
    assert [t["table"] for t in by_rows["tables"]] == ["web.events", "sales.orders"]
    assert by_rows["matched"] == by_rows["total_tables"] == 4
    smallest = listed(ctx, rank_by="bytes", descending=False, limit=1)["tables"][0]
    assert smallest["table"] == "finance.refunds" and smallest["bytes"] == 180_000


def test_filters_by_namespace_and_last_write(ctx):
    assert [t["table"] for t in listed(ctx, namespace="sales")["tables"]] == ["sales.orders"]
    with pytest.raises(ToolError, match="no namespace named 'fin'"):
        listed(ctx, namespace="fin")
    stale = listed(ctx, not_written_days=1)
    assert stale["matched"] == 4 and stale["filters"] == {"not_written_days": 1}
    assert listed(ctx, written_days=1)["matched"] == 0


def test_the_offline_model_ranks_the_catalog(ctx):
    agent = LakeAgent(ctx, model=OfflineChatModel(today=date(2026, 11, 20)), checkpointer=InMemorySaver())
    most = agent.ask("which table has the most rows?")
    assert [c.name for c in most.tool_calls] == ["list_tables"]
    assert most.answer.startswith("Of the 4 tables, the one with the most rows is `web.events` (8,000,000 rows)")
    assert most.grounding.unaccounted == []
    count = agent.ask("how many tables are there?")
    assert count.answer.startswith("There are 4 tables in the catalog.")
    finance = agent.ask("list the tables in crm")
    assert "`crm.users`" in finance.answer and "`sales.orders`" not in finance.answer


def test_a_structs_fields_are_not_columns_of_their_own():
    from agent_lake import orders

    from agent.tools.catalog import table_row
    from catalog_ingest.records import Column

    record = orders()
    plain = table_row(record)["columns"]
    record.columns += [Column(path="address", type="struct<city: string, zip: string>"),
                       Column(path="address.city", type="string"), Column(path="address.zip", type="string")]
    assert table_row(record)["columns"] == plain + 1


def test_every_namespace_is_counted_whatever_the_limit(ctx):
    assert listed(ctx, limit=1)["namespaces"] == {"crm": 1, "finance": 1, "sales": 1, "web": 1}
    assert listed(ctx, namespace="web")["namespaces"] == {"web": 1}


def test_the_namespace_with_the_most_or_fewest_tables_is_named(ctx):
    agent = LakeAgent(ctx, model=OfflineChatModel(today=date(2026, 11, 20)), checkpointer=InMemorySaver())
    tied = agent.ask("which namespace has the most tables?")
    assert tied.answer.startswith("The namespaces with the most tables are `crm`, `finance`, `sales`, `web`, tied "
                                  "(1 table each)")  # fmt: skip
    assert "The catalog has 4 namespaces" in agent.ask("what namespaces are there?").answer


def test_tags_said_with_have_and_ties_at_the_top_are_read():
    assert list_args("which tables have the tag gold?")["tag"] == "gold"
    rows = [{"table": "a.x", "files": 3}, {"table": "b.y", "files": 3}, {"table": "c.z", "files": 1}]
    data = {"tables": rows, "rank_by": "files", "descending": True, "matched": 3, "total_tables": 3, "as_of": "now"}
    text = compose_listing(ToolResult("list_tables", {}, True, data), "which table has the most files?")
    assert "`a.x` (3 files)" in text and "It is tied with `b.y` (3 files each)" in text


def test_an_owner_said_as_an_email_and_a_span_said_in_words_filter_the_listing():
    asked = detect_intent("which tables does data-team@shop.example own?")
    assert asked.kind == "catalog" and asked.tables == []  # the address's domain is not a table
    assert list_args("which tables does data-team@shop.example own?")["owner"] == "data-team@shop.example"
    assert detect_intent("have any tables gone a week without a write?").kind == "catalog"
    assert list_args("have any tables gone a week without a write?")["not_written_days"] == 7
    assert list_args("tables not updated in 2 months")["not_written_days"] == 60


def test_a_namespace_said_mid_question_is_a_filter_and_who_is_no_owner():
    question = "which tables are in the sales namespace and who owns them?"
    assert detect_intent(question).kind == "catalog"
    assert list_args(question).get("namespace") == "sales" and "owner" not in list_args(question)


def test_tables_holding_pii_are_a_filter_of_the_listing(ctx):
    assert detect_intent("which tables contain PII?").kind == "catalog"
    assert list_args("which tables contain PII?")["pii"] is True
    assert list_args("tables without personal data")["pii"] is False
    names = [row["table"] for row in listed(ctx, pii=True)["tables"]]
    assert names and all(n in ("sales.orders", "crm.users") for n in names)
    assert not set(names) & {row["table"] for row in listed(ctx, pii=False)["tables"]}


def test_tables_holding_a_named_column_are_a_filter_of_the_listing(ctx):
    for question in ("which tables have an order_id column?", "where can I find a column called order_id?",
                     "list the tables with an ORDER_ID column"):
        assert detect_intent(question).kind == "catalog", question
        assert list_args(question)["column"] == "order_id" and list_args(question)["rank_by"] == "name", question
    assert "column" not in list_args("which table has the most columns?")  # a ranking by columns, no filter
    assert "column" not in list_args("which tables have PII columns?")
    assert detect_intent("does sales.orders have an email column?").kind != "catalog"  # about one table
    holding = listed(ctx, column="ORDER_ID")
    names = {row["table"] for row in holding["tables"]}
    assert names and all(n.endswith(("orders", "refunds")) for n in names), names
    assert holding["filters"] == {"column": "ORDER_ID"} and holding["matched"] == len(names)
    assert listed(ctx, column="no_such_column")["matched"] == 0
