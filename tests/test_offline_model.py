"""The offline model end to end through the real graph, on each question type it claims.

Expected facts are read from the records, never typed in: the model must have got them from the tools.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from agent_lake import StubEngine, events, make_context, orders, refunds
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from agent.models.offline import OfflineChatModel
from agent.models.offline.conversation import Conversation
from agent.models.offline.plans import check_sql
from agent.models.sql_writer import repair
from agent.prompts import load_prompt
from agent.service import LakeAgent
from agent.tools import human_bytes

TODAY = date(2026, 11, 27)


@pytest.fixture
def engine():
    return StubEngine()


@pytest.fixture
def agent(tmp_path, engine):
    return LakeAgent(make_context(tmp_path, engine), model=OfflineChatModel(today=TODAY), checkpointer=InMemorySaver())


def test_find_tables_for_a_topic(agent):
    answer = agent.ask("which table has refunds by region?")
    assert "The best match for 'refunds region' is `finance.refunds`" in answer.answer
    assert refunds().comment in answer.answer and "finance.refunds" in answer.tables_cited
    assert "offline rule-based model" in answer.answer and answer.usage.total_tokens > 0


def test_describe_a_table(agent):
    record = orders()
    answer = agent.ask("describe sales.orders")
    for column in record.columns:
        assert f"`{column.path}` {column.type}" in answer.answer
    assert record.partition_spec.describe() in answer.answer
    assert "PII columns (masked in results): email" in answer.answer
    assert answer.as_of["sales.orders"].snapshot_id == record.current_snapshot_id
    corrected = agent.ask("describe sales.ordrs")
    assert [c.args["table"] for c in corrected.tool_calls] == ["sales.ordrs", "sales.orders"]
    assert corrected.answer.startswith("There is no table `sales.ordrs`, so this is about the closest name, "
                                       "`sales.orders`.\n\n`sales.orders` (iceberg, parquet)")
    missing = agent.ask("how many rows does sales.shipments have?")
    assert missing.answer.startswith("There is no table `sales.shipments` in the catalog")
    assert not re.search(r"\d[\d,]* rows", missing.answer)


def test_size_and_freshness(agent):
    record = orders()
    answer = agent.ask("how big is orders and when was it last written?")
    assert f"{record.totals.record_count:,} rows" in answer.answer
    assert human_bytes(record.totals.total_bytes) in answer.answer
    assert record.last_updated.isoformat() in answer.answer
    assert f"current snapshot {record.current_snapshot_id}" in answer.answer


def test_partitions_last_week_is_the_previous_calendar_week_from_today(agent):
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    days = {(monday + timedelta(days=i)).isoformat() for i in range(7)}
    week = [s for s in events().partitions if s.values["event_time_day"] in days]
    answer = agent.ask("what partitions of events exist for last week?")
    assert f"`web.events` has {len(week)} partitions for last week: {monday} to {monday + timedelta(days=6)}" in answer.answer
    assert f"{sum(s.record_count for s in week):,} rows" in answer.answer
    assert "counted back from the latest partition" not in answer.answer
    assert [c.args.get("filter") for c in answer.tool_calls] == [None, None, f"{monday}..{monday + timedelta(days=6)}"]


def test_partitions_in_a_date_range_spec_and_latest(agent):
    in_range = agent.ask("list partitions of orders between 2026-11-01 and 2026-11-03")
    assert "`sales.orders` has 3 partitions for 2026-11-01 to 2026-11-03" in in_range.answer
    spec = agent.ask("how is refunds partitioned?")
    assert f"is {refunds().partition_spec.describe()}, with 2 partitions from 2026-10-01 to 2026-11-01" in spec.answer
    latest = agent.ask("what is the latest partition of events?")
    newest = events().partitions[-1]
    assert f"The latest partition is `event_time_day={newest.values['event_time_day']}`" in latest.answer
    assert f"{newest.record_count:,} rows" in latest.answer


def test_snapshot_and_schema_history(agent):
    record = orders()
    answer = agent.ask("show the snapshot history of orders")
    for snapshot in record.snapshots:
        assert f"(snapshot {snapshot.snapshot_id})" in answer.answer
    assert "schema 1: added column country" in answer.answer


def test_count_by_group_drafted_validated_estimated_and_run(agent, engine):
    answer = agent.ask("count orders by status", run=True)
    assert answer.sql == "SELECT t.status, COUNT(*) AS orders\nFROM sales.orders AS t\nGROUP BY 1\nORDER BY orders DESC"
    assert engine.ran == [answer.sql]
    assert "| shipped | 812 |" in answer.answer and answer.result["rows"] == [["shipped", 812], ["placed", 97]]
    assert answer.validation["ok"] and "scans every partition" in answer.validation["warnings"][0]
    assert answer.scan_estimate["files"] == answer.scan_estimate["total_files"]
    assert [c.name for c in answer.tool_calls][-3:] == ["validate_sql", "estimate_scan", "run_sql"]
    assert answer.error is None and answer.tables_cited == ["sales.orders"]


def test_a_streamed_turn_runs_the_sql_when_asked(agent, engine):
    events = list(agent.stream("count orders by status", run=True))
    answer = events[-1].data
    assert [e.data["name"] for e in events if e.type == "tool_start"][-1] == "run_sql"
    assert engine.ran == [answer["sql"]] and answer["result"]["rows"] == [["shipped", 812], ["placed", 97]]


def test_join_along_a_key_column_and_follow_up(agent):
    answer = agent.ask("write SQL for weekly active users by country", thread_id="w")
    assert "date_trunc('week', t.event_time) AS week" in answer.sql
    assert "COUNT(DISTINCT t.user_id)" in answer.sql and "JOIN crm.users AS u ON t.user_id = u.user_id" in answer.sql
    assert answer.validation["ok"] and set(answer.tables_cited) == {"web.events", "crm.users"}
    assert "Ask me to run it" in answer.answer
    monthly = agent.ask("and by month?", thread_id="w")
    assert "date_trunc('month', t.event_time) AS month" in monthly.sql and "u.country" in monthly.sql


def test_top_n_and_filters(agent):
    top = agent.ask("top 5 countries by amount in orders")
    assert "SUM(t.amount) AS total_amount" in top.sql and top.sql.endswith("ORDER BY total_amount DESC\nLIMIT 5")
    filtered = agent.ask("average amount of orders where status is shipped in 2026-11")
    assert "AVG(t.amount)" in filtered.sql and "t.status = 'shipped'" in filtered.sql
    assert "t.order_ts >= DATE '2026-11-01' AND t.order_ts < DATE '2026-12-01'" in filtered.sql
    assert filtered.validation["warnings"] == []
    assert filtered.scan_estimate["files"] < filtered.scan_estimate["total_files"]


def test_repairs_sql_from_the_validators_hint():
    bad = "SELECT t.amout FROM sales.orders AS t"
    assert repair(bad, ["unknown column amout in sales.orders; did you mean amount?"]) == "SELECT t.amount FROM sales.orders AS t"
    failed = [
        HumanMessage("sum of amount in orders"),
        AIMessage("", tool_calls=[{"name": "validate_sql", "args": {"sql": bad}, "id": "v1"}]),
        ToolMessage('{"error":"the SQL is not valid","errors":["unknown column amout in sales.orders; did you mean amount?"]}',
                    tool_call_id="v1", status="error"),
    ]  # fmt: skip
    step = check_sql(bad, Conversation.read(failed, TODAY))
    assert step[0].name == "validate_sql" and step[0].args == {"sql": "SELECT t.amount FROM sales.orders AS t"}


def test_runs_sql_when_the_graph_or_the_question_asks_not_on_prompt_wording():
    asked = [SystemMessage(load_prompt("run")), HumanMessage("count orders by status")]
    assert not Conversation.read(asked, TODAY).run
    assert Conversation.read(asked, TODAY, run_requested=True).run
    assert Conversation.read([HumanMessage("count orders by status and run it")], TODAY).run


def test_unknown_questions_get_a_plain_no_and_how_to_configure(agent):
    answer = agent.ask("what's the weather in Paris tomorrow?")
    assert answer.answer.startswith("I cannot answer that.")
    assert "LAKESCOUT_MODEL__NAME" in answer.answer and "LAKESCOUT_MODEL__BASE_URL" in answer.answer
    assert answer.tool_calls == [] and answer.tables_cited == []


def test_bound_tools_limit_what_it_calls():
    model = OfflineChatModel(today=TODAY)
    reply = model.invoke([HumanMessage("describe sales.orders")])
    assert not reply.tool_calls and reply.text.startswith("I cannot answer that.")
    bound = model.bind_tools([])
    assert isinstance(bound, OfflineChatModel) and bound.tool_names == ()


# The README's questions against the sample lake, with the real index and engine.


@pytest.fixture(scope="module")
def lake_agent(sample_settings):
    from agent.context import AgentContext

    context = AgentContext.from_settings(sample_settings)
    return LakeAgent(context, model=OfflineChatModel(today=TODAY), checkpointer=InMemorySaver())


def test_sample_lake_readme_questions(lake_agent):
    store = lake_agent.context.store
    refunds_answer = lake_agent.ask("which table has refunds by region?")
    assert "is `finance.refunds`" in refunds_answer.answer
    orders_record = store.get("marts.orders")
    size = lake_agent.ask("how big is orders and when was it last written?")
    assert f"{orders_record.totals.record_count:,} rows" in size.answer
    assert orders_record.last_updated.isoformat() in size.answer
    week = lake_agent.ask("what partitions of events exist for last week?")
    monday = TODAY - timedelta(days=TODAY.weekday() + 7)
    assert f"for last week: {monday} to {monday + timedelta(days=6)}" in week.answer
    wau = lake_agent.ask("write SQL for weekly active users by country")
    assert "date_trunc('week'" in wau.sql and "COUNT(DISTINCT t.user_id)" in wau.sql and wau.validation["ok"]
    ran = lake_agent.ask("count orders by status", run=True)
    assert ran.error is None and sum(row[1] for row in ran.result["rows"]) == orders_record.totals.record_count


# Question classes beyond the basics: refusals, column-level schema, history, follow-ups, value filters.


def test_unsafe_requests_are_declined_without_tools(agent):
    for question in ("DROP TABLE sales.orders", "please delete the cancelled orders from sales.orders",
                     "UPDATE sales.orders SET status = 'x'", "grant select on sales.orders to bob"):
        answer = agent.ask(question)
        assert answer.answer.startswith("I can't do that") and "read-only" in answer.answer, question
        assert answer.tool_calls == [] and answer.sql is None
    files = agent.ask("run SELECT * FROM read_parquet('/home/me/x.parquet')")
    assert "files outside the lake" in files.answer and files.tool_calls == []


def test_history_questions_are_not_refusals(agent):
    answer = agent.ask("were rows in sales.orders ever deleted or overwritten?")
    assert [c.name for c in answer.tool_calls] == ["table_history"]
    assert "Operations over its history: append (3)" in answer.answer and "only appends" in answer.answer
    last = agent.ask("what kind of operation was the last commit on finance.refunds?")
    assert f"the current one is {refunds().current_snapshot_id} (operation: append, at" in last.answer


def test_column_level_schema_questions(agent):
    record = orders()
    typed = agent.ask("which data type has the amount column of sales.orders?")
    assert "`amount` in `sales.orders` is of type `decimal(12,2)`" in typed.answer and "Order total in EUR" in typed.answer
    counted = agent.ask("number of columns in sales.orders?")
    assert f"`sales.orders` has {len(record.columns)} columns" in counted.answer
    assert "declares no identifier fields" in agent.ask("what is the primary key of sales.orders?").answer
    assert "no sort order defined" in agent.ask("how is sales.orders sorted?").answer


def test_follow_ups_resolve_it_and_other_tables(agent):
    agent.ask("where can I find refunds?", thread_id="f")
    size = agent.ask("how big is that table?", thread_id="f")
    assert [c.args for c in size.tool_calls] == [{"table": "finance.refunds"}]
    assert f"{refunds().totals.total_bytes:,} bytes" in size.answer
    other = agent.ask("and sales.orders?", thread_id="f")
    assert other.tables_cited == ["sales.orders"] and f"{orders().totals.record_count:,} rows" in other.answer
    typed = agent.ask("what type is order_ts?", thread_id="f")
    assert "`order_ts` in `sales.orders` is of type `timestamptz`" in typed.answer


def test_regroup_replaces_the_grouping_and_run_it_reruns(agent, engine):
    agent.ask("count orders by status in sales.orders", thread_id="g")
    regrouped = agent.ask("now by country instead", thread_id="g")
    assert regrouped.sql.startswith("SELECT t.country, COUNT(*)") and "status" not in regrouped.sql
    ran = agent.ask("run it", thread_id="g")
    assert ran.sql == regrouped.sql and engine.ran[-1] == ran.sql


def test_row_count_comes_from_catalog_statistics(agent):
    answer = agent.ask("how many orders are there in sales.orders?")
    assert f"`sales.orders` has {orders().totals.record_count:,} rows in its current snapshot" in answer.answer
    assert answer.sql == "SELECT COUNT(*) AS orders\nFROM sales.orders AS t"


def test_missing_data_is_declined_with_the_nearest_tables(agent):
    answer = agent.ask("which table has employee salaries and payroll?")
    assert "the lake does not seem to have that data" in answer.answer and answer.sql is None


class ValueEngine(StubEngine):
    """Answers value probes (column_name, value) with the statuses of the orders table."""

    def run(self, sql, limit):
        from agent.sql.engines.base import QueryResult

        self.ran.append(sql)
        rows = [("status", v) for v in ("placed", "shipped", "CANCELLED")] + [("country", "DE")]
        return QueryResult(columns=["column_name", "value"], rows=rows, truncated=False, elapsed_ms=1.0)


def test_filters_in_words_are_matched_to_probed_column_values(tmp_path):
    engine = ValueEngine()
    agent = LakeAgent(make_context(tmp_path, engine), model=OfflineChatModel(today=TODAY), checkpointer=InMemorySaver())
    cancelled = agent.ask("how many cancelled orders per country in sales.orders?")
    assert "SELECT DISTINCT status FROM sales.orders" in engine.ran[0]
    assert "WHERE t.status = 'CANCELLED'" in cancelled.sql and "GROUP BY 1" in cancelled.sql
    verb = agent.ask("how many distinct customer_id placed orders in sales.orders?")
    assert verb.sql == "SELECT COUNT(DISTINCT t.customer_id) AS customer_id\nFROM sales.orders AS t"


def test_several_aggregates_units_and_ranked_top_n(agent):
    both = agent.ask("total amount and average amount by country in sales.orders")
    assert "SUM(t.amount) AS total_amount, AVG(t.amount) AS avg_amount" in both.sql
    ranked = agent.ask("which 3 countries have the lowest amount in sales.orders?")
    assert "SUM(t.amount) AS total_amount" in ranked.sql and ranked.sql.endswith("ORDER BY total_amount ASC\nLIMIT 3")


def test_instructions_to_the_assistant_are_not_topic_words(agent, engine):
    plain = agent.ask("count refunds by region")
    for question in (
        "Draft a SQL query for: refunds by region. Validate it and return the SQL.",
        "Count refunds by region and make sure it runs. Only the query, please.",
        "Please explain: refunds by region, then validate it and give me just the SQL without any explanation.",
        "refunds by region. Return the SQL only.",
        "Draft a SQL query for: refunds by region (the editor language is postgres). Validate it and return the SQL.",
        "Refunds by region in DuckDB syntax; no comments.",
    ):
        answer = agent.ask(question)
        assert answer.sql == plain.sql and answer.validation["ok"], question
        searched = [c.args["query"] for c in answer.tool_calls if c.name == "search_tables"]
        assert searched == ["refunds region"], question
        assert not {"validate", "return", "explain", "sure", "only", "please"} & set(searched[0].split()), question
    assert engine.ran == []  # "make sure it runs" asks for a valid query, not to run it
    agent.ask("count refunds by region", thread_id="i")
    told = agent.ask("validate it and return only the SQL", thread_id="i")
    assert told.sql == plain.sql
    ran = agent.ask("Draft SQL for refunds by region, validate it and run it.")
    assert ran.sql == plain.sql and engine.ran[-1] == plain.sql


def test_instruction_clauses_are_only_about_the_answer():
    from agent.models.language import split_instructions

    assert split_instructions("Draft a SQL query for: refunds by region. Validate it and return the SQL.") == (
        "Draft a SQL query for: refunds by region.", ["Validate it", "and return the SQL"])  # fmt: skip
    for question in ("show returns by region", "return rate by region", "show it by month", "check that the status column exists"):
        assert split_instructions(question) == (question, []), question


def test_a_new_question_in_a_thread_inherits_only_what_it_refers_to(agent):
    first = agent.ask("describe sales.orders")
    off_topic = agent.ask("what is the weather like in Paris?", thread_id=first.thread_id)
    assert "sales.orders" not in off_topic.answer and off_topic.answer.startswith("I cannot answer that")
    assert off_topic.tool_calls == [] and off_topic.grounding.unaccounted == ["weather", "paris"]
    again = agent.ask("describe sales.orders")
    referring = agent.ask("and how many partitions does it have?", thread_id=again.thread_id)
    assert referring.answer.startswith("`sales.orders` is partitioned by day of order_ts")


# Trust (issue 13): each group once, yes/no column questions, requests to act, top-1 superlatives.


def test_a_group_named_in_two_words_is_grouped_once(agent):
    answer = agent.ask("count orders by order status in sales.orders")
    assert answer.sql.startswith("SELECT t.status, COUNT(*)") and "GROUP BY 1\n" in answer.sql


def test_yes_or_no_column_questions(agent):
    yes = agent.ask("Does sales.orders have a country column?")
    assert yes.answer.startswith("Yes: `sales.orders` has a column `country` of type `string`.")
    no = agent.ask("does sales.orders have a column called discount_code?")
    assert no.answer.startswith("No: `sales.orders` has no column `discount_code`.")  # not labelled partial


def test_requests_to_act_outside_the_catalog_are_declined(agent):
    answer = agent.ask("send an email to the owner of sales.orders")
    assert answer.answer.startswith("I can't do that") and answer.tool_calls == [] and answer.sql is None


def test_which_x_has_the_most_y_is_a_top_one_query(agent):
    answer = agent.ask("which country has the most orders in sales.orders?")
    assert answer.sql.startswith("SELECT t.country, COUNT(*)") and answer.sql.endswith("DESC\nLIMIT 1")


def test_numbers_written_in_words_are_read_as_digits():
    from agent.models.language import spelled_numbers

    assert spelled_numbers("orders with more than five items") == "orders with more than 5 items"
    assert spelled_numbers("refunds over two hundred and fifty USD, the last seven days") == \
        "refunds over 250 USD, the last 7 days"  # fmt: skip
    assert spelled_numbers("forty-five and twenty one") == "45 and 21"
    assert spelled_numbers("which one is the latest? one row per order") == "which one is the latest? one row per order"
    assert spelled_numbers("more than one payment") == "more than 1 payment"


def test_a_threshold_and_a_period_in_words_filter_the_draft(agent):
    over = agent.ask("how many orders have an amount over two hundred in sales.orders?")
    assert "t.amount > 200" in over.sql and not over.grounding.unaccounted
    recent = agent.ask("count orders in sales.orders from the last seven days")
    assert f"t.order_ts >= DATE '{TODAY - timedelta(days=6)}'" in recent.sql


def test_an_average_number_per_group_is_the_mean_of_the_counts(agent):
    answer = agent.ask("what's the average number of orders per customer in sales.orders?")
    assert answer.sql.startswith("SELECT AVG(orders) AS avg_orders\nFROM (SELECT t.customer_id, COUNT(*) AS orders")
    assert "GROUP BY 1) AS per_group" in answer.sql


def test_a_follow_up_counting_something_else_or_the_same_of_another_table_stands_for_it(agent):
    agent.ask("how many orders are there in sales.orders?", thread_id="s")
    other = agent.ask("and how many refunds?", thread_id="s")
    assert other.tables_cited[:1] == ["finance.refunds"]
    agent.ask("count orders in sales.orders", thread_id="t")
    same = agent.ask("now the same for finance.refunds", thread_id="t")
    assert "FROM finance.refunds AS t" in same.sql and "same" not in same.grounding.unaccounted


def test_of_those_counts_the_previous_answers_table(lake_agent):
    lake_agent.ask("describe raw.events", thread_id="those")
    purchases = lake_agent.ask("how many of those were purchases?", thread_id="those")
    assert "FROM raw.events" in purchases.sql and "event_type = 'purchase'" in purchases.sql
    other = lake_agent.ask("how many tickets are there?", thread_id="those")  # no reference back: its own table
    assert "FROM support.tickets" in other.sql
