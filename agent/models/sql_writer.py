"""DuckDB SQL for a request over the described tables, built as sqlglot expressions: filters, counts, sums and
averages by group, top N over one table, and joins along obvious key columns (``user_id`` in both, or
``user_id`` -> ``users.id``); also the probe that reads column values, and ``repair``, which applies a
validator's "did you mean" hint to a draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generators.duckdb import DuckDBGenerator

from agent.models.groups import group_owners, phrase_groups
from agent.models.language import layer_rank
from agent.models.request import Comparison, Request
from agent.models.semantic_terms import layer_filters, metric_measure, metric_time_column
from agent.models.states import State, column_states
from agent.models.tables import NUMERIC, Table, counts_other_things, hop_path, join_keys, points_to
from agent.models.values import categorical_columns, is_negated, joined_filters, next_names, value_filters, value_words
from agent.models.vocabulary import UNITS
from catalog_ingest.text import name_parts, stem

PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
"""Names written without quotes; any other (``"Order Date"``) is quoted."""
AGGREGATES = {"count": (exp.Count, "count"), "distinct": (exp.Count, "count"), "total": (exp.Sum, "sum"),
              "avg": (exp.Avg, "average"), "median": (exp.Median, "median"), "min": (exp.Min, "min"),
              "max": (exp.Max, "max")}  # fmt: skip
"""An aggregate word -> the SQL function and how an explanation names it."""
PROBE_VALUES = 40


@dataclass
class Draft:
    sql: str
    explanation: str
    missing: list[str] = field(default_factory=list)
    table: str = ""
    whole_table_count: bool = False
    """A plain count of all rows: the catalog's row count answers it without running anything."""


# SQL expressions -----------------------------------------------------------------------------------------


class DraftDuckDB(DuckDB):
    """DuckDB as people write it by hand: a date is ``DATE '2026-11-01'``, not a cast of a string."""

    class Generator(DuckDBGenerator):
        def cast_sql(self, expression: exp.Cast, safe_prefix: str | None = None) -> str:
            if expression.is_type(exp.DataType.Type.DATE) and expression.this.is_string:
                return f"DATE {self.sql(expression, 'this')}"
            return super().cast_sql(expression, safe_prefix)


def identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=not PLAIN_IDENTIFIER.fullmatch(name))


def column(name: str, table: str | None = None) -> exp.Expression:
    """A column, possibly a nested field (``address.city``), of the table aliased ``table``."""
    first, *fields = name.split(".")
    ref = exp.column(identifier(first), table=exp.to_identifier(table) if table else None)
    return exp.Dot.build([ref, *map(identifier, fields)]) if fields else ref


def table_as(name: str, alias: str | None = None) -> exp.Expression:
    table = exp.to_table(name)
    return exp.alias_(table, alias, table=True) if alias else table


def literal(value: str) -> exp.Literal:
    return exp.Literal.number(value) if re.fullmatch(r"-?\d+(\.\d+)?", value) else exp.Literal.string(value)


def date_literal(day: date) -> exp.Expression:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.Type.DATE)


def render(expression: exp.Expression) -> str:
    """The expression as DuckDB SQL, function names as written (``date_trunc``)."""
    return expression.sql(dialect=DraftDuckDB, normalize_functions=False)


def render_draft(query: exp.Select) -> str:
    """One clause a line with its items on that line, the way people write short queries (sqlglot's pretty
    form gives every item a line of its own)."""
    clauses = [query.args.get("from_"), *query.args.get("joins", []), *map(query.args.get, ("where", "group", "order", "limit"))]  # fmt: skip
    head = "SELECT " + ", ".join(render(item) for item in query.expressions)
    return "\n".join([head, *(render(clause) for clause in clauses if clause)])


def is_row_count(expression: exp.Expression) -> bool:
    return isinstance(expression, exp.Count) and isinstance(expression.this, exp.Star)


# Drafting ------------------------------------------------------------------------------------------------


