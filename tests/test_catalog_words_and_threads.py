"""Catalog-wide questions said in other words ("the widest table", "the tiniest tables", "tables nobody has
written to", "what lives in the X namespace"), follow-ups that change topic or take the place of a value or
period ("and from France?", "and the month before that?"), a filter no row passes, yes/no questions with other verbs,
relative dates in other words and measures said with other verb forms: the offline model's reading of them."""

from __future__ import annotations

from datetime import date

from agent.models.offline.catalog import list_args
from agent.models.offline.intents import detect_intent

TODAY = date(2026, 12, 6)


def test_tables_ranked_by_words_that_do_not_name_the_measure():
    widest = "what is the widest table, column-wise?"
    assert detect_intent(widest).kind == "catalog"
    assert list_args(widest) == {"rank_by": "columns", "descending": True, "limit": 5}
    tiniest = list_args("name the 3 tiniest tables in terms of row count")
    assert (tiniest["rank_by"], tiniest["descending"], tiniest["limit"]) == ("rows", False, 3)
    assert list_args("which table has been snapshotted the most times?")["rank_by"] == "snapshots"
    assert list_args("what is the largest table lake-wide?")["rank_by"] == "bytes"  # "wide" ranks no columns


def test_tables_not_written_said_with_a_contraction_or_nobody():
    for question, days in (("list any tables that haven't been updated for 14 days", 14),
                           ("are there tables nobody has written to in the last 30 days?", 30)):  # fmt: skip
        assert detect_intent(question).kind == "catalog"
        args = list_args(question)
        assert args.get("not_written_days") == days and "written_days" not in args
    assert list_args("which tables were updated in the last 7 days?").get("written_days") == 7


def test_what_a_namespace_holds_is_a_listing_of_its_tables():
    assert detect_intent("what lives in the marketing namespace?").kind == "catalog"
    assert list_args("what lives in the marketing namespace?")["namespace"] == "marketing"
    assert detect_intent("what lives in ads.clicks?").kind != "catalog"  # a table named: about that table


def test_a_follow_up_about_the_whole_catalog_is_not_about_the_table_before():
    from agent.models.offline.conversation import follow_up

    asked = follow_up("show me the columns of support.agents", "and across the whole lake, which table holds the most rows?", TODAY)
    assert "agents" not in asked and detect_intent(asked).kind == "catalog"
    assert follow_up("list the tables in finance", "and which is the biggest?", TODAY).startswith("list the tables in finance")


def test_a_follow_up_naming_other_rows_in_another_table_is_asked_of_them_as_before():
    from agent.models.offline.conversation import follow_up

    asked = follow_up("how many urgent tickets are there in help.tickets?", "what about refunds in pay.refunds that are pending?", TODAY)
    assert asked == "how many refunds in pay.refunds that are pending?"
    assert "urgent" not in follow_up("how many urgent tickets are there in help.tickets?", "and total amount of refunds in pay.refunds?", TODAY)
    kept = follow_up("count orders by status in shop.orders", "and by channel in raw.orders?", TODAY)  # a refinement: same rows
    assert kept.startswith("count orders by status")


def test_a_yes_no_question_about_a_column_with_another_verb_of_holding():
    from agent.models.offline.compose import compose_column

    asked = "does pay.payouts carry a currency column?"
    assert detect_intent(asked).kind == "column"
    data = {"table": "pay.payouts", "columns": [{"name": "payout_id", "type": "string"}, {"name": "fee", "type": "double"}]}
    assert compose_column(data, asked).startswith("No: `pay.payouts` has no column")
    assert compose_column(data, "does pay.payouts hold a fee column?").startswith("Yes: `pay.payouts` has a column `fee`")


def test_a_fortnight_and_days_back_count_from_today():
    from agent.models.language import period_of

    today = date(2026, 12, 6)
    fortnight = period_of("emails opened during the past fortnight", today)
    assert (fortnight.start, fortnight.end) == (date(2026, 11, 23), today)
    back = period_of("any partition for 4 days back?", today)
    assert (back.start, back.end) == (date(2026, 12, 2), date(2026, 12, 2))
    assert period_of("customers who came back", today) is None


def test_per_before_a_table_name_is_no_grouping():
    from agent.grounding import GROUPING
    from agent.models.request import parse_request

    request = parse_request("what did we spend on affiliate, per ads.spend?", date(2026, 12, 6))
    assert request.dims == [] and request.agg == "total"
    assert parse_request("total spend per channel in ads.spend", date(2026, 12, 6)).dims == ["channel"]
    assert not GROUPING.search("what did we spend, per ads.spend?") and GROUPING.search("spend per channel")


