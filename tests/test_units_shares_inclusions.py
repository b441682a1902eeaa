"""Four shapes of a confident wrong draft, and periods in other words: a measure summed across the units its rows are in (``amount`` beside
``amount_usd`` and a ``currency`` column), a percentage whose "of" phrase filters only its numerator ("what share
of premium members churned"), and a semantic layer's exclusion kept against the question ("including refunded
ones" giving ``status <> 'refunded' AND status = 'refunded'``), and "the largest refund" as the latest refund time."""

from __future__ import annotations

from datetime import date

import sqlglot

from agent.models.language import period_of
from agent.models.offline.intents import detect_intent
from agent.models.request import parse_request
from agent.models.sql_filters import lift_exclusions
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table
from agent.models.values import is_included
from agent.state import ToolResult, TurnFacts
from agent.twins import unsaid_measure_twins
from catalog_ingest.text import words

TODAY = date(2026, 12, 6)


def bookings(profile: bool = False) -> Table:
    unit = ({"name": "cur", "type": "string", "profile": {"top_values": {"EUR": 40, "SEK": 12}}} if profile
            else {"name": "currency", "type": "string"})  # fmt: skip
    return Table("travel.bookings", [
        {"name": "booking_id", "type": "long"}, {"name": "fare", "type": "double"}, {"name": "fare_eur", "type": "double"},
        unit, {"name": "booked_at", "type": "timestamp"}], [], {})  # fmt: skip


def drafted(question: str, table: Table) -> str:
    return draft_sql(parse_request(question, TODAY), [table], table).sql


def test_a_measure_in_several_units_is_taken_in_its_one_unit_column():
    assert "SUM(t.fare_eur)" in drafted("what is the total fare of all bookings?", bookings())
    assert "AVG(t.fare_eur)" in drafted("average booking fare", bookings(profile=True))  # the unit told by the values
    assert "t.fare_eur DESC" in drafted("show the 3 largest bookings by fare", bookings())
    by_currency = drafted("total fare of bookings by currency", bookings())
    assert "SUM(t.fare)" in by_currency and "t.currency" in by_currency  # each group in its own unit
    net = Table("travel.fares", [{"name": "fare", "type": "double"}, {"name": "fare_net", "type": "double"},
                                 {"name": "currency", "type": "string"}], [], {})  # fmt: skip
    assert "SUM(t.fare)" in drafted("what is the total fare?", net)  # fare_net is not fare in one unit
    plain = Table("travel.trips", [{"name": "fare", "type": "double"}, {"name": "fare_eur", "type": "double"}], [], {})
    assert "SUM(t.fare)" in drafted("what is the total fare of all trips?", plain)  # nothing says fare mixes units


def test_the_grounding_doubts_a_sum_across_units_and_not_its_one_unit_twin():
    table = bookings()
    described = ToolResult("describe_table", {"table": table.name}, True, {"table": table.name, "columns": table.columns})
    doubted = lambda sql: unsaid_measure_twins("what is the total fare?", TurnFacts(results=[described], sql=sql), sql)  # noqa: E731
    assert doubted("SELECT SUM(t.fare) FROM travel.bookings AS t") == ["fare"]  # said as written, still mixed
    assert doubted("SELECT SUM(t.fare_eur) FROM travel.bookings AS t") == []
    assert doubted("SELECT t.currency, SUM(t.fare) FROM travel.bookings AS t GROUP BY 1") == []
    assert doubted("SELECT SUM(t.fare) FROM travel.bookings AS t WHERE t.currency = 'SEK'") == []


def test_the_of_phrase_of_a_percentage_picks_the_rows_it_is_of():
    members = Table("club.members", [{"name": "member_id", "type": "long"}, {"name": "tier", "type": "string"},
                                     {"name": "channel", "type": "string"}], [], {},
                    values={"tier": ["premium", "basic"], "channel": ["web", "store"]})  # fmt: skip
    sql = drafted("what share of premium members joined on the web?", members)
    assert "FILTER(WHERE t.channel = 'web')" in sql and "WHERE t.tier = 'premium'" in sql
    whole = drafted("what percentage of members are premium?", members)
    assert "FILTER(WHERE t.tier = 'premium')" in whole and "\nWHERE" not in whole


def test_values_kept_in_lift_the_layers_exclusion_of_them():
    assert is_included(words("how many orders, including refunded ones?"), "refunded")
    assert is_included(words("count the orders with refunded ones included"), "refunded")
    assert not is_included(words("how many refunded orders?"), "refunded")
    condition = sqlglot.parse_one("t.status <> 'refunded' AND t.amount > 0")
    assert lift_exclusions(condition, [("status", "refunded")]).sql() == "t.amount > 0"
    assert lift_exclusions(sqlglot.parse_one("t.status <> 'refunded'"), [("status", "refunded")]) is None
    assert lift_exclusions(sqlglot.parse_one("NOT t.status IN ('refunded', 'void')"),
                           [("status", "refunded")]).sql() == "NOT t.status IN ('void')"  # fmt: skip
    assert lift_exclusions(condition, [("status", "paid")]).sql() == condition.sql()


def test_periods_in_other_words_are_read_as_the_same_periods():
    assert period_of("bookings in the prior month", TODAY).start == date(2026, 11, 1)
    assert period_of("the preceding quarter", TODAY).start == date(2026, 7, 1)
    assert period_of("since the beginning of the year", TODAY).start == date(2026, 1, 1)
    assert period_of("fares month-to-date", TODAY).start == date(2026, 12, 1)
    assert period_of("ytd fares", TODAY).start == date(2026, 1, 1)
    assert period_of("a prior booking", TODAY) is None  # "prior" alone names no period


def test_a_largest_value_is_an_amount_and_a_latest_one_a_time():
    refunds = Table("pay.refunds", [{"name": "refund_id", "type": "long"}, {"name": "refund_time", "type": "timestamp"},
                                    {"name": "value_eur", "type": "double"}], [], {})  # fmt: skip
    assert "MAX(t.refund_time)" not in drafted("what is the largest refund?", refunds)  # a size, not the latest time
    assert "MAX(t.refund_time)" in drafted("what is the maximum refund_time?", refunds)  # the time named as it is
    assert "MAX(t.refund_time)" in drafted("what is the max refund time?", refunds)
    assert detect_intent("what is the largest refund value?").kind == "sql"
    assert detect_intent("what is the largest table?").kind == "catalog"