def measure_expr(agg: str, measure: list[str], table: Table, alias: str, request: Request) -> tuple[exp.Expression, str] | None:
    """The aggregate over ``table``, with words explaining it; None when no column fits the measure."""
    word = measure[-1] if measure else ""
    named_measure = (bool(word) and not table.is_named(word)  # "refunds" in refunds: its rows; "mrr" in subscription_mrr: mrr_usd
                     and table.match(word, NUMERIC, ids=False, units=request.units)[1] >= 5.5)
    numeric = agg in ("total", "avg", "median", "min", "max") or (
        request.implicit and word and (not table.is_about(word) or named_measure))  # "mrr by plan": the mrr column
    if numeric:
        fits = [table.match(w, NUMERIC, ids=False, units=request.units) for w in measure]
        found, fit = max(reversed(fits), key=lambda fit: fit[1], default=(None, 0.0))  # the best fit, else the head noun's
        if request.implicit and table.is_about(word) and fit < 3.5 and not named_measure:
            found = None  # "the most orders" in the orders table: its rows, not a column whose comment says orders
        if found and (agg != "count" or fit >= 3.5):  # "quantity ordered": the quantity, not a count
            function, said = AGGREGATES["total" if agg == "count" else agg]
            return function(this=column(found, alias)), f"{said} of {found}"
        if agg not in ("total", "count"):
            return None
    distinct_key = agg == "distinct" and bool(word) and not table.is_named(word) and table.has(f"{stem(word)}_id")
    if not word or (table.is_about(word) and not distinct_key):  # unique products of product_sales_daily: its product_id
        return exp.Count(this=exp.Star()), f"count of rows in {table.name}"
    key = table.column(f"{stem(word)}_id") if table.has(f"{stem(word)}_id") else None
    key = key or (table.column(word) if agg == "distinct" else None)
    if key:
        return exp.Count(this=exp.Distinct(expressions=[column(key, alias)])), f"count of distinct {key}"
    return exp.Count(this=exp.Star()), f"count of rows in {table.name}"


def alias_for(agg: str, measure: list[str]) -> str:
    """The output column of a measure: ``total_amount``, ``avg_price``, ``orders``."""
    phrase = "_".join(measure) or "rows"
    prefix = {"total": "total_", "avg": "avg_", "median": "median_", "min": "min_", "max": "max_"}.get(agg, "")
    return re.sub(r"\W+", "_", prefix + phrase)[:40]


def coverage(request: Request, table: Table, tables: list[Table]) -> int:
    """How much of the request a table answers as the main one; counting distinct X favours activity tables
    that carry ``x_id`` over the table of X itself."""
    joinable = [t for t in tables if t is not table and join_keys(table, t)]
    found = sum(table.column(d) is not None or any(t.column(d) for t in joinable) for d in request.dims)
    found += measure_expr(request.agg, request.measure, table, "t", request) is not None
    entity = request.measure[-1] if request.measure else ""
    found += bool(entity) and (table.is_about(entity) or table.has(f"{stem(entity)}_id"))
    found += bool(entity) and table.is_named(entity)
    found += 2 * (request.agg == "distinct" and table.has(f"{stem(entity)}_id") and not table.is_about(entity))
    found += bool((request.grain or request.period) and table.time_column())
    if request.agg in ("total", "avg", "median", "min", "max"):
        found += max(table.match(w, NUMERIC, ids=False)[1] for w in request.measure or [""]) >= 6
    return found


def choose_main(request: Request, tables: list[Table], named: list[str] = ()) -> Table | None:
    """The table the query is over: the first one the question names, else the best-covering one."""
    forced = [t for n in named for t in tables if t.name == n]
    if forced:
        return forced[0]
    if not tables:
        return None
    return max(tables, key=lambda t: (coverage(request, t, tables), layer_rank(t.name), -tables.index(t)))


