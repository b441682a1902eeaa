"""DuckDB SQL for a request over the described tables, built as sqlglot expressions: filters, counts, sums and
averages by group, top N over one table, and joins along obvious key columns (``user_id`` in both, or
``user_id`` -> ``users.id``); also the probe that reads column values, and ``repair``, which applies a
validator's "did you mean" hint to a draft. The expressions are in ``sql_expressions``, the conditions in
``sql_filters``, the joins in ``sql_joins``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import reduce

from sqlglot import exp

from agent.models.groups import group_owners, key_beside, phrase_groups
from agent.models.language import layer_rank, what_is_asked
from agent.models.request import Request
from agent.models.semantic_terms import layer_filters, metric_measure, metric_time_column
from agent.models.sql_expressions import column, is_row_count, literal, render, render_draft, table_as
from agent.models.sql_filters import (STATE_SAID, compared_column, filters, lift_exclusions, period_said, share_base, share_of,
                                      state_condition, value_condition)
from agent.models.sql_antijoins import anti_join
from agent.models.sql_joins import join_alias, locate
from agent.models.sql_listing import extreme_draft, listing_draft, ranked_rows, rows_draft
from agent.models.sql_thresholds import count_threshold, threshold_draft
from agent.models.states import column_states
from agent.models.tables import NAMED_AS_IT_IS, NUMERIC, TEMPORAL, Table, counts_other_things, join_keys, points_to
from agent.models.vocabulary import TIME_WORDS
from agent.models.values import categorical_columns, is_included, is_negated, joined_filters, next_names, value_filters, value_words
from catalog_ingest.text import name_parts, stem

AGGREGATES = {"count": (exp.Count, "count"), "distinct": (exp.Count, "count"), "total": (exp.Sum, "sum"),
              "avg": (exp.Avg, "average"), "median": (exp.Median, "median"), "min": (exp.Min, "min"),
              "max": (exp.Max, "max")}  # fmt: skip
"""An aggregate word -> the SQL function and how an explanation names it."""
PROBE_VALUES = 40
OTHER_THING = "a table or column for"
"""How a draft says the noun it counts is not what the table's rows are ("hours" over ``support.agents``)."""


@dataclass
class Draft:
    sql: str
    explanation: str
    missing: list[str] = field(default_factory=list)
    table: str = ""
    whole_table_count: bool = False
    """A plain count of all rows: the catalog's row count answers it without running anything."""


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
        if agg in ("min", "max"):  # "the max of paid_at", "the latest order date": a time has a max too
            timed = max(reversed([table.match(w, TEMPORAL, ids=False) for w in measure]), key=lambda f: f[1], default=(None, 0.0))
            if timed[1] > fit and (timed[1] >= NAMED_AS_IT_IS or TIME_WORDS & set(measure + request.words)):
                found, fit = timed  # not "the largest refund" as the latest refunded_at
        if request.implicit and table.is_about(word) and fit < 3.5 and not named_measure:
            found = None  # "the most orders" in the orders table: its rows, not a column whose comment says orders
        if found and (agg != "count" or fit >= 3.5):  # "quantity ordered": the quantity, not a count
            function, said = AGGREGATES["total" if agg == "count" else agg]
            if one_unit := table.in_one_unit(found, request.dims, request.units):  # amount_usd, not amount
                return function(this=column(one_unit[0], alias)), f"{said} of {one_unit[0]} ({found} is in each row's {one_unit[1]})"
            return function(this=column(found, alias)), f"{said} of {found}"
        if agg not in ("total", "count") or request.made:
            return None  # "how many rows did the runs write?" with no column of rows written: no count of rows
    distinct_key = agg == "distinct" and bool(word) and not table.is_named(word) and table.has(f"{stem(word)}_id")
    repeated = table.repeated_key(word) if word else None  # "orders" over order lines: each order in several rows
    if not word or (table.is_about(word) and not distinct_key and not repeated):  # unique products of product_sales_daily: its product_id
        return exp.Count(this=exp.Star()), f"count of rows in {table.name}"
    if repeated and table.is_about(word) and agg == "count":
        why = (f"its rows are keyed by {' and '.join(table.identifier)}, so one {repeated} may take several rows"
               if table.identifier else f"{repeated} repeats: its bounds span fewer values than the table has rows")
        return exp.Count(this=exp.Distinct(expressions=[column(repeated, alias)])), f"count of distinct {repeated} ({why})"
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


def names_apart(owner: Table, name: str) -> str:
    """Why a draft groups by the key beside the name: the names repeat, or are not known not to."""
    distinct = owner.distinct_count(name)
    known = (f"holds {distinct:,} different values over {owner.rows:,} rows" if distinct is not None and owner.rows
             else "is not known to be unique")
    return f" ({name} {known}, so rows of {owner.name} that share a name are kept apart)"


