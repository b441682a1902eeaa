"""Rows listed rather than aggregated: "the 5 largest payouts by gross_amount_usd", "the 5 most recent orders"
(the rows' key and name and the column they are ordered by, filtered as any draft is, ``ORDER BY`` and
``LIMIT``), and "the top 3 campaigns by budget_usd" asked of the table whose rows are the campaigns; a
column of the rows a filter picks ("the names of the campaigns whose channel is email"); and the newest or first
time of an event ("when was the last ticket created?": ``max(created_at)``)."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from agent.models.request import Request
from agent.models.sql_expressions import column, render_draft, table_as
from agent.models.sql_filters import STATE_SAID, filters, period_said, state_condition, value_condition
from agent.models.states import column_states, core, fits
from agent.models.tables import NUMERIC, TEMPORAL, Table
from agent.models.values import value_filters
from agent.models.vocabulary import NAME_PARTS
from catalog_ingest.text import QUESTION_STOPWORDS, name_parts, stem

FITS = 3.5
"""How well a numeric column must fit the words a listing is ordered by (a synonym of a name part at least)."""
SHARED_PREFIX = 6
"""Letters a noun and a column's name share for the noun to name its event ("cancellation", ``cancelled_at``)."""


def order_column(request: Request, table: Table) -> str | None:
    """The column the rows are ordered by: the table's time for "most recent", else the best-fitting measure."""
    if request.listing == "time":
        return table.time_column()
    fits = [table.match(word, NUMERIC, ids=False, units=request.units) for word in request.measure]
    found, fit = max(fits, key=lambda f: f[1], default=(None, 0.0))
    if found and fit >= FITS and (one_unit := table.in_one_unit(found, request.dims, request.units)):
        return one_unit[0]  # the 3 largest orders by total: by total_amount_usd, not by amounts in their own currencies
    return found if fit >= FITS else None


def event_time(request: Request, table: Table) -> str | None:
    """The time column whose event the question names ("created": ``created_at``, "cancellation":
    ``cancelled_at``), else the table's time."""
    temporal = [c["name"] for c in table.columns if "." not in c["name"] and TEMPORAL.match(c["type"].lower())]
    said = [w for w in request.words if w not in QUESTION_STOPWORDS and len(w) >= 3]
    for word in said:
        for name in temporal:
            if any(fits(word, part) or (len(part) >= SHARED_PREFIX and word[:SHARED_PREFIX] == part[:SHARED_PREFIX])
                   for part in core(name)):  # fmt: skip
                return name
    return table.time_column()


def conditions(request: Request, main: Table, time_col: str | None, missing: list[str], notes: list[str]) -> list[exp.Expression]:
    """The draft's filters and the equality filters of the values the question names."""
    where = filters(request, main, time_col, missing, notes)
    for found, value, word in value_filters(request, main):
        condition, said = value_condition(request, found, value, word)
        where.append(condition)
        notes.append(f"where {said}")
    return where


def extreme_draft(request: Request, main: Table) -> tuple[str, str, list[str]]:
    """``max`` (or ``min``) of the time column of the event asked about, filtered: the newest (first) time."""
    missing: list[str] = []
    notes: list[str] = []
    timed = event_time(request, main)
    if timed is None:
        return render_draft(exp.select(exp.Count(this=exp.Star())).from_(table_as(main.name, "t"))), "", [
            f"a date or timestamp column in {main.name}"]  # fmt: skip
    function = exp.Min if request.agg == "min" else exp.Max
    query = exp.select(exp.alias_(function(this=column(timed, "t")), f"{'first' if request.agg == 'min' else 'latest'}_{timed}"))
    query = query.from_(table_as(main.name, "t"))
    if where := conditions(request, main, timed, missing, notes):
        query = query.where(*where)
    said = f"The {'first' if request.agg == 'min' else 'latest'} {timed} in {main.name}"
    return render_draft(query), " ".join([said, *notes]) + period_said(request), missing


def rows_unlike_subject(request: Request, main: Table) -> list[str]:
    """What a listing could not place when ``main`` is not about the rows it lists ("payouts", "campaigns")."""
    if any(main.is_about(word) for word in request.subject):
        return []
    return [f"a table whose rows are '{' '.join(request.subject)}' ({main.name} is not about them)"]


