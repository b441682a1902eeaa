"""The read-only guard: a query is bounded, parsed, and only a single plain read gets through.

Safety is decided here by parsing, never by the model. Size limits (text length, nesting, set operations)
are checked on the tokens before the parser runs, the node count right after it, and a parser that still
recurses too deep is answered as "too complex", never with a RecursionError. Engines run ``ParsedQuery.sql`` (regenerated from
the checked syntax tree), not the caller's text, so what runs is exactly what was checked: a trick that
one parser reads differently from another (comments, odd quoting, stacked statements) cannot slip past.

A table family's name (``web.events_*``, ``agent.sql.family_tables``) is the one table name the node checks let
stand, and only because it is then replaced: the SQL engines run is regenerated from the expanded tree, which
passes every node check with no exception.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from agent.sql.errors import SqlTooComplex, UnsafeSQL
from catalog_ingest.settings import SqlSettings

DIALECT = "duckdb"

READ_ROOTS = (exp.Select, exp.SetOperation)
"""Statement types a query may be: SELECT (with or without WITH) and UNION/INTERSECT/EXCEPT."""

WRITE_OR_CONTROL_NODES: tuple[type[exp.Expression], ...] = (
    exp.DML,  # INSERT, UPDATE, DELETE, MERGE (also inside a CTE)
    exp.DDL,  # CREATE, DROP, ALTER and friends
    exp.Drop,
    exp.Alter,
    exp.Create,
    exp.Command,  # whatever sqlglot could only keep as raw text: LOAD, CALL, RESET, CREATE SECRET, ...
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Describe,
    exp.Summarize,
    exp.Into,  # SELECT ... INTO
)

TABLE_FUNCTIONS_ALLOWED = frozenset({"range", "generate_series", "unnest"})
"""Table functions that only compute; every other one (read_csv, glob, iceberg_scan, query, ...) is refused."""

FUNCTIONS_REFUSED = frozenset(
    {
        "getenv",
        "glob",
        "sniff_csv",
        "query",
        "query_table",
        "current_setting",
        "duckdb_secrets",
        "which_secret",
        "load_aws_credentials",
        "iceberg_metadata",
        "iceberg_snapshots",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "parquet_bloom_probe",
    }
)
"""Functions that read files, the network, the environment or settings, wherever they appear."""

REFUSED_FUNCTION_PATTERN = re.compile(r"^(read_|from_csv|from_json)|_scan$")
"""Families: read_csv, read_parquet, read_json*, read_text, read_blob, ...; iceberg_scan, delta_scan, ..."""

PATH_LIKE_NAME = re.compile(r"[/\\:*?]|\.[A-Za-z0-9]{1,8}$|^\.|^~")
"""A table name DuckDB would read as a file or URL (``FROM '/etc/passwd'``, ``FROM "x.csv"``, ``'http://..'``)."""

OPENERS = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
CLOSERS = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}
UNARY = {TokenType.NOT, TokenType.DASH, TokenType.PLUS}
SET_OPERATIONS = {TokenType.UNION, TokenType.INTERSECT, TokenType.EXCEPT}

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
"""sqlglot underlines the offending token with terminal escapes; messages go to people and models."""


class TableFamilies(Protocol):
    """The catalog's table families as the guard needs them (``agent.sql.family_tables.Families``)."""

    def resolve(self, table: exp.Table, sql: str) -> Any | None:
        """The family ``table`` names, None for any other name; raises UnsafeSQL for a wildcard matching nothing."""

    def expand(self, tree: exp.Expression, sql: str, limits: SqlSettings) -> tuple[exp.Expression, tuple[Any, ...]]:
        """``tree`` with each family reference replaced by a read of its members, and those reads."""


@dataclass(frozen=True)
class ParsedQuery:
    tree: exp.Expression
    """The checked query as written (a family keeps its name): what validation and estimates reason about."""
    tables: tuple[str, ...]
    """Catalog tables read, qualified as written (``sales.events``, ``web.events_*``); CTE names excluded."""
    sql: str
    """The checked query as DuckDB SQL, families expanded into their members: what engines execute."""
    families: tuple[Any, ...] = ()
    """``agent.sql.family_tables.FamilyScan`` per family reference: the members each one reads."""


def normalized_name(name: str) -> str:
    """Fold case and Unicode look-alikes (fullwidth letters) so ``ＲＥＡＤ_CSV`` meets ``read_csv``."""
    return unicodedata.normalize("NFKC", name).casefold().strip('"`[]')


def function_name(func: exp.Func) -> str:
    if isinstance(func, exp.Anonymous):
        return normalized_name(func.name)
    return normalized_name(func.sql_name())


def is_refused_function(name: str) -> bool:
    return name in FUNCTIONS_REFUSED or bool(REFUSED_FUNCTION_PATTERN.search(name))