def coverage(request: Request, table: Table, tables: list[Table]) -> int:
    """How much of the request a table answers as the main one; counting distinct X favours activity tables
    that carry ``x_id`` over the table of X itself."""
    joinable = [t for t in tables if t is not table and join_keys(table, t)]
    found = sum(table.column(d) is not None or any(t.column(d) for t in joinable) for d in request.dims)
    found += measure_expr(request.agg, request.measure, table, "t", request) is not None
    entity = request.measure[-1] if request.measure else ""
    found += bool(entity) and (table.is_about(entity) or table.has(f"{stem(entity)}_id"))
    found += any(table.is_named(word) for word in request.measure)  # "payments" in "payments with a method other than card"
    found += sum(compared_column(compared, table) is not None for compared in request.comparisons)
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
    if request.listing:
        drafts = {"extreme": extreme_draft, "rows": rows_draft}
        made = drafts.get(request.listing, listing_draft)(request, main)
        return Draft(*made, main.name)
    if ranked := ranked_rows(request, main):  # "the top 3 campaigns by budget_usd" of the campaigns: rows
        return Draft(*listing_draft(ranked, main), main.name)
    if threshold := count_threshold(request, main):
        return Draft(*threshold_draft(request, main, *threshold), main.name)
    if unmatched := anti_join(request, main, tables):
        return Draft(*unmatched, main.name)
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
        things = [*(word for word, head in qualifiers.items() if head == dim), dim]  # "product name": the product's
        if key := key_beside(owner, found, things, request.words):
            select.append(column(key, aliases[owner.name]))
        notes.append(f"by {found}" + (f" and {key}" if key else "") + ("" if owner is main else f" from {owner.name}")
                     + (names_apart(owner, found) if key else ""))
    groups = len(select)
    agg = "count" if request.agg == "distinct" and any(w in request.measure for _, _, w in matched) else request.agg
    measures = []
    valued = stated | {w for _, _, w in matched} | {j[3] for j in joined}  # "sessions from Brazil": a filter
    valued |= {w for c in request.comparisons for w in c.names} | {w for column, _, _ in matched for w in request.measure
                                                                  if stem(w) in map(stem, name_parts(column))}  # fmt: skip
    measure = [w for w in what_is_asked(request.measure) if w not in valued] or request.measure[:1]
    counts_values = bool(request.measure) and all(w in valued for w in request.measure)  # "how many logins": 'login' rows
    taught = request.layer.phrases if request.layer else []
    for n, (m_agg, words) in enumerate([(agg, measure), *request.also]):
        expr = measure_expr(m_agg, words, main, "t", request)
        if expr is None:
            missing.append(f"a numeric column for '{' '.join(words)}' in {main.name}")
            expr = (exp.Count(this=exp.Star()), f"count of rows in {main.name}")
        if expr[1] == f"count of rows in {main.name}" and not (counts_values and n == 0) \
                and counts_other_things(main, words[-1] if words else "", taught):  # fmt: skip
            missing.append(f"{OTHER_THING} '{words[-1]}' (this counts the rows of {main.name})")
        name = alias_for(m_agg, words) if n else alias_for(request.agg, request.measure)
        measures.append((expr[0], expr[1], name))
    if metric := metric_measure(request.layer, main.name, "t"):
        measures = [metric]
    where = filters(request, main, time_col, missing, notes)
    negated_phrase = lambda phrase: any(is_negated(request.words, w) for w in phrase.lower().split()[:1])  # noqa: E731
    layer_where, layer_notes = layer_filters(request.layer, main.name, "t", negated_phrase)
    kept = [(found, value) for found, value, word in matched if not is_negated(request.words, word)]
    matched = [m for m in matched if not is_included(request.words, m[2])]  # "including cancelled ones": no filter
    for condition, note in zip(layer_where, layer_notes):
        if (left := lift_exclusions(condition, kept)) is not None:
            where.append(left)
            notes.append(note if left == condition else f"where {render(left)}")
        else:
            notes.append(f"without the layer's {note.removeprefix('where ')}, since the question asks for those rows")
    conditions, said, worded = [], [], []
    for found, value, word in matched:
        condition, stated_value = value_condition(request, found, value, word)
        conditions.append(condition)
        said.append(stated_value)
        worded.append({word})
    for state in states:
        conditions.append(state_condition(state))
        said.append(STATE_SAID[state.kind].format(state.column))
        worded.append(set(state.words))
    for other, found, value, word in joined:  # "enterprise customers": the customers' segment
        conditions.append(column(found, join_alias(other, points_to(main, other), aliases, joins)).eq(literal(value)))
        said.append(f"{found} of {other.name} is {value}")
        worded.append({word})
    base = share_base(request.words, main) if request.agg == "share" else set()
    among = [n for n, words in enumerate(worded) if words & base]  # "share of mobile sessions": of the mobile ones
    if among and len(among) < len(conditions):
        where += [conditions[n] for n in among]
        notes += [f"among the rows where {said[n]}" for n in among]
        conditions, said = [c for n, c in enumerate(conditions) if n not in among], [w for n, w in enumerate(said) if n not in among]
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
    explanation = " ".join([said[0].upper() + said[1:], *notes]) + period_said(request)
    whole = not (groups or where or request.also) and is_row_count(measures[0][0])
    if request.mean_of_counts and not groups:
        missing.append("a column for the groups to average over")
    return Draft(render_draft(query), explanation, missing, main.name, whole)


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