def shown_column(request: Request, table: Table) -> str | None:
    """The column a listing of rows shows: for "names", the column holding the name of what the rows are
    (``campaign_name``), else any name column; for "ids", the rows' key; else the column the words name."""
    said = [stem(w) for w in request.shown]
    if said and said[-1] == "name":
        named = [c["name"] for c in table.columns if NAME_PARTS & set(name_parts(c["name"]))]
        about = [c for c in named if any(table.is_about(p) for p in name_parts(c) if p not in NAME_PARTS)]
        return (about or named or [None])[0]
    if said and said[-1] in ("id", "ids"):
        return next((table.key_for(w) for w in [*request.shown[:-1], *request.subject] if table.key_for(w)),
                    "id" if table.has("id") else None)  # fmt: skip
    found, fit = table.match("_".join(request.shown)) if request.shown else (None, 0.0)
    return found if fit >= FITS else None


def rows_draft(request: Request, main: Table) -> tuple[str, str, list[str]]:
    """A column of the rows of ``main`` that the question's filters and states pick, unaggregated."""
    missing, notes = rows_unlike_subject(request, main), []
    shown = shown_column(request, main)
    if shown is None:
        missing.append(f"a column for '{' '.join(request.shown)}' in {main.name}")
    where = conditions(request, main, main.time_column(), missing, notes)
    states, _ = column_states(request, main, {word for _, _, word in value_filters(request, main)})
    where += [state_condition(state) for state in states]
    notes += [f"where {STATE_SAID[state.kind].format(state.column)}" for state in states]
    query = exp.select(column(shown, "t") if shown else exp.Star()).from_(table_as(main.name, "t"))
    if where:
        query = query.where(*where)
    said = f"The {shown} of each row of {main.name}" if shown else f"The rows of {main.name}"
    return render_draft(query), " ".join([said, *notes]) + period_said(request), missing


def ranked_rows(request: Request, main: Table) -> Request | None:
    """A top N of the things the main table's rows are ("the top 3 campaigns by budget_usd" over the campaigns
    table, "the top three budgets" of its ``budget_usd``) as the listing of those rows: each thing is one row, so
    grouping by its key would only rename the column. None for any other ranking, and when the other words of
    the ranked phrase are not values that filter the rows ("email campaigns": ``channel = 'email'``)."""
    if not request.top or request.listing or request.grain or not request.dims:
        return None
    head, *others = reversed(request.dims)
    subject = [head] if main.is_named(head) else [main.short] if request.measure == [head] else []
    listing = replace(request, listing="measure", agg="list", dims=[], subject=subject)
    values = {word for _, _, word in value_filters(request, main)}
    if not subject or set(others) - values or order_column(listing, main) is None:
        return None
    return listing


def listing_draft(request: Request, main: Table) -> tuple[str, str, list[str]]:
    """The SQL, its explanation and what it could not place, for a listing over ``main``."""
    missing, notes = rows_unlike_subject(request, main), []
    ordered = order_column(request, main)
    if ordered is None:
        said = "a date or timestamp column" if request.listing == "time" else f"a numeric column for '{' '.join(request.measure)}'"
        missing.append(f"{said} to order {main.name} by")
    key = next((main.key_for(word) for word in request.subject if main.key_for(word)), None)
    named = next((main.name_column(word) for word in request.subject if key and main.is_about(word)), None)
    shown = [name for name in dict.fromkeys([key, named, ordered]) if name]
    where = conditions(request, main, main.time_column(), missing, notes)
    query = exp.select(*(column(name, "t") for name in shown or ["*"])).from_(table_as(main.name, "t"))
    if where:
        query = query.where(*where)
    if ordered:
        query = query.order_by(exp.Ordered(this=column(ordered, "t"), desc=not request.ascending))
    query = query.limit(request.top or 10)
    first = "smallest" if request.ascending else "largest"
    rows = "row" if request.top == 1 else f"{request.top} rows"
    said = f"The {rows} of {main.name} with the {first} {ordered}" if ordered else f"{request.top} rows of {main.name}"
    if request.listing == "time" and ordered:
        said = f"The {request.top} {'oldest' if request.ascending else 'most recent'} rows of {main.name} by {ordered}"
    explanation = " ".join([said, *notes]) + period_said(request)
    return render_draft(query), explanation, missing