def draft_sql(request: Request, tables: list[Table], main: Table | None = None) -> Draft | None:
    """The query over the main table, joined to others for groups it lacks; None without tables."""
    main = main or choose_main(request, tables)
    if main is None:
        return None
    aliases = {main.name: "t"}
    joins: list[tuple[exp.Expression, exp.Expression]] = []
    select: list[exp.Expression] = []
    notes: list[str] = []
    missing: list[str] = []
    matched = value_filters(request, main)
    states, event_column = column_states(request, main, {w for _, _, w in matched})
    stated = {w for state in states for w in state.words}  # "orders with no campaign": a filter, not a measure
    time_col = event_column or metric_time_column(request.layer, main.name) or main.time_column()
    if request.grain:
        if time_col:
            truncated = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string(request.grain), column(time_col, "t")])
            select.append(exp.alias_(truncated, request.grain))
            notes.append(f"per {request.grain} of {time_col}")
        else:
            missing.append(f"a date or timestamp column for '{request.grain}' in {main.name}")
    joined = joined_filters(request, main, tables, matched)
    matched = [m for m in matched if m[2] not in {j[3] for j in joined}]
    named = {request.words[request.words.index(w) + 1]  # "the billing team": team is the filter's column
             for _, c, _, w in joined if w in request.words and next_names(request.words, w, c)}  # fmt: skip
    as_values = {w for _, _, w in matched} | {j[3] for j in joined} | named  # "tickets by phone": a filter, not a group
    dims, qualifiers = phrase_groups([d for d in request.dims if d not in as_values], request.qualifiers, main)
    owners = group_owners(request.owners, qualifiers, main)
    located = {dim: locate(dim, main, tables, aliases, joins, owners.get(dim)) for dim in dims if dim not in qualifiers}
    grouped: set[tuple[str, str]] = set()
    for dim in dims:
        if located.get(qualifiers.get(dim, ""), (None, None))[1]:
            continue  # "agent team": grouped by the team, not also by the agent's key
        owner, found = located.get(dim) or locate(dim, main, tables, aliases, joins, owners.get(dim))
        if found is None:
            missing.append(f"a column for '{dim}'")
            continue
        if (owner.name, found) in grouped:
            continue  # "sales channel": two words of one column, grouped once
        grouped.add((owner.name, found))
        select.append(column(found, aliases[owner.name]))
        notes.append(f"by {found}" + ("" if owner is main else f" from {owner.name}"))
    groups = len(select)
    agg = "count" if request.agg == "distinct" and any(w in request.measure for _, _, w in matched) else request.agg
    measures = []
    measure = [w for w in request.measure if w not in stated] or request.measure[:1]
    taught = request.layer.phrases if request.layer else []
    for n, (m_agg, words) in enumerate([(agg, measure), *request.also]):
        expr = measure_expr(m_agg, words, main, "t", request)
        if expr is None:
            missing.append(f"a numeric column for '{' '.join(words)}' in {main.name}")
            expr = (exp.Count(this=exp.Star()), f"count of rows in {main.name}")
        if expr[1] == f"count of rows in {main.name}" and counts_other_things(main, words[-1] if words else "", taught):
            missing.append(f"a table or column for '{words[-1]}' (this counts the rows of {main.name})")
        name = alias_for(m_agg, words) if n else alias_for(request.agg, request.measure)
        measures.append((expr[0], expr[1], name))
    if metric := metric_measure(request.layer, main.name, "t"):
        measures = [metric]
    where = filters(request, main, time_col, missing, notes)
    negated_phrase = lambda phrase: any(is_negated(request.words, w) for w in phrase.lower().split()[:1])  # noqa: E731
    layer_where, layer_notes = layer_filters(request.layer, main.name, "t", negated_phrase)
    where, notes = where + layer_where, notes + layer_notes
    conditions, said = [], []
    for found, value, word in matched:
        negated = is_negated(request.words, word)
        conditions.append(column(found, "t").neq(literal(value)) if negated else column(found, "t").eq(literal(value)))
        said.append(f"{found} is {'not ' if negated else ''}{value}")
    for state in states:
        conditions.append(state_condition(state))
        said.append(STATE_SAID[state.kind].format(state.column))
    for other, found, value, word in joined:  # "enterprise customers": the customers' segment
        conditions.append(column(found, join_alias(other, points_to(main, other), aliases, joins)).eq(literal(value)))
        said.append(f"{found} of {other.name} is {value}")
    if request.agg == "share" and conditions:  # "what percentage of orders were cancelled": those among all
        measures = [(share_of(conditions), f"percentage of rows in {main.name} where {' and '.join(said)}", "percentage")]
    elif request.agg == "share":
        missing.append("a value saying which rows the percentage is of")
    else:
        where += conditions
        notes += [f"where {s}" for s in said]
    first = exp.column(measures[0][2])
    query = exp.select(*select, *(exp.alias_(m[0], m[2]) for m in measures)).from_(table_as(main.name, "t"))
    for table, on in joins:
        query = query.join(table, on=on)
    if where:
        query = query.where(*{render(w): w for w in where}.values())  # a condition the layer and the words both say, once
    if groups:
        query = query.group_by(*(exp.Literal.number(i) for i in range(1, groups + 1)))
    if request.top:
        query = query.order_by(exp.Ordered(this=first, desc=not request.ascending)).limit(request.top)
    elif groups:
        query = query.order_by(exp.Literal.number(1) if request.grain else exp.Ordered(this=first, desc=True))
    said = " and ".join(m[1] for m in measures)
    if request.mean_of_counts and groups:  # counted per group, then the mean of those counts
        query.set("order", None)
        mean = exp.alias_(exp.Avg(this=exp.column(measures[0][2])), f"avg_{measures[0][2]}")
        query, said = exp.select(mean).from_(query.subquery("per_group")), f"average over groups of the {said}"
    explanation = " ".join([said[0].upper() + said[1:], *notes])
    if request.period:
        explanation += f", for {request.period.label}"
    whole = not (groups or where or request.also) and is_row_count(measures[0][0])
    if request.mean_of_counts and not groups:
        missing.append("a column for the groups to average over")
    return Draft(render_draft(query), explanation, missing, main.name, whole)


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


