"""sqlglot expressions for drafted SQL: quoted-when-needed identifiers, columns (nested fields too), tables,
literals and dates, and rendering as DuckDB SQL written the way people write it by hand."""

from __future__ import annotations

import re
from datetime import date

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generators.duckdb import DuckDBGenerator

PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
"""Names written without quotes; any other (``"Order Date"``) is quoted."""


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
    clauses = [query.args.get("from_"), *query.args.get("joins", []), *map(query.args.get, ("where", "group", "having", "order", "limit"))]  # fmt: skip
    head = "SELECT " + ", ".join(render(item) for item in query.expressions)
    return "\n".join([head, *(render(clause) for clause in clauses if clause)])


def is_row_count(expression: exp.Expression) -> bool:
    return isinstance(expression, exp.Count) and isinstance(expression.this, exp.Star)
