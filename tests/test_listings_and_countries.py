"""Rows listed in order ("the 5 largest payouts"), the newest or first time of an event, groups over a row-count
threshold, countries named in words for a column of ISO codes ("orders from Germany"), quarters and "the day
before yesterday" as periods, a table's own key never read as a state, and the kinds of such questions: the
offline model's drafts and the grounding check's evidence for them."""

from __future__ import annotations

from datetime import date

import pytest

from agent.grounding import country_names, sql_evidence
from agent.models.language import country_code, period_of
from agent.models.offline.intents import detect_intent
from agent.models.request import parse_request
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table
from agent.models.values import value_said
from catalog_ingest.text import stem

TODAY = date(2026, 12, 3)
PAYOUT_COLUMNS = [("payout_id", "string"), ("provider", "string"), ("paid_on", "date"), ("gross_usd", "decimal(12,2)"),
                  ("fee_usd", "decimal(12,2)"), ("country", "string")]  # fmt: skip


@pytest.fixture
def payouts() -> Table:
    columns = [{"name": n, "type": t} for n, t in PAYOUT_COLUMNS]
    return Table("money.payouts", columns, ["paid_on"], {}, values={"provider": ["acme", "zeta"], "country": ["DE", "GB", "US"]})


def draft(question: str, table: Table):
    return draft_sql(parse_request(question, TODAY), [table], table)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("refunds last quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("spend this quarter", date(2026, 10, 1), TODAY),
        ("a partition for the day before yesterday", date(2026, 12, 1), date(2026, 12, 1)),
        ("a partition for yesterday", date(2026, 12, 2), date(2026, 12, 2)),
        ("a partition from 3 days ago", date(2026, 11, 30), date(2026, 11, 30)),
        ("rows of a week ago", date(2026, 11, 26), date(2026, 11, 26)),
    ],
)
def test_quarters_and_the_day_before_yesterday_count_from_today(text, start, end):
    period = period_of(text, TODAY)
    assert (period.start, period.end) == (start, end)


def test_last_quarter_in_the_first_quarter_is_the_previous_year():
    period = period_of("last quarter", date(2026, 2, 10))
    assert (period.start, period.end) == (date(2025, 10, 1), date(2025, 12, 31))


def test_country_names_and_adjectives_are_their_iso_codes():
    assert country_code("germany") == "de" and country_code("french") == "fr"
    assert country_code("united_kingdom") == "gb" and country_code("united_states") == "us"
    assert country_code("kingdom") is None and country_code("states") is None  # only after "united"
    assert country_code("us") is None  # the pronoun is no country; "US" in capitals is read as a code elsewhere
    assert value_said("DE", "germany") and not value_said("DE", "france") and not value_said("delayed", "germany")


def test_a_country_in_words_filters_the_code_and_is_accounted_for(payouts):
    sql = draft("total gross_usd paid to Germany", payouts).sql
    assert "t.country = 'DE'" in sql
    assert country_names("total gross_usd paid to Germany", sql_evidence(sql)) == {"germany"}
    assert country_names("total gross_usd paid to the United Kingdom", sql_evidence(sql)) == set()  # GB is not there
    uk = draft("total gross_usd paid to the United Kingdom", payouts).sql
    assert "t.country = 'GB'" in uk
    assert country_names("total gross_usd paid to the United Kingdom", sql_evidence(uk)) == {"united", "kingdom"}


def test_a_value_narrowing_a_group_is_no_measure(payouts):
    made = draft("payouts from Germany by provider", payouts)
    assert "t.country = 'DE'" in made.sql and "GROUP BY 1" in made.sql and not made.missing


def test_top_n_rows_are_listed_with_their_key_not_grouped(payouts):
    made = draft("the 3 largest payouts by gross_usd", payouts)
    assert made.sql.splitlines() == ["SELECT t.payout_id, t.gross_usd", "FROM money.payouts AS t",
                                     "ORDER BY t.gross_usd DESC", "LIMIT 3"]  # fmt: skip
    assert not made.missing
    cheapest = draft("the 2 smallest payouts by fee_usd from acme", payouts)
    assert "ORDER BY t.fee_usd ASC" in cheapest.sql and "t.provider = 'acme'" in cheapest.sql
    assert cheapest.sql.endswith("LIMIT 2")


