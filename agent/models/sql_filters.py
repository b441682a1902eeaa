"""The WHERE conditions of a draft: the period, comparisons with numbers, ``x = y``, the states a column
records (null, zero, true) and the percentage of rows meeting conditions."""

from __future__ import annotations

from datetime import timedelta

from sqlglot import exp
from sqlglot.optimizer.simplify import simplify

from agent.models.request import Comparison, Request
from agent.models.sql_expressions import column, date_literal, literal
from agent.models.states import State
from agent.models.tables import NUMERIC, Table
from agent.models.values import is_negated
from agent.models.vocabulary import AGGREGATE_WORDS, UNITS
from catalog_ingest.text import name_parts


STATE_SAID = {"null": "{} is empty (null)", "set": "{} is set (not null)", "zero": "{} is 0", "nonzero": "{} is not 0",
              "true": "{} is true", "false": "{} is false"}  # fmt: skip


def state_condition(state: State) -> exp.Expression:
    """``x IS NULL``, ``x IS NOT NULL``, ``x = 0``, ``x <> 0``, ``x`` or ``NOT x``."""
    ref = column(state.column, "t")
    if state.kind in ("zero", "nonzero"):
        return ref.eq(exp.Literal.number(0)) if state.kind == "zero" else ref.neq(exp.Literal.number(0))
    if state.kind in ("null", "set"):
        null = exp.Is(this=ref, expression=exp.Null())
        return null if state.kind == "null" else exp.Not(this=null)
    return ref if state.kind == "true" else exp.Not(this=ref)


def value_condition(request: Request, found: str, value: str, word: str) -> tuple[exp.Expression, str]:
    """``x = 'v'`` for a value the question names, ``x <> 'v'`` when it is negated ("not refunded"), and what it says."""
    negated = is_negated(request.words, word)
    condition = column(found, "t").neq(literal(value)) if negated else column(found, "t").eq(literal(value))
    return condition, f"{found} is {'not ' if negated else ''}{value}"


def period_said(request: Request) -> str:
    """The end of an explanation that names the request's period (", for last week (...)"), or nothing."""
    return f", for {request.period.label}" if request.period else ""


def lift_exclusions(condition: exp.Expression, kept: list[tuple[str, str]]) -> exp.Expression | None:
    """A condition of the semantic layer without its exclusions of the values the question keeps or asks for
    (``kept``: column, value): "orders including cancelled ones" or "cancelled orders" drop the layer's
    ``status <> 'cancelled'``, which would contradict them; None when nothing of the condition is left."""
    def lifted(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.NEQ) and isinstance(node.this, exp.Column) and isinstance(node.expression, exp.Literal):
            if (node.this.name, node.expression.this) in kept:
                return exp.true()
        if isinstance(node, exp.Not) and isinstance(node.this, exp.In) and isinstance(node.this.this, exp.Column):
            values = node.this.expressions
            left = [v for v in values if not (isinstance(v, exp.Literal) and (node.this.this.name, v.this) in kept)]
            if len(left) < len(values):
                return exp.not_(node.this.this.copy().isin(*left)) if left else exp.true()
        return node

    changed = condition.copy().transform(lifted)
    if changed == condition:
        return condition
    result = simplify(changed)
    return None if result == exp.true() else result


SHARE_WORDS = frozenset(AGGREGATE_WORDS["share"].split())


def share_base(words: list[str], main: Table) -> set[str]:
    """The words saying which rows a percentage is of: those between its "of" and the noun of the main table's
    rows ("what share of mobile sessions converted": mobile; "what percentage of orders were cancelled": none)."""
    for i, word in enumerate(words[:-1]):
        if word in SHARE_WORDS and words[i + 1] == "of":
            noun = next((j for j in range(i + 2, len(words)) if main.is_about(words[j]) or main.is_named(words[j])), None)
            return set(words[i + 2 : noun]) if noun is not None else set()
    return set()


def share_of(conditions: list[exp.Expression]) -> exp.Expression:
    """``100.0 * COUNT(*) FILTER (WHERE ...) / COUNT(*)``: the percentage of rows that meet the conditions."""
    counted = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=exp.and_(*conditions)))
    return exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"), expression=counted), expression=exp.Count(this=exp.Star()))


def filters(request: Request, main: Table, time_col: str | None, missing: list[str], notes: list[str]) -> list[exp.Expression]:
    """The period, the comparisons and the ``where x = y`` of a request; what it cannot place goes to ``missing``,
    how it says the comparisons to ``notes``."""
    where: list[exp.Expression] = []
    if request.period:
        if time_col:
            end = request.period.end + timedelta(days=1)
            where.append(column(time_col, "t") >= date_literal(request.period.start))
            where.append(column(time_col, "t") < date_literal(end))
        else:
            missing.append(f"a date column to filter on {request.period.label}")
    for compared in request.comparisons:
        found = compared_column(compared, main)
        if found is None:
            missing.append(f"a numeric column to compare with {compared.low}")
            continue
        ref = column(found, "t")
        notes.append(f"where {found} is between {compared.low} and {compared.high}" if compared.op == "between"
                     else f"where {found} {compared.op} {compared.low}")
        if compared.op == "between":
            where.append(exp.Between(this=ref, low=literal(compared.low), high=literal(compared.high or compared.low)))
        else:
            where.append(COMPARISON_OPS[compared.op](this=ref, expression=literal(compared.low)))
    for word, value in request.equals:
        found = main.column(word)
        if found is None:
            missing.append(f"a column for '{word}'")
            continue
        where.append(column(found, "t").eq(literal(value)))
    return where


COMPARISON_OPS = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}


def compared_column(compared: Comparison, table: Table) -> str | None:
    """The numeric column a comparison is about: named by the noun after the number ("3 items": ``item_count``)
    or the word before ("csat_score of at least 4"); a unit alone ("over 100 USD") means the amount in it."""
    for name in compared.names:
        if name in UNITS:
            found, score = table.match("amount", NUMERIC, ids=False, units={UNITS[name]})
            if found and score >= 3.5 and UNITS[name] in name_parts(found):
                return found
            continue
        found, score = table.match(name, NUMERIC, ids=False)
        if found and score >= 5.5:
            return found
    return None