def test_an_irregular_past_form_is_its_verb():
    from agent.models.language import related, verb_forms
    from agent.models.request import parse_request
    from agent.models.sql_writer import draft_sql
    from agent.models.tables import Table

    assert "spend" in related("spent") and "cost" in related("spent")  # and the verb's synonyms
    assert "sell" in verb_forms("sold") and verb_forms("opened") >= {"open"}
    costs = Table("ads.costs", [{"name": "cost_day", "type": "date"}, {"name": "spend_eur", "type": "decimal(12,2)"}], [], {})
    request = parse_request("how much have we spent on banners so far in ads.costs?", date(2026, 12, 6))
    assert "SUM(t.spend_eur)" in draft_sql(request, [costs], costs).sql


def test_rows_the_rows_made_are_a_column_of_theirs_never_a_count_of_them():
    from agent.models.request import parse_request
    from agent.models.sql_writer import draft_sql
    from agent.models.tables import Table

    assert detect_intent("how many rows did the failed runs write in etl.runs?").kind == "sql"
    assert detect_intent("how many rows does etl.runs have?").kind == "stats"
    assert detect_intent("how many rows does the runs table have?").kind == "stats"
    columns = [{"name": "run_id", "type": "string"}, {"name": "status", "type": "string"}]
    runs = Table("etl.runs", [*columns, {"name": "rows_written", "type": "long"}], [], {})
    request = parse_request("how many rows did the failed runs write in etl.runs?", date(2026, 12, 6))
    drafted = draft_sql(request, [runs], runs)
    assert "SUM(t.rows_written)" in drafted.sql and not drafted.missing
    bare = Table("etl.runs", columns, [], {})
    assert draft_sql(request, [bare], bare).missing  # no column of rows written: said, not a count of the runs


def test_negations_with_contractions_and_negated_verbs():
    from agent.models.request import parse_request
    from agent.models.sql_writer import draft_sql
    from agent.models.tables import Table

    today = date(2026, 12, 6)
    visits = Table("web.visits", [{"name": "visit_id", "type": "string"}, {"name": "converted", "type": "boolean"},
                                  {"name": "campaign_id", "type": "long"}], [], {})  # fmt: skip
    drafted = draft_sql(parse_request("how many visits didn't convert in web.visits?", today), [visits], visits)
    assert "NOT t.converted" in drafted.sql and not drafted.missing
    no_campaign = draft_sql(parse_request("how many visits don't have a campaign in web.visits?", today), [visits], visits)
    assert "campaign_id IS NULL" in no_campaign.sql and "NOT t.campaign_id" not in no_campaign.sql
    with_campaign = draft_sql(parse_request("how many visits have a campaign in web.visits?", today), [visits], visits)
    assert "NOT t.campaign_id IS NULL" in with_campaign.sql


def test_a_value_after_a_negated_verb_of_source_is_negated():
    from agent.models.values import is_negated
    from catalog_ingest.text import words

    assert is_negated(words("orders that did not come through the web channel"), "web")
    assert not is_negated(words("orders that did not ship in the web channel"), "web")  # web orders, not shipped
    assert not is_negated(words("orders that came through the web channel"), "web")


def test_a_measure_and_a_period_asked_of_a_named_table_is_a_query():
    assert detect_intent("gross revenue yesterday, from shop.daily_sales").kind == "sql"
    assert detect_intent("what did paid social cost us over the last 30 days in ads.spend?").kind == "sql"
    assert detect_intent("shop.daily_sales").kind == "describe"  # the table alone: described


def test_a_count_of_a_value_counts_the_rows_that_hold_it():
    from types import SimpleNamespace

    from agent.models.request import parse_request
    from agent.models.sql_writer import draft_sql
    from agent.models.tables import Table
    from agent.tools.search import matched_values

    hits = Table("web.hits", [{"name": "hit_id", "type": "string"}, {"name": "hit_type", "type": "string"}], [], {},
                 values={"hit_type": ["signup", "view"]})  # fmt: skip
    drafted = draft_sql(parse_request("how many signups happened in web.hits?", date(2026, 12, 6)), [hits], hits)
    assert "t.hit_type = 'signup'" in drafted.sql and not drafted.missing
    column = SimpleNamespace(path="hit_type", pii=False, profile=SimpleNamespace(values=[SimpleNamespace(value="signup")]))
    assert matched_values(SimpleNamespace(columns=[column]), "how many signups last week?") == {"hit_type": ["signup"]}


def test_a_follow_up_phrase_takes_the_place_of_the_one_before():
    from agent.models.offline.conversation import follow_up

    assert follow_up("how many orders came from Germany?", "and from France?", TODAY) == "how many orders came from France?"
    assert follow_up("what's the average order value on web?", "and on ios?", TODAY) == "what's the average order value on ios?"
    kindred = follow_up("how many orders from South Korea in October?", "and in Japan?", TODAY)
    assert kindred == "how many orders from Japan in October?"  # a value for a value, the period kept
    assert follow_up("how many orders in October from Germany?", "and in November?", TODAY) == "how many orders in November from Germany?"
    assert follow_up("count orders by status", "and by month?", TODAY) == "count orders by status by month?"  # groups add up


