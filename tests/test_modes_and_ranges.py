"""Two classes of trust_dev13 (issue 13): the most (or least) common value of a column is the top one of a count
grouped by it; the smallest and largest value of a column (a number or a time) are its MIN and MAX."""

from __future__ import annotations

from datetime import date

from agent.models.offline.intents import detect_intent
from agent.models.request import parse_request
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table

TODAY = date(2026, 12, 6)
RUNS = Table("ops.jobs", [{"name": "job", "type": "string"}, {"name": "state", "type": "string",
                                                             "profile": {"values": {"broken": 3, "ok": 40}}},
                          {"name": "kind", "type": "string"}, {"name": "began_at", "type": "timestamp"},
                          {"name": "cost", "type": "double"}], [], {}, rows=43)


def drafted(question: str) -> str:
    return draft_sql(parse_request(question, TODAY), [RUNS], RUNS).sql.replace("\n", " ")


def test_the_most_common_value_is_the_top_group_by_its_row_count():
    for question in ("what is the most common job kind in ops.jobs?", "which kind comes up the most in ops.jobs?",
                     "the most frequent kind of ops.jobs"):
        sql = drafted(question)
        assert "GROUP BY 1" in sql and "LIMIT 1" in sql and "COUNT(*)" in sql and "t.kind" in sql, (question, sql)
        assert "DESC" in sql, sql
    assert "ASC LIMIT 1" in drafted("what is the least used kind in ops.jobs?")
    broken = drafted("which job broke most often in ops.jobs?")
    assert "t.job" in broken and "LIMIT 1" in broken, broken
    assert detect_intent("which pipeline failed most often?").kind == "sql"
    assert detect_intent("what is the least used payment method?").kind == "sql"
    assert detect_intent("which table is used most often?").kind != "sql"  # about the lake's tables


def test_the_smallest_and_largest_value_of_a_column_are_its_min_and_max():
    sql = drafted("what are the earliest and latest began_at in ops.jobs?")
    assert "MIN(t.began_at)" in sql and "MAX(t.began_at)" in sql, sql
    assert "MAX(t.began_at)" in drafted("what is the most recent began_at in ops.jobs?")
    ranged = drafted("what range do the costs in ops.jobs span?")
    assert "MIN(t.cost)" in ranged and "MAX(t.cost)" in ranged, ranged
    assert "SUM(t.cost)" in drafted("total cost in ops.jobs")  # a plain total is still a sum
    assert detect_intent("what is the range of cost in ops.jobs?").kind == "sql"