def test_most_recent_rows_are_ordered_by_the_tables_time(payouts):
    made = draft("show the 4 most recent payouts", payouts)
    assert "ORDER BY t.paid_on DESC" in made.sql and made.sql.endswith("LIMIT 4") and not made.missing


def test_a_listing_it_cannot_order_says_so(payouts):
    made = draft("the 5 largest payouts by weight", payouts)
    assert made.missing and "weight" in made.missing[0] and "ORDER BY" not in made.sql


def test_listed_rows_account_for_the_words_for_rows():
    listed = sql_evidence("SELECT t.x FROM a.logs AS t ORDER BY t.x DESC LIMIT 5")
    counted = sql_evidence("SELECT count(*) FROM a.logs AS t LIMIT 5")
    assert "line" in listed.clauses and "five" in listed.clauses
    assert stem("slowest") in listed.clauses
    assert "line" in counted.clauses  # a count covers rows too, as before


def test_a_tables_own_key_is_never_a_state():
    columns = [{"name": n, "type": t} for n, t in [("bill_id", "string"), ("plan_id", "long"), ("issued_at", "timestamp")]]
    bills = Table("money.bills", columns, [], {})
    assert "bill_id IS NULL" not in draft("how many plans were never billed in money.bills?", bills).sql


def test_the_newest_or_first_time_of_an_event_is_its_columns_max_or_min(payouts):
    assert "MAX(t.paid_on)" in draft("when was the last payout made?", payouts).sql
    first = draft("when was the first payout from acme?", payouts)
    assert "MIN(t.paid_on)" in first.sql and "t.provider = 'acme'" in first.sql
    events = Table("ops.jobs", [{"name": "job_id", "type": "string"}, {"name": "started_at", "type": "timestamp"},
                                {"name": "cancelled_at", "type": "timestamp"}], [], {})  # fmt: skip
    assert "MAX(t.cancelled_at)" in draft("when was the most recent job cancellation?", events).sql


def test_a_row_count_threshold_per_group_is_a_having(payouts):
    listed = draft("which providers had more than 10 payouts?", payouts).sql
    assert "GROUP BY 1" in listed and "HAVING COUNT(*) > 10" in listed and "t.provider" in listed
    counted = draft("how many providers have at least 3 payouts in money.payouts?", payouts).sql
    assert counted.startswith("SELECT COUNT(*) AS groups FROM (SELECT t.provider") and "HAVING COUNT(*) >= 3" in counted
    assert "HAVING" not in draft("how many payouts have fee_usd over 10?", payouts).sql  # a column's threshold


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("why did refunds go up in October?", "why"),
        ("did any pipeline run fail in the last 14 days?", "sql"),
        ("when was the last ticket created?", "sql"),
        ("when was sales.orders last written?", "stats"),
        ("which regions had more than 100 refunds?", "sql"),
        ("show the 5 most recent orders in sales.orders", "sql"),
        ("the 5 biggest tables", "catalog"),
    ],
)
def test_question_kinds(question, kind):
    assert detect_intent(question).kind == kind


def test_rows_with_no_match_in_another_table_are_a_not_exists(payouts):
    columns = [{"name": n, "type": t} for n, t in [("dispute_id", "string"), ("payout_id", "string"), ("country", "string")]]
    disputes = Table("money.disputes", columns, [], {}, values={"country": ["DE"]})
    request = parse_request("how many payouts have never had a dispute from Germany?", TODAY)
    sql = draft_sql(request, [payouts, disputes], payouts).sql
    assert "WHERE NOT EXISTS(SELECT 1 FROM money.disputes AS o WHERE o.payout_id = t.payout_id)" in sql
    assert "t.country = 'DE'" in sql  # a filter outside the missing phrase still applies
    alone = draft_sql(parse_request("how many payouts have never had a dispute?", TODAY), [payouts], payouts).sql
    assert "EXISTS" not in alone  # the table of disputes is not described: nothing to match against
    evidence = sql_evidence(sql)
    assert stem("never") in evidence.clauses and stem("dispute") in evidence.tables | evidence.names
