"""Filters on a value the column does not hold: ``status = 'faild'`` against the column's complete profile.

A column's profile lists every value it holds only when ingest read all of its data files (``values_sampled``
false); only then can a filter value be said to match no row. Case counts, as it does in DuckDB.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from catalog_ingest.records import Column, TableRecord

SUGGESTIONS = 3


@dataclass(frozen=True)
class MissingValue:
    """``column = value`` (or ``column IN (..., value)``) where the column's profile holds no such value."""

    table: str
    column: str
    value: str
    suggestions: list[str]
    """The closest values the column holds (its most frequent ones when none is close), best first."""
    node: exp.Column

    @property
    def message(self) -> str:
        quoted = ", ".join(f"'{s}'" for s in self.suggestions)
        hint = f"; did you mean {quoted}?" if quoted else "; it holds no values"
        return (f"{self.table}.{self.column} holds no value '{self.value}' in its current snapshot"
                f" (every value was profiled at ingest){hint}")  # fmt: skip


def missing_filter_values(record: TableRecord, alias: str, predicates: Iterable[exp.Expression]) -> list[MissingValue]:
    """Equality and IN filters of one table read (as ``alias``) on values its complete profiles do not hold."""
    missing = []
    for predicate in predicates:
        for comparison in predicate.find_all(exp.EQ, exp.In):
            if isinstance(comparison.parent, exp.Not):
                continue
            column, literals = compared_values(comparison)
            if column is None or column.table != alias:
                continue
            profiled = profiled_column(record, column.name)
            if profiled is None or profiled.profile is None:
                continue
            for value in literals:
                if not profiled.profile.holds(value):
                    missing.append(MissingValue(record.full_name, profiled.path, value, closest_values(profiled, value), column))
    return missing


def compared_values(comparison: exp.Expression) -> tuple[exp.Column | None, list[str]]:
    """The column and the string literals of ``column = 'x'``, ``'x' = column`` or ``column IN ('x', 'y')``."""
    if isinstance(comparison, exp.In):
        column, candidates = comparison.this, comparison.expressions
    else:
        column, candidates = comparison.left, [comparison.right]
        if not isinstance(column, exp.Column):
            column, candidates = comparison.right, [comparison.left]
    if not isinstance(column, exp.Column):
        return None, []
    return column, [c.this for c in candidates if isinstance(c, exp.Literal) and c.is_string]


def profiled_column(record: TableRecord, name: str) -> Column | None:
    """The top-level column ``name`` when its profile lists every value it holds."""
    lowered = name.lower()
    column = next((c for c in record.columns if c.path.lower() == lowered), None)
    if column is None or column.profile is None or not column.profile.values_complete:
        return None
    return column


def closest_values(column: Column, value: str) -> list[str]:
    held = [v.value for v in column.profile.values or []] if column.profile else []
    by_lower = {h.lower(): h for h in reversed(held)}
    close = [by_lower[m] for m in difflib.get_close_matches(value.lower(), list(by_lower), n=SUGGESTIONS, cutoff=0.5)]
    return close or held[:SUGGESTIONS]
