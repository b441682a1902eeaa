"""The offline model's lake-specific vocabulary: the semantic layer's terms, metrics and relationships, as the
tools showed them.

The model knows no lake; the lake owner's layer does. ``search_tables`` lists the terms and metrics a
question mentions and ``describe_table`` the relationships of a table (``agent.semantic_view``); from those
results a term becomes a table to draft over, or a column filter on the values that mean it
(``status IN ('open', 'pending')``); a metric becomes its expression, its filter and its time column; a
relationship becomes the join keys between two tables, so a dimension's attribute is joined, not guessed.
The layer's names, SQL and values reach the answer's text only as inert code spans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from agent.inert import inert
from catalog_ingest.text import stem, words


@dataclass
class LayerUse:
    """What the layer says about one request: the tables it points at, a metric, value filters."""

    tables: list[str] = field(default_factory=list)
    metric: dict[str, Any] | None = None
    value_filters: list[tuple[str, str, list[str], str]] = field(default_factory=list)
    """(table, column, values, matched phrase) of terms that mean some values of a column."""
    attributes: list[tuple[str, str, str]] = field(default_factory=list)
    """(column, phrase, table) of terms that name a column: a group by the phrase is a group by that column of
    that table."""
    phrases: list[str] = field(default_factory=list)
    """The question's phrases the layer matched: words the answer accounts for through the layer."""
    table_terms: list[tuple[str, str]] = field(default_factory=list)
    """(table, matched phrase) of terms that name a table."""

    def counted_tables(self, group_words: set[str]) -> list[str]:
        """The tables it points at, without one whose term the question says only among its groups ("campaign"
        in "sends per campaign objective" is whose objective, not what is counted)."""
        grouped = {t for t, phrase in self.table_terms if {stem(w) for w in words(phrase)} <= group_words}
        counted = {t for t, _ in self.table_terms} - grouped
        return [t for t in self.tables if t not in grouped or t in counted]


def layer_use(search: dict[str, Any] | None) -> LayerUse | None:
    """The layer's matches in a ``search_tables`` result; None when the layer matched nothing."""
    semantic = (search or {}).get("semantic") or {}
    metrics, terms = semantic.get("metrics") or [], semantic.get("terms") or []
    if not metrics and not terms:
        return None
    use = LayerUse(metric=metrics[0] if metrics else None)
    use.tables = [m["table"] for m in metrics[:1]]
    for term in terms:
        if term.get("column") and term.get("values"):
            table, column = split_column(term["column"])
            use.value_filters.append((table, column, list(term["values"]), term.get("matched") or term.get("term") or ""))
            use.tables.append(table)
        elif term.get("table"):
            use.tables.append(term["table"])
            use.table_terms.append((term["table"], term.get("matched") or term.get("term") or ""))
        elif term.get("column"):  # an attribute to group by, perhaps of a joined table: not the table counted
            table, column = split_column(term["column"])
            use.attributes.append((column, term.get("matched") or term["term"], table))
    use.tables = list(dict.fromkeys(use.tables))
    use.phrases = [e["matched"] for e in [*metrics, *terms] if e.get("matched")]
    return use


AGGREGATE_KINDS = {exp.Count: "count", exp.Sum: "total", exp.Avg: "avg", exp.Min: "min", exp.Max: "max"}
"""What a metric's expression computes, in the request's words (``Request.agg``)."""