def share_of(conditions: list[exp.Expression]) -> exp.Expression:
    """``100.0 * COUNT(*) FILTER (WHERE ...) / COUNT(*)``: the percentage of rows that meet the conditions."""
    counted = exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=exp.and_(*conditions)))
    return exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"), expression=counted), expression=exp.Count(this=exp.Star()))


def locate(
    dim: str,
    main: Table,
    tables: list[Table],
    aliases: dict[str, str],
    joins: list[tuple[exp.Expression, exp.Expression]],
    owner: str | None = None,
) -> tuple[Table, str | None]:
    """Find a group column in the main table, else in a table that joins to it along a key column; a group
    qualified by its owner ("region of their store") looks in the table about that owner first."""
    own = main.column(dim)
    if own and not (owner and not main.is_about(owner)):
        return main, own
    owned = [t for t in tables if owner and t is not main and t.is_about(owner)]
    for other in owned or tables:  # the owner's table when one is described, else any that joins
        if other is main or (found := other.column(dim)) is None or (keys := points_to(main, other)) is None:
            continue
        join_alias(other, keys, aliases, joins)
        return other, found
    if not own and (path := hop_path(dim, main, tables)):  # payments -> orders -> customers
        middle, first, other, second = path
        join_alias(other, second, aliases, joins, join_alias(middle, first, aliases, joins))
        return other, other.column(dim)
    return main, own


def join_alias(other: Table, keys: tuple[str, str], aliases: dict[str, str],
               joins: list[tuple[exp.Expression, exp.Expression]], base: str = "t") -> str:
    """The alias of a joined table, joining it on ``keys`` (the ``base`` table's, its own) the first time."""
    if other.name not in aliases:
        aliases[other.name] = next(a for a in (other.short[0], f"{other.short[0]}2", "j") if a not in aliases.values())
        joins.append((table_as(other.name, aliases[other.name]), column(keys[0], base).eq(column(keys[1], aliases[other.name]))))
    return aliases[other.name]


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


def probe_sql(request: Request, table: Table) -> str | None:
    """One query reading a few distinct values of each categorical column, when the question has words that
    may be such values; None when there is nothing to look up."""
    columns = categorical_columns(table)
    if not columns or not value_words(request, table):
        return None
    parts = [
        exp.select(exp.alias_(exp.Literal.string(name), "column_name"), exp.alias_(exp.cast(column(name), "VARCHAR"), "value"))
        .from_(exp.select(column(name)).distinct().from_(table_as(table.name)).limit(PROBE_VALUES).subquery(f"d{i}"))
        for i, name in enumerate(columns)
    ]  # fmt: skip
    return render(reduce(lambda union, part: exp.union(union, part, distinct=False), parts))


HINT = re.compile(r"unknown (?:column|table) ([\w.\"]+)[^;]*; did you mean ([\w.\"]+)")


def repair(sql: str, errors: list[str]) -> str | None:
    """Apply each error's first "did you mean" suggestion; None when no error offers one."""
    fixed = sql
    for error in errors:
        if match := HINT.search(error):
            wrong, right = match.group(1).strip('"'), match.group(2).strip('",?')
            fixed = re.sub(rf"(?<!\w){re.escape(wrong)}(?!\w)", right, fixed)
    return fixed if fixed != sql else None