def check_read_only(sql: str, limits: SqlSettings | None = None, families: TableFamilies | None = None) -> ParsedQuery:
    """Parse ``sql`` and return it if it is one read-only query over named tables; raise UnsafeSQL otherwise.

    ``limits`` (``sql.max_*``; the defaults when None) bound the work before and after parsing; with
    ``families``, a family's name reads its members.
    """
    limits = limits or SqlSettings()
    if not sql or not sql.strip():
        raise UnsafeSQL("empty query: send one SELECT statement")
    if "\x00" in sql:
        raise UnsafeSQL("refused: the query contains a NUL character")
    if len(sql) > limits.max_sql_chars:
        raise SqlTooComplex(f"is {len(sql):,} characters long", "max_sql_chars", limits.max_sql_chars)
    try:
        check_token_bounds(sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql), limits)
        statements = [s for s in sqlglot.parse(sql, dialect=DIALECT) if s is not None and not isinstance(s, exp.Semicolon)]
        return checked_statement(statements, limits, sql, families)
    except RecursionError:
        raise SqlTooComplex("nests too deeply for the parser", "max_depth", limits.max_depth) from None
    except (ParseError, TokenError) as exc:
        line, column = parse_error_position(exc)
        raise UnsafeSQL(
            f"could not parse the query as DuckDB SQL: {ANSI_ESCAPE.sub('', str(exc))}",
            code="parse_error",
            line=line,
            column=column,
        ) from None


def check_token_bounds(tokens: list[Token], limits: SqlSettings) -> None:
    """Nesting depth and set operations, from the tokens alone: cheap, and before any recursive parsing."""
    depth = deepest = unary_run = set_operations = 0
    for token in tokens:
        kind = token.token_type
        unary_run = unary_run + 1 if kind in UNARY else 0
        if kind in OPENERS:
            depth += 1
        elif kind in CLOSERS:
            depth = max(0, depth - 1)
        elif kind in SET_OPERATIONS:
            set_operations += 1
        deepest = max(deepest, depth + unary_run)
    if deepest > limits.max_depth:
        raise SqlTooComplex(f"nests {deepest} levels deep", "max_depth", limits.max_depth)
    if set_operations > limits.max_set_operations:
        raise SqlTooComplex(
            f"has {set_operations} UNION/INTERSECT/EXCEPT", "max_set_operations", limits.max_set_operations
        )


def checked_statement(
    statements: list[exp.Expression], limits: SqlSettings, sql: str = "", families: TableFamilies | None = None
) -> ParsedQuery:
    if not statements:
        raise UnsafeSQL("empty query: send one SELECT statement")
    if len(statements) > 1:
        kinds = ", ".join(statement_kind(s) for s in statements)
        raise UnsafeSQL(f"refused: {len(statements)} statements ({kinds}); send exactly one SELECT")
    tree = statements[0]
    if not isinstance(tree, READ_ROOTS):
        raise UnsafeSQL(f"refused: {statement_kind(tree)} statement; only SELECT, WITH ... SELECT and UNION are allowed")
    nodes = 0
    for node in tree.walk():
        nodes += 1
        if nodes > limits.max_nodes:
            raise SqlTooComplex(f"has more than {limits.max_nodes:,} syntax nodes", "max_nodes", limits.max_nodes)
        if not (families and isinstance(node, exp.Table) and families.resolve(node, sql) is not None):
            refuse_node(node)
    run, scans = families.expand(tree, sql, limits) if families else (tree, ())
    if run is not tree:
        for node in run.walk():  # the expansion is checked like everything else, with no family exempted
            refuse_node(node)
    tables = tuple(referenced_tables(tree))
    return ParsedQuery(tree=tree, tables=tables, sql=run.sql(dialect=DIALECT, comments=False), families=scans)


def parse_error_position(exc: ParseError | TokenError) -> tuple[int | None, int | None]:
    """Where the parser stopped, 1-based: sqlglot reports the line and the last column of the offending token."""
    errors = getattr(exc, "errors", None) or [{}]
    line, end = errors[0].get("line"), errors[0].get("col")
    if not isinstance(line, int) or not isinstance(end, int):
        return None, None
    highlight = ANSI_ESCAPE.sub("", str(errors[0].get("highlight") or ""))
    width = len(highlight) if highlight and "\n" not in highlight else 1
    return line, max(1, end - width + 1)


def statement_kind(tree: exp.Expression) -> str:
    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    return tree.key.upper()


def refuse_node(node: exp.Expression) -> None:
    if isinstance(node, WRITE_OR_CONTROL_NODES):
        raise UnsafeSQL(f"refused: {statement_kind(node)} inside the query; only reads are allowed")
    if isinstance(node, exp.Func):
        name = function_name(node)
        if is_refused_function(name):
            raise UnsafeSQL(f"refused: function {name}() reads files, the network or settings", identifier=name)
        if isinstance(node.parent, exp.Table) and node.parent.this is node and name not in TABLE_FUNCTIONS_ALLOWED:
            raise UnsafeSQL(f"refused: table function {name}(); query catalog tables by name instead", identifier=name)
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        for part in node.parts:
            if PATH_LIKE_NAME.search(part.name):
                raise UnsafeSQL(
                    f"refused: {part.name!r} looks like a file path or URL; query catalog tables by name",
                    identifier=part.name,
                )


def referenced_tables(tree: exp.Expression) -> list[str]:
    """Names of the catalog tables read, each once, without CTEs or table functions."""
    cte_names = {normalized_name(cte.alias) for cte in tree.find_all(exp.CTE)}
    names: list[str] = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue
        name = ".".join(part.name for part in table.parts)
        if not table.db and normalized_name(table.name) in cte_names:
            continue
        if name not in names:
            names.append(name)
    return names
