"""Measures said with "what did we <verb> on", short plurals the stemmer keeps whole, yes/no questions about
what a table keeps, rankings of what no table holds and follow-ups that ask another kind of fact: the offline
model's intents and answers, and the grounding check's matching."""

from __future__ import annotations

from datetime import date

from agent.grounding_words import Evidence, accounted_for
from agent.models.language import related, singular
from agent.models.offline.compose import compose_column, compose_find
from agent.models.offline.intents import detect_intent
from agent.models.request import parse_request
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table

TODAY = date(2026, 12, 3)


def test_what_did_we_spend_on_asks_for_a_total():
    assert detect_intent("what did we spend on banners last week?").kind == "sql"
    request = parse_request("what did we spend on banners in ads.costs?", TODAY)
    assert request.agg == "total" or request.agg == "sum"
    costs = Table("ads.costs", [{"name": "cost_day", "type": "date"}, {"name": "spend_eur", "type": "decimal(12,2)"}], [], {})
    assert "SUM(t.spend_eur)" in draft_sql(request, [costs], costs).sql


def test_a_short_plural_the_stemmer_keeps_is_also_its_singular():
    assert singular("ads") == {"ad"} and "ad" in related("ads")
    assert singular("bus") == set() and singular("logs") == set()  # "us" endings, and plurals the stemmer strips
    assert accounted_for("ads", Evidence(set(), set(), {"ad", "spend"}))


def test_a_yes_no_question_about_one_word_a_table_keeps_is_about_its_columns():
    asked = detect_intent("does web.visits record the browser?")
    assert asked.kind == "column" and asked.tables == ["web.visits"]
    assert detect_intent("does web.visits have partitions?").kind == "partitions"
    data = {"table": "web.visits", "columns": [{"name": "browser", "type": "string"}, {"name": "visit_id", "type": "long"}]}
    assert compose_column(data, "does web.visits record the browser?").startswith("Yes: `web.visits` has a column `browser`")
    unsure = compose_column(data, "does web.visits record the weather?")
    assert not unsure.startswith(("Yes", "No"))  # no column named for it: described, never a bare no


def test_a_yes_no_question_about_rows_in_a_period_is_a_count():
    assert detect_intent("does fx.rates have a rate for yesterday?").kind == "sql"


def test_do_we_know_is_answered_yes_from_the_column_named_for_it():
    hit = {"table": "crew.staff", "matched_columns": ["joined_on", "staff_id"], "metadata_untrusted": {}}
    text = compose_find({"tables": [hit]}, ["know", "staff", "joined"], "do we know when staff joined?")
    assert text.startswith("Yes: `crew.staff` has a column `joined_on`, named for 'joined'.")
    listed = compose_find({"tables": [hit]}, ["staff", "joined"], "which table has when staff joined?")
    assert not listed.startswith("Yes")


def test_a_ranking_of_things_no_table_holds_is_declined_with_the_tables_found(tmp_path):
    from agent_lake import make_context
    from langgraph.checkpoint.memory import InMemorySaver

    from agent.models import OfflineChatModel
    from agent.service import LakeAgent

    agent = LakeAgent(make_context(tmp_path), model=OfflineChatModel(today=TODAY), checkpointer=InMemorySaver())
    text = agent.ask("which courier delivers the most orders?").answer
    assert text.startswith("I cannot answer this ranking: no table, column or value I found holds 'courier'")
    assert "`sales.orders`" in text and "'most'" not in text


def test_a_follow_up_asking_another_kind_of_fact_asks_it_of_the_same_table(tmp_path):
    from agent_lake import make_context
    from langgraph.checkpoint.memory import InMemorySaver

    from agent.models import OfflineChatModel
    from agent.service import LakeAgent

    agent = LakeAgent(make_context(tmp_path), model=OfflineChatModel(today=TODAY), checkpointer=InMemorySaver())
    agent.ask("how many rows does sales.orders have?", thread_id="t")
    schema = agent.ask("and the schema?", thread_id="t").answer
    assert "`order_id`" in schema and "`customer_id`" in schema  # its columns, not its row count again


def test_a_value_asked_of_a_named_table_is_a_sql_question():
    assert detect_intent("what was our net revenue last month in shop.daily?").kind == "sql"
    assert detect_intent("what is in shop.daily?").kind == "describe"
    assert detect_intent("what is the type of amount in shop.daily?").kind == "column"


def test_a_measure_said_with_no_aggregate_or_group_is_the_noun_phrase_before_its_preposition():
    assert parse_request("monthly ad clicks in ads.stats", TODAY).measure == ["ad", "clicks"]
    stats = Table("ads.stats", [{"name": "stat_day", "type": "date"}, {"name": "clicks", "type": "long"}], ["stat_day"], {})
    assert "SUM(t.clicks)" in draft_sql(parse_request("monthly ad clicks in ads.stats", TODAY), [stats], stats).sql


def test_a_search_hit_names_the_profiled_values_the_query_says():
    from types import SimpleNamespace

    from agent.models.offline.plans import hit_words
    from agent.tools.search import matched_values
    from catalog_ingest.records import Column, ColumnProfile, ValueCount

    profile = ColumnProfile(values=[ValueCount(value="acme", count=3), ValueCount(value="zeta", count=1)])
    record = SimpleNamespace(columns=[Column(path="provider", type="string", profile=profile),
                                      Column(path="email", type="string", pii=True, profile=profile)])  # fmt: skip
    assert matched_values(record, "acme payments") == {"provider": ["acme"]}  # never a PII column's values
    hit = {"table": "pay.payments", "matched_columns": ["provider"], "matched_values": {"provider": ["acme"]}}
    assert "acme" in hit_words(hit)


def test_partitioned_by_a_grain_is_answered_yes_or_no_first():
    from agent.models.offline.compose import compose_partitions

    data = {"table": "web.hits", "partitioning": "partitioned by day of hit_time", "total_partitions": 3,
            "partitioned_by_time": True, "first": "2026-11-01", "latest": "2026-11-03", "partitions": []}  # fmt: skip
    assert compose_partitions(data, "is web.hits partitioned by day?").startswith("Yes: `web.hits` is partitioned by day")
    no = compose_partitions(data, "is web.hits partitioned by month?")
    assert no.startswith("No: `web.hits` is partitioned by day") and "It is not partitioned by month." in no
    assert compose_partitions(data, "how is web.hits partitioned?").startswith("`web.hits` is partitioned")
