"""Groups over a threshold on how many rows they have: "which regions had more than 100 refunds?" (``GROUP BY
region HAVING count(*) > 100``) and "how many customers have at least 5 orders?" (the groups so counted)."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from agent.models.request import Comparison, Request
from agent.models.sql_expressions import column, literal, render_draft, table_as
from agent.models.sql_filters import COMPARISON_OPS, compared_column, period_said
from agent.models.sql_listing import conditions
from agent.models.tables import Table

ASKS_WHICH = frozenset({"which", "what"})


def count_threshold(request: Request, main: Table) -> tuple[Comparison, str] | None:
    """The comparison that bounds a count of the main table's rows per group, and the group column: its number
    is said of the rows' noun ("more than 100 refunds" in refunds), no numeric column fits it, and the
    question's first noun is a group the table has a key or column for ("customers": ``customer_id``)."""
    entity = request.measure[0] if request.measure else ""
    if not entity or main.is_about(entity) or request.dims or request.top:
        return None
    for compared in request.comparisons:
        said = [*compared.names, *request.measure[1:]]
        if compared.op == "between" or compared_column(compared, main) or not any(main.is_about(n) for n in said):
            continue
        group = main.key_for(entity) or main.column(entity, ids=False)
        if group:
            return compared, group
    return None


def threshold_draft(request: Request, main: Table, compared: Comparison, group: str) -> tuple[str, str, list[str]]:
    """The groups whose row count meets the comparison, listed ("which") or counted ("how many")."""
    missing: list[str] = []
    notes: list[str] = []
    rest = replace(request, comparisons=[c for c in request.comparisons if c is not compared])
    where = conditions(rest, main, main.time_column(), missing, notes)
    rows = exp.Count(this=exp.Star())
    bound = COMPARISON_OPS[compared.op](this=rows, expression=literal(compared.low))
    listed = bool(request.words) and request.words[0] in ASKS_WHICH
    inner = exp.select(column(group, "t"), *([exp.alias_(rows, "row_count")] if listed else [])).from_(table_as(main.name, "t"))
    if where:
        inner = inner.where(*where)
    inner = inner.group_by(exp.Literal.number(1)).having(bound)
    said = f"{group} values with {compared.op} {compared.low} rows in {main.name}"
    if listed:
        sql, explanation = render_draft(inner.order_by(exp.Ordered(this=exp.column("row_count"), desc=True))), f"The {said}"
    else:
        counted = exp.select(exp.alias_(exp.Count(this=exp.Star()), "groups")).from_(inner.subquery("per_group"))
        sql, explanation = counted.sql(dialect="duckdb"), f"Count of {said}"
    return sql, " ".join([explanation, *notes]) + period_said(request), missing
