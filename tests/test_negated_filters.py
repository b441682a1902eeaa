"""Filters said in words when the question does not name its table: negated values in their other spellings
("outside the X segment", "leaving out X", "did not come in by X", a two-word value), the words that frame, negate
or compare not counted as a missing topic, and the main table chosen by the noun counted and the comparison."""

from __future__ import annotations

from datetime import date

from agent.models.language import what_is_asked
from agent.models.offline.plans import lacks_topic
from agent.models.request import parse_request
from agent.models.sql_writer import choose_main, draft_sql
from agent.models.tables import Table
from agent.models.values import is_negated
from catalog_ingest.text import words

TODAY = date(2026, 12, 6)


def test_negated_values_in_other_words():
    assert is_negated(words("how many members are outside the gold tier?"), "gold")
    assert is_negated(words("visits per browser, leaving out safari"), "safari")
    assert is_negated(words("how many calls did not come in by fax?"), "fax")
    assert is_negated(words("count loans apart from mortgage ones"), "mortgage")
    assert is_negated(words("how many claims were not for water damage?"), "water_damage")  # a value of two words
    assert not is_negated(words("how many claims were for water damage?"), "water_damage")
    assert not is_negated(words("orders that did not ship in the web channel"), "web")  # web orders, not shipped
    assert not is_negated(words("how many calls came in by fax?"), "fax")


def test_words_that_negate_or_compare_are_not_a_missing_topic():
    hits = [{"table": "crm.calls", "columns": ["call_id", "status", "duration_s"], "description": "One row per call."}]
    assert not lacks_topic(["calls", "not", "fail"], hits)  # 'fail' alone is missing: not most of the topic
    assert not lacks_topic(["calls", "fewer", "than", "500"], hits)
    assert lacks_topic(["weather", "forecasts"], hits)
    assert what_is_asked(["visits", "did", "not", "fail", "leaving", "out", "safari"]) == ["visits", "did", "fail", "safari"]
    assert "leave" in what_is_asked(words("how many leave requests were approved"))  # a pair's word alone is a topic


def test_the_table_of_the_counted_noun_and_the_comparison_is_the_main_one():
    payments = Table("src.payments", [{"name": "payment_id", "type": "string"}, {"name": "amount", "type": "double"},
                                      {"name": "method", "type": "string"}], [], {})  # fmt: skip
    payouts = Table("fin.payouts", [{"name": "payout_id", "type": "string"}, {"name": "gross_amount_usd", "type": "double"},
                                    {"name": "paid_at", "type": "timestamp"}], [], {})  # fmt: skip
    request = parse_request("how many payments had an amount over 200?", TODAY)
    main = choose_main(request, [payouts, payments])
    assert main is payments  # the curated layer does not win over the table the question counts
    drafted = draft_sql(request, [payouts, payments], main)
    assert "t.amount > 200" in drafted.sql and not drafted.missing
