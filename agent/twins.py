"""Filters on one of two columns of a kind: which of them a question means, when its words do not say.

Two columns of a described table are twins when their names end in the same noun and differ before it
(``origin_airport`` and ``dest_airport``, ``base_currency`` and ``quote_currency``). A query that tests one of
them for a value ("flights from 'LAX'") has chosen between them; the question accounts for that choice only
when it says the words that set the chosen one apart (or a synonym of them), or when the twin cannot hold the
value (its profile lists every value it has, and not that one). Otherwise the value is not accounted for:
which column the question means is not known. Names and profiles only: nothing here knows a lake.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

from agent.grounding_doubts import grouped_columns
from agent.models.language import related
from agent.rivals import tables_read
from agent.state import TurnFacts
from catalog_ingest.text import identifier_parts, stem, words

GENERIC_HEADS = frozenset("id at ts on date time key".split())
"""Last name parts that say what kind of value a column holds, not what it is about (``created_at``)."""


def head_and_modifiers(name: str) -> tuple[str, set[str]]:
    """``dest_airport`` -> airport, {dest}; a nested column by its last part."""
    parts = [p.lower() for p in identifier_parts(name.rpartition(".")[2])]
    return (parts[-1], set(parts[:-1])) if parts else ("", set())


def may_hold(column: dict[str, Any], value: str) -> bool:
    """Whether the column may hold the value: no for a profile that lists all of its values without it."""
    profile = column.get("profile") or {}
    shown = profile.get("top_values") or {}
    complete = shown and profile.get("distinct") == len(shown) and not profile.get("sampled")
    return not complete or value in shown


def described_columns(facts: TurnFacts, tables: set[str]) -> list[list[dict[str, Any]]]:
    return [result.data.get("columns") or [] for result in facts.results
            if result.ok and result.name == "describe_table" and str(result.data.get("table", "")).lower() in tables]


def told_apart(modifiers: set[str], question: str, said: set[str]) -> bool:
    """The question says what sets the column apart: a modifier, its stem or synonym, or a word it shortens
    (``dest`` for "destination")."""
    if modifiers & said or {stem(p) for p in modifiers} & said:
        return True
    return any(len(p) >= 3 and w.startswith(p) for p in modifiers for w in words(question))


def unsaid_twins(question: str, facts: TurnFacts, sql: str) -> list[str]:
    """The values the SQL tests on one of two twin columns that the question does not tell apart."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return []
    said = {stem(w) for w in words(question)}
    said |= {s for w in words(question) for s in related(w)}
    tables = described_columns(facts, tables_read(tree))
    unsaid = []
    for test in tree.find_all(exp.EQ):
        column, value = test.this, test.expression
        if not isinstance(column, exp.Column) or not (isinstance(value, exp.Literal) and value.is_string):
            continue
        head, own = head_and_modifiers(column.name)
        if head in GENERIC_HEADS or not own or told_apart(own, question, said):
            continue
        for columns in tables:
            if not any(str(c.get("name", "")).lower() == column.name.lower() for c in columns):
                continue
            twins = [c for c in columns if str(c.get("name", "")).lower() != column.name.lower()
                     and head_and_modifiers(str(c.get("name", "")))[0] == head and may_hold(c, value.this)]  # fmt: skip
            if twins and value.this.lower() not in unsaid:
                unsaid.append(value.this.lower())
    return unsaid


def unsaid_measure_twins(question: str, facts: TurnFacts, sql: str) -> list[str]:
    """The question's words for a column the SQL aggregates when the table has a numeric twin named as it is
    plus one part (``amount`` and ``amount_usd``, ``total_amount`` and ``total_amount_usd``) and the question
    names the measure ("order total") without that part: which of the two it means (a currency, a unit) is not
    known. A question that does not name the measure (a follow-up, "average order value") is not doubted here.
    Where the plain column's rows are in several units (a ``currency`` column beside ``amount``: ``Table.in_one_unit``),
    the one-unit twin is the sound choice and the plain one is doubted even when the question says its name, unless
    the SQL groups or filters by the unit column ("amount by currency")."""
    from agent.models.tables import NUMERIC, Table

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return []
    said_words = {p.lower() for w in words(question) for p in [w, *identifier_parts(w)]}  # "amount_usd": usd said
    said = {stem(w) for w in said_words} | {s for w in said_words for s in related(w)}
    described = described_columns(facts, tables_read(tree))
    numeric = [{str(c.get("name", "")).lower() for c in columns if NUMERIC.match(str(c.get("type", "")).lower())}
               for columns in described]  # fmt: skip
    units = [Table("", columns, [], {}) for columns in described]
    where = tree.args.get("where")
    tested = [*grouped_columns(tree), *(c.name for c in (where.find_all(exp.Column) if where else []))]
    doubted: list[str] = []
    for agg in tree.find_all(exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Median):
        column = agg.find(exp.Column)
        if column is None:
            continue
        name = column.name.lower()
        parts = [p.lower() for p in identifier_parts(name)]
        asked = [w for w in words(question) if related(w) & {stem(p) for p in parts}]
        if any(table.in_one_unit(name, tested) for table in units if table.has(name)):  # amount mixes currencies
            doubted += [w for w in (asked or [name])[:1] if w not in doubted]
            continue
        if name in {w.lower() for w in words(question)}:
            continue  # the column named as it is written
        for names, table in ((n, t) for n, t in zip(numeric, units) if name in n):
            for other in names - {name}:
                if (table.in_one_unit(other, tested) or ("",))[0] == name:
                    continue  # amount_usd beside amount in several currencies: the sound choice, said or not
                theirs = [p.lower() for p in identifier_parts(other)]
                extra = set(theirs) ^ set(parts)
                if len(extra) != 1 or not (set(parts) <= set(theirs) or set(theirs) <= set(parts)):
                    continue
                if extra & said or {stem(p) for p in extra} & said:
                    continue  # "amount in usd": the question says which
                doubted += [w for w in asked[:1] if w not in doubted]  # a measure the question does not name: not its choice
    return doubted