def metric_kind(expression: str) -> str | None:
    """The aggregate a metric's expression is made of ("SUM(a) - SUM(b)" is a total); None if it has none."""
    try:
        tree = sqlglot.parse_one(expression, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    kinds = {kind for cls, kind in AGGREGATE_KINDS.items() if tree.find(cls)}
    return kinds.pop() if len(kinds) == 1 else None


def fitting_metric(use: LayerUse | None, agg: str, implicit: bool) -> LayerUse | None:
    """``use`` without its metric when the question names another aggregate than the metric computes ("how
    many refunds" is a count, a refunded-amount metric a sum): the metric's table still stands."""
    if use is None or use.metric is None or implicit:
        return use
    kind = metric_kind(use.metric["expression"])
    asked = "count" if agg == "distinct" else agg
    if kind is not None and kind != asked:
        use.metric = None
    return use


def layer_dims(
    dims: list[str], qualifiers: dict[str, str], owners: dict[str, str], use: LayerUse | None
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """A request's group words with those a column term names ("product category") read as that column, owned
    by the term's table (``products``: not another table's column that a synonym fits), and the qualifiers of the
    phrase's head ("order" in "order sales channel") moved to the column."""
    for column, phrase, table in use.attributes if use else []:
        named = {stem(w) for w in words(phrase)}
        if named and named <= {stem(d) for d in dims}:
            dims = [column, *(d for d in dims if stem(d) not in named)]
            qualified = any(stem(h) in named and stem(q) not in named for q, h in qualifiers.items())
            qualifiers = {q: column if stem(h) in named else h for q, h in qualifiers.items() if stem(q) not in named}
            if not qualified:  # "customer region": the customer's region, whatever table the term names
                owners = {**owners, column: table.rpartition(".")[2]}
    return dims, qualifiers, owners


def split_column(reference: str) -> tuple[str, str]:
    """``ns.table.col`` -> (``ns.table``, ``col``); nested paths keep their dots after the table."""
    namespace, table, column = reference.split(".", 2)
    return f"{namespace}.{table}", column


def qualified(sql: str, alias: str) -> exp.Expression:
    """An expression over one table's columns, each column qualified with the table's alias in the draft."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for column in tree.find_all(exp.Column):
        if not column.table:
            column.set("table", exp.to_identifier(alias))
    return tree


def metric_measure(use: LayerUse | None, table: str, alias: str) -> tuple[exp.Expression, str, str] | None:
    """The metric as the draft's measure: (expression, explanation, output name), when it is over ``table``."""
    metric = use.metric if use else None
    if metric is None or metric["table"] != table:
        return None
    said = f"{inert(metric['metric'])} as the semantic layer defines it ({inert(metric['expression'])})"
    return qualified(metric["expression"], alias), said, "_".join(words(metric["metric"]))[:40] or "metric"


def metric_time_column(use: LayerUse | None, table: str) -> str | None:
    metric = use.metric if use else None
    return metric.get("time_column") if metric and metric["table"] == table else None


def layer_filters(
    use: LayerUse | None, table: str, alias: str, negated: Callable[[str], bool] = lambda phrase: False
) -> tuple[list[exp.Expression], list[str]]:
    """The metric's filter and the terms' value filters on ``table``, with how the explanation says them; a term
    the question negates ("excluding cancelled orders", ``negated``) keeps the other values."""
    if use is None:
        return [], []
    where, notes = [], []
    metric = use.metric
    if metric and metric["table"] == table and metric.get("filter"):
        where.append(qualified(metric["filter"], alias))
        notes.append(f"where {inert(metric['filter'])}")
    for owner, column, values, phrase in use.value_filters:
        if owner != table:
            continue
        ref = qualified(column, alias)
        literals = list(map(exp.Literal.string, values))
        if negated(phrase):
            where.append(exp.not_(ref.isin(*literals)) if len(values) > 1 else ref.neq(literals[0]))
        else:
            where.append(ref.isin(*literals) if len(values) > 1 else ref.eq(literals[0]))
        notes.append(f"where {column} is {'not ' if negated(phrase) else ''}{' or '.join(map(inert, values))}")
    return where, notes


def layer_join(main: Any, other: Any) -> tuple[str, str] | None:
    """Join keys between two described tables from a relationship of the layer (either direction)."""
    for relationship in [*main.relationships, *other.relationships]:
        source, target = split_column(relationship["from"]), split_column(relationship["to"])
        if (source[0], target[0]) == (main.name, other.name):
            return source[1], target[1]
        if (target[0], source[0]) == (main.name, other.name):
            return target[1], source[1]
    return None