def test_the_period_before_that_is_one_unit_further_back_or_not_guessed():
    from agent.models.language import period_of
    from agent.models.offline.conversation import follow_up

    shifted = follow_up("how much did we refund last month?", "and the month before that?", TODAY)
    assert shifted == "how much did we refund the month before last?"
    period = period_of(shifted, TODAY)
    assert (period.start, period.end) == (date(2026, 10, 1), date(2026, 10, 31))
    week = period_of("signups the week before last", date(2026, 12, 7))  # a Monday: last week began on 2026-11-30
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert follow_up("how many orders came from Germany?", "and the month before that?", TODAY) == "and the month before that?"


def test_a_column_held_equal_to_two_values_at_once_is_doubted():
    from agent.grounding_doubts import contradictory_filters, parsed

    doubts = contradictory_filters(parsed("SELECT COUNT(*) FROM s.orders AS t WHERE t.country = 'DE' AND t.country = 'FR'"))
    assert doubts == ["country = 'DE' and 'FR' at once"]
    assert contradictory_filters(parsed("SELECT COUNT(*) FROM s.orders WHERE country = 'DE' OR country = 'FR'")) == []
    assert contradictory_filters(parsed("SELECT COUNT(*) FROM s.orders WHERE country = 'DE' AND status = 'paid'")) == []


def test_a_grouped_query_not_grouped_by_what_each_answer_is_for_is_doubted():
    from agent.grounding_doubts import groups_unsaid, parsed

    overall = parsed("SELECT t.country, COUNT(*) AS n FROM s.orders AS t GROUP BY 1 ORDER BY n DESC LIMIT 1")
    assert groups_unsaid("which country has the most orders in each region?", overall) == ["region"]
    ranked = parsed("SELECT region, country FROM (SELECT region, country, ROW_NUMBER() OVER (PARTITION BY region "
                    "ORDER BY COUNT(*) DESC) AS rk FROM s.orders GROUP BY region, country) WHERE rk = 1")
    assert groups_unsaid("which country has the most orders in each region?", ranked) == []
    daily = parsed("SELECT DATE_TRUNC('day', t.ts) AS day, COUNT(*) FROM s.orders AS t GROUP BY 1")
    assert groups_unsaid("orders per day", daily) == []  # a time grain is the period checks' to judge
    per_customer = parsed("SELECT AVG(n) FROM (SELECT customer_id, COUNT(*) AS n FROM s.orders GROUP BY 1)")
    assert groups_unsaid("average number of orders per customer", per_customer) == []
    assert groups_unsaid("revenue for each nation", parsed("SELECT country, SUM(x) FROM s.orders GROUP BY 1")) == []


def test_a_follow_up_shifts_any_period_breaks_down_or_counts_over_the_same_dates():
    from agent.models.language import period_of
    from agent.models.offline.conversation import follow_up, refers_back

    today = date(2026, 12, 7)
    before = follow_up("how much did we spend on ads in the last 30 days?", "and the 30 days before that?", today)
    period = period_of(before, today)
    assert (period.start, period.end) == (date(2026, 10, 9), date(2026, 11, 7))
    september = period_of(follow_up("how many orders in October?", "and the month before that?", today), today)
    assert (september.start, september.end) == (date(2026, 9, 1), date(2026, 9, 30))
    assert follow_up("how much have we spent on paid search?", "split by month", today) == "how much have we spent on paid search by month"
    assert refers_back("by reason?") and refers_back("the day before?") and not refers_back("how many refunds are there?")
    refunds = follow_up("how many orders did we get in October?", "and how many refunds?", today)
    assert refunds == "how many refunds between 2026-10-01 and 2026-10-31"
    assert follow_up("how many orders did we get?", "and how many refunds?", today) == "how many refunds?"


def test_search_as_a_channel_is_no_search_for_tables():
    assert detect_intent("how much have we spent on paid search?").kind == "sql"
    assert detect_intent("search for tables about refunds").kind == "find"
    assert detect_intent("I am searching for a table of refunds").kind == "find"


def test_one_total_over_all_of_something_filtered_to_one_of_them_is_doubted():
    from agent.grounding_doubts import filtered_over_all, parsed

    social = parsed("SELECT COUNT(*) FROM s.tickets AS t WHERE t.priority = 'low' AND t.channel = 'social'")
    assert filtered_over_all("low priority tickets over social, and across all channels?", social) == ["all"]
    assert filtered_over_all("low priority tickets across all channels", parsed("SELECT COUNT(*) FROM s.tickets WHERE priority = 'low'")) == []
