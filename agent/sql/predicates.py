"""Facts a WHERE clause states about single columns, read from sqlglot trees: ``column op literal``
comparisons and the bounds they leave, for pruning partitions (``agent.sql.estimate``) and family members
(``agent.sql.family_tables``) before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp


def split_and(condition: exp.Expression) -> list[exp.Expression]:
    """The AND-ed parts of a condition (parentheses seen through)."""
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return split_and(condition.left) + split_and(condition.right)
    return [condition]


@dataclass
class Bounds:
    """The values a predicate lets through on one column: an interval, optionally narrowed to points."""

    low: Any = None
    low_inclusive: bool = True
    high: Any = None
    high_inclusive: bool = True
    points: list[Any] | None = None

    def narrow(self, operator: str, value: Any) -> None:
        if operator in (">", ">=") and (self.low is None or value > self.low or (value == self.low and operator == ">")):
            self.low, self.low_inclusive = value, operator == ">="
        elif operator in ("<", "<=") and (self.high is None or value < self.high or (value == self.high and operator == "<")):
            self.high, self.high_inclusive = value, operator == "<="
        elif operator == "=":
            self.narrow_points([value])

    def narrow_points(self, values: list[Any]) -> None:
        self.points = values if self.points is None else [v for v in self.points if v in values]

    def overlaps(self, start: Any, end: Any, end_inclusive: bool) -> bool:
        """Whether some value in the partition's range [start, end) (or [start, end]) passes."""
        if self.points is not None:
            return any(
                self.interval_overlaps(p, p, True) and start <= p and (p < end or (end_inclusive and p == end))
                for p in self.points
            )
        return self.interval_overlaps(start, end, end_inclusive)

    def interval_overlaps(self, start: Any, end: Any, end_inclusive: bool) -> bool:
        below_high = self.high is None or start < self.high or (self.high_inclusive and start == self.high)
        above_low = self.low is None or end > self.low or (end_inclusive and self.low_inclusive and end == self.low)
        return below_high and above_low


COMPARISONS = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "="}
FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}


def comparisons(predicate: exp.Expression) -> list[tuple[exp.Column, str, list[Any]]]:
    """``column op literal`` facts in a predicate: =, <, <=, >, >=, BETWEEN, IN and CAST(col AS DATE) = d."""
    if isinstance(predicate, exp.Paren):
        return comparisons(predicate.this)
    if isinstance(predicate, exp.Between):
        low, high = literal_value(predicate.args["low"]), literal_value(predicate.args["high"])
        column = plain_column(predicate.this)
        if column is None or low is None or high is None:
            return []
        return [(column, ">=", [low]), (column, "<=", [high])]
    if isinstance(predicate, exp.In):
        column = plain_column(predicate.this)
        values = [literal_value(v) for v in predicate.expressions]
        if column is None or not values or any(v is None for v in values):
            return []
        return [(column, "in", values)]
    operator = COMPARISONS.get(type(predicate))
    if operator is None:
        return []
    left, right = predicate.this, predicate.expression
    if literal_value(left) is not None:
        left, right, operator = right, left, FLIPPED[operator]
    value = literal_value(right)
    if value is None:
        return []
    if isinstance(left, exp.Cast) and left.to.this == exp.DataType.Type.DATE and operator == "=":
        column = plain_column(left.this)
        return [(column, "day", [value])] if column is not None else []
    column = plain_column(left)
    return [(column, operator, [value])] if column is not None else []


def plain_column(node: exp.Expression) -> exp.Column | None:
    """The column itself, or a struct field access on it (``address.city``)."""
    while isinstance(node, exp.Dot):
        node = node.this
    return node if isinstance(node, exp.Column) else None


def literal_value(node: exp.Expression) -> Any:
    """A literal's text, seeing through typed literals (``DATE '2024-01-01'``, ``'..'::TIMESTAMP``)."""
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Literal):
        return node.this
    if isinstance(node, (exp.Date, exp.TsOrDsToDate)) and isinstance(node.this, exp.Literal):
        return node.this.this
    return None
