"""The grounding check, in the graph for every model: question terms the answer's evidence does not cover
make it a labelled partial answer, in its text and in the ``grounding`` field."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from agent_lake import make_context
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from agent.grounding import ground, question_terms
from agent.models import OfflineChatModel
from agent.service import LakeAgent
from agent.state import turn_facts
from api.schemas import ChatResponse

COUNT_ALL = "SELECT count(*) AS n FROM sales.orders"
COUNT_CANCELLED = "SELECT count(*) AS n FROM sales.orders WHERE status = 'cancelled'"


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools, **kwargs):
        return self


def scripted_agent(ctx, *replies: AIMessage) -> LakeAgent:
    return LakeAgent(ctx, model=ScriptedModel(messages=iter(replies)), checkpointer=InMemorySaver())


def calls(name: str, i: int = 0, **args) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"{name}-{i}"}])


@pytest.fixture
def ctx(tmp_path):
    return make_context(tmp_path)


def test_question_terms_leave_out_stop_words_framing_and_instructions():
    assert question_terms("How many cancelled orders are there? Return only the SQL.") == ["cancelled", "orders"]
    assert question_terms("Write a query for the 5 biggest refunds") == ["biggest", "refunds"]


def test_sql_that_drops_a_filter_is_a_labelled_draft(ctx):
    agent = scripted_agent(ctx, calls("validate_sql", 1, sql=COUNT_ALL), AIMessage("Here is the count of orders."))
    answer = agent.ask("how many cancelled orders are there?")
    assert answer.grounding.unaccounted == ["cancelled"]
    assert set(answer.grounding.accounted) == {"orders"}
    assert answer.answer.startswith("Partial answer: the SQL below is a draft that does not cover 'cancelled'")
    assert answer.sql == COUNT_ALL


def test_sql_that_filters_on_the_value_is_grounded(ctx):
    agent = scripted_agent(ctx, calls("validate_sql", 1, sql=COUNT_CANCELLED), AIMessage("Here is the count."))
    answer = agent.ask("how many cancelled orders are there?")
    assert answer.grounding.unaccounted == [] and set(answer.grounding.accounted) == {"cancelled", "orders"}
    assert answer.answer.startswith("Here is the count.")


def test_tool_facts_account_for_the_kind_of_question(ctx):
    agent = scripted_agent(ctx, calls("table_history", table="sales.orders"), AIMessage("`sales.orders` has 6 snapshots."))
    answer = agent.ask("how many snapshots does sales.orders have?")
    assert answer.grounding.unaccounted == [] and "snapshots" in answer.grounding.accounted
    assert not answer.answer.startswith("Partial")


def test_a_decline_is_not_labelled_but_its_terms_are_reported(ctx):
    agent = scripted_agent(ctx, AIMessage("I cannot answer that from the catalog."))
    answer = agent.ask("what will the weather be on mars?")
    assert answer.grounding.unaccounted == ["weather", "mars"]
    assert answer.answer.startswith("I cannot answer that")


def test_the_offline_model_goes_through_the_same_check(ctx):
    agent = LakeAgent(ctx, model=OfflineChatModel(today=date(2026, 11, 20)), checkpointer=InMemorySaver())
    answer = agent.ask("describe sales.orders and its blockchain lineage")
    assert answer.grounding.unaccounted == ["blockchain", "lineage"]
    assert answer.answer.startswith("Partial answer: I could not map 'blockchain', 'lineage'")
    assert "`sales.orders`" in answer.answer
    described = agent.ask("describe sales.orders")
    assert described.grounding.unaccounted == [] and not described.answer.startswith("Partial")


def test_typos_and_synonyms_count_as_accounted(ctx):
    messages = [HumanMessage("q"), calls("validate_sql", 1, sql="SELECT sum(amount) FROM sales.orders GROUP BY country")]
    facts = turn_facts(messages)
    facts.sql = "SELECT country, sum(amount) FROM sales.orders GROUP BY country"
    grounding = ground("total revenue per nation for the orders", facts, {"sales.orders"})
    assert grounding.unaccounted == [] and set(grounding.accounted) == {"total", "revenue", "nation", "orders"}
    assert ground("total revenue per cuntry", facts, {"sales.orders"}).unaccounted == []
    assert ground("total revenue per city", facts, {"sales.orders"}).unaccounted == ["city"]


def test_the_api_answer_documents_grounding():
    field = ChatResponse.model_json_schema()["properties"]["grounding"]
    assert "partial" in field["description"]


def test_every_model_is_told_today_in_the_configured_time_zone(tmp_path):
    from agent.graph import today_line

    ctx = make_context(tmp_path, timezone="Pacific/Kiritimati")
    assert ctx.settings.today() >= date.today() - timedelta(days=1)
    line = today_line(date(2026, 12, 2), "Pacific/Kiritimati")
    assert line.startswith("Today is Wednesday 2026-12-02 (Pacific/Kiritimati).") and "2026-12-01" in line


def test_an_alias_named_after_the_question_is_no_evidence(ctx):
    sql = "SELECT count(*) AS cancelled_orders FROM sales.orders"
    agent = scripted_agent(ctx, calls("validate_sql", 1, sql=sql), AIMessage("Here is the count."))
    answer = agent.ask("how many cancelled orders are there?")
    assert answer.grounding.unaccounted == ["cancelled"] and answer.answer.startswith("Partial answer:")


def test_a_number_the_sql_does_not_use_is_unaccounted(ctx):
    dropped = scripted_agent(ctx, calls("validate_sql", 1, sql=COUNT_ALL), AIMessage("Here is the count."))
    assert dropped.ask("how many orders have an amount over 100?").grounding.unaccounted == ["amount", "over", "100"]
    kept = "SELECT count(*) AS n FROM sales.orders WHERE amount > 100"
    used = scripted_agent(ctx, calls("validate_sql", 1, sql=kept), AIMessage("Here is the count."))
    assert "100" in used.ask("how many orders have an amount over 100?").grounding.accounted


def test_a_measure_word_only_the_table_name_covers_is_unaccounted(ctx):
    counted = "SELECT count(*) AS total_refund FROM finance.refunds"
    agent = scripted_agent(ctx, calls("describe_table", 0, table="demo.finance.refunds"),
                           calls("validate_sql", 1, sql=counted), AIMessage("Here is the total."))  # fmt: skip
    assert agent.ask("total refund in finance.refunds").grounding.unaccounted == ["total", "refund"]
    summed = "SELECT sum(refund_amount) AS total_refund FROM finance.refunds"
    agent = scripted_agent(ctx, calls("describe_table", 0, table="demo.finance.refunds"),
                           calls("validate_sql", 1, sql=summed), AIMessage("Here is the total."))  # fmt: skip
    assert agent.ask("total refund in finance.refunds").grounding.unaccounted == []


def test_a_table_name_covers_no_synonym_and_an_ordered_alias_is_no_evidence(ctx):
    agent = scripted_agent(ctx, calls("validate_sql", 1, sql=COUNT_ALL), AIMessage("Here is the count."))
    assert "amount" in agent.ask("the amount in sales.orders").grounding.unaccounted  # "sales" is no "amount"
    ordered = "SELECT status, count(*) AS median FROM sales.orders GROUP BY 1 ORDER BY median"
    agent = scripted_agent(ctx, calls("validate_sql", 1, sql=ordered), AIMessage("Here it is."))
    assert agent.ask("median amount by status").grounding.unaccounted == ["median", "amount"]


def test_comparisons_and_negations_in_the_sql_account_for_their_words(ctx):
    compared = "SELECT count(*) AS n FROM sales.orders WHERE amount >= 100 AND status <> 'cancelled'"
    agent = scripted_agent(ctx, calls("validate_sql", 1, sql=compared), AIMessage("Here is the count."))
    grounding = agent.ask("how many orders that are not cancelled have an amount of at least 100?").grounding
    assert grounding.unaccounted == [] and {"not", "least", "100"} <= set(grounding.accounted)
    dropped = scripted_agent(ctx, calls("validate_sql", 1, sql=COUNT_CANCELLED), AIMessage("Here is the count."))
    assert dropped.ask("how many orders are not cancelled?").grounding.unaccounted == ["not"]


def searched_then_ran(sql: str, found: list[dict], rows: list | None = None) -> list:
    """A turn that searched (finding ``found``), validated ``sql`` and, with ``rows``, ran it."""
    messages = [HumanMessage("q"), calls("search_tables", 0, query="q"),
                ToolMessage(json.dumps({"tables": found}), tool_call_id="search_tables-0", name="search_tables"),
                calls("validate_sql", 1, sql=sql),
                ToolMessage(json.dumps({"valid": True}), tool_call_id="validate_sql-1", name="validate_sql")]  # fmt: skip
    if rows is not None:
        messages += [calls("run_sql", 2, sql=sql),
                     ToolMessage(json.dumps({"columns": ["n"], "rows": rows}), tool_call_id="run_sql-2", name="run_sql")]
    return messages


def hit(table: str, *columns: str) -> dict:
    return {"table": table, "matched_columns": list(columns)}


def test_a_count_of_one_of_several_same_named_tables_is_ambiguous():
    count = "SELECT count(*) AS players FROM league.players"
    found = [hit("league.players"), hit("school.player"), hit("league.teams")]
    grounding = ground("How many players are there?", turn_facts(searched_then_ran(count, found)), {"league.players"})
    assert grounding.unaccounted == ["players"] and grounding.rivals == {"players": ["school.player"]}
    alone = ground("How many players are there?", turn_facts(searched_then_ran(count, found[:1])), {"league.players"})
    assert alone.unaccounted == [] and alone.rivals == {}


def test_a_column_value_or_namespace_the_rival_lacks_sets_the_table_apart():
    found = [hit("league.players", "rank"), hit("school.player", "name"), hit("raw.players")]
    ranked = "SELECT count(*) FROM league.players WHERE rank > 5"
    facts = turn_facts(searched_then_ran(ranked, found))
    assert ground("How many players have a rank over 5?", facts, {"league.players"}).unaccounted == []
    count = "SELECT count(*) AS players FROM league.players"
    named = ground("How many players are in the league?", turn_facts(searched_then_ran(count, found)), set())
    assert named.unaccounted == [] and named.rivals == {}
    layered = "SELECT count(*) AS players FROM curated.players"
    facts = turn_facts(searched_then_ran(layered, [hit("curated.players"), hit("raw.players")]))
    assert ground("How many players are there?", facts, set()).unaccounted == []  # a raw layer is no rival


def test_a_year_the_sql_does_not_filter_on_is_unaccounted():
    dropped = turn_facts(searched_then_ran("SELECT count(*) FROM music.concerts", [hit("music.concerts")]))
    assert ground("How many concerts were there in 2014?", dropped, set()).unaccounted == ["2014"]
    for sql in ("SELECT count(*) FROM music.concerts WHERE year = 2014",
                "SELECT count(*) FROM music.concerts WHERE played_on >= '2014-01-01' AND played_on < '2015-01-01'"):
        kept = turn_facts(searched_then_ran(sql, [hit("music.concerts")]))
        assert ground("How many concerts were there in 2014?", kept, set()).unaccounted == []


def test_each_or_per_needs_a_grouping_when_the_sql_aggregates():
    ungrouped = turn_facts(searched_then_ran("SELECT avg(weight) FROM cars.cars", [hit("cars.cars")]))
    assert ground("the average weight for each year", ungrouped, set()).unaccounted == ["year", "each"]
    grouped = turn_facts(searched_then_ran("SELECT year, avg(weight) FROM cars.cars GROUP BY year", [hit("cars.cars")]))
    assert ground("the average weight for each year", grouped, set()).unaccounted == []
    listed = turn_facts(searched_then_ran("SELECT name FROM cars.cars", [hit("cars.cars")]))
    assert ground("the name of each car", listed, set()).unaccounted == []  # no aggregate: nothing to group


def test_an_answer_that_shows_rows_is_labelled_even_when_it_says_what_it_could_not_do(ctx):
    replies = [calls("run_sql", 1, sql=COUNT_ALL),
               AIMessage("I could not match a filter for 'cancelled'. Result: 5 orders.")]  # fmt: skip
    answer = scripted_agent(ctx, *replies).ask("how many cancelled orders are there?", run=True)
    assert answer.grounding.unaccounted == ["cancelled"]
    assert answer.answer.startswith("Partial answer: the SQL below is a draft that does not cover 'cancelled'")


def unaccounted_with(ctx, sql: str, question: str) -> list[str]:
    """The terms a scripted answer drafting ``sql`` leaves unaccounted for ``question``."""
    return scripted_agent(ctx, calls("validate_sql", 1, sql=sql), AIMessage("Here it is.")).ask(question).grounding.unaccounted


@pytest.mark.parametrize(("sql", "question", "unaccounted"), [
    ("SELECT count(*) AS n FROM sales.orders WHERE amount > 100", "orders with an amount over one hundred", []),
    (COUNT_ALL, "orders with an amount over one hundred", ["amount", "over", "100"]),
    ("SELECT status, count(*) AS n FROM sales.orders GROUP BY status", "count orders by status code", []),
    (COUNT_ALL, "count orders by status code", ["status", "code"]),
])  # fmt: skip
def test_numbers_in_words_and_a_noun_naming_the_column_before_it(ctx, sql, question, unaccounted):
    """A number in words needs that number in the SQL; "code" after a column the SQL groups by names it."""
    assert unaccounted_with(ctx, sql, question) == unaccounted


def test_a_comparison_word_with_no_number_is_a_preposition():
    assert question_terms("how many orders came in over the web channel") == ["orders", "web", "channel"]


def test_things_grouped_by_their_key_are_doubted_unless_the_id_is_asked_for():
    from agent.grounding_doubts import keys_grouped, parsed

    shown = "SELECT t.customer_id, COUNT(*) AS n FROM s.orders AS t GROUP BY 1 ORDER BY n DESC"
    assert keys_grouped("orders per customer", parsed(shown)) == {"customer": "customer_id"}
    assert keys_grouped("orders per customer id", parsed(shown)) == keys_grouped("orders by customer_id", parsed(shown)) == {}
    averaged = "SELECT AVG(n) FROM (SELECT t.customer_id, COUNT(*) AS n FROM s.orders AS t GROUP BY 1) AS per_group"
    assert keys_grouped("average orders per customer", parsed(averaged)) == {}


def test_a_follow_up_over_the_same_table_keeps_the_gap_it_did_not_close(ctx):
    november = COUNT_ALL + " WHERE order_ts >= DATE '2026-11-01' AND order_ts < DATE '2026-12-01'"
    agent = scripted_agent(
        ctx,
        calls("validate_sql", 1, sql=COUNT_ALL), AIMessage("Here is the count of orders."),
        calls("validate_sql", 2, sql=november), AIMessage("Here is November's count."),
        calls("validate_sql", 3, sql=COUNT_ALL), AIMessage("Here is the count of orders."),
    )  # fmt: skip
    first = agent.ask("how many cancelled orders are there?", thread_id="t")
    assert first.grounding.unaccounted == ["cancelled"]
    follow_up = agent.ask("and in 2026-11?", thread_id="t")  # the same count, a month of it: still not cancelled ones
    assert "cancelled" in follow_up.grounding.unaccounted
    assert follow_up.answer.startswith("Partial answer:") and "'cancelled'" in follow_up.answer.splitlines()[0]
    standalone = agent.ask("how many orders are there?", thread_id="t")  # a question of its own inherits nothing
    assert standalone.grounding.unaccounted == [] and not standalone.answer.startswith("Partial answer")
