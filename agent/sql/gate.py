"""The one SQL gate every path goes through (validate, run, the agent's tools, the API): guard, then catalog.

First the guard (bounds, one read-only statement, no file/network functions). Then DuckDB's own parser
reads the exact SQL an engine would run (``json_serialize_sql``), and every relation and function in that
parse is checked: relations must be catalog tables (or CTEs, subqueries, VALUES and the computing table
functions), system catalogs (``information_schema``, ``pg_catalog``, ``sqlite_master``, ``duckdb_*``,
``pragma_*``) are refused by name, and functions must be DuckDB built-ins on the allow-list. Checking
DuckDB's parse rather than sqlglot's leaves no room for the two parsers to read a query differently. A table
family's name (``web.events_*``) is expanded by the guard into its members' catalog names before DuckDB's
parse is checked, so what is checked here is what runs.
"""

from __future__ import annotations

import difflib
import json
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

import duckdb

from agent.sql.deadline import Deadline
from agent.sql.family_tables import Families
from agent.sql.guard import TABLE_FUNCTIONS_ALLOWED, ParsedQuery, UnsafeSQL, check_read_only, is_refused_function
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

RecordLookup = Mapping[str, TableRecord] | Callable[[str], TableRecord | None]

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog"})
SYSTEM_DATABASES = frozenset({"system", "temp"})
SYSTEM_PREFIXES = ("duckdb_", "pragma_", "sqlite_", "pg_")
"""Unqualified names with these prefixes are DuckDB's own catalog views (``duckdb_tables``, ``sqlite_master``)."""

FUNCTIONS_DENIED = frozenset(
    {
        "current_setting",
        "current_query",
        "json_serialize_sql",
        "json_deserialize_sql",
        "json_serialize_plan",
        "json_execute_serialized_sql",
        "write_log",
        "parse_duckdb_log_message",
        "pg_sleep",
        "nextval",
        "currval",
        "setseed",
    }
)
"""Built-ins taken off the allow-list: settings and the query text, SQL (de)serialization, logs, sleeps, state."""

RELATIONS_ALLOWED = frozenset({"BASE_TABLE", "TABLE_FUNCTION", "SUBQUERY", "JOIN", "EXPRESSION_LIST", "PIVOT", "EMPTY"})
"""DuckDB table-reference kinds a query may use; SHOW_REF (DESCRIBE, SUMMARIZE, SHOW inside FROM) is not one."""


class UnknownTable(UnsafeSQL):
    """The query reads a table that is not in the catalog."""


def normalized(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


class Catalog:
    """Table records looked up the way DuckDB resolves names: case-insensitively, with or without catalog.

    ``families`` are the table families SQL may name (``web.events_*``), found among ``family_records`` (the
    records themselves when not given; none for a lookup function without them)."""

    def __init__(
        self, records: RecordLookup | Iterable[TableRecord], family_records: Iterable[TableRecord] | None = None
    ) -> None:
        if callable(records) and not isinstance(records, Mapping):
            self._lookup, self._by_name = records, {}
        else:
            values = records.values() if isinstance(records, Mapping) else records
            self._by_name = {r.full_name.lower(): r for r in values}
            self._by_name.update({r.key.lower(): r for r in self._by_name.copy().values()})
            self._lookup = lambda name: self._by_name.get(name.lower())
        self.families = Families(self.records if family_records is None else lambda: family_records, self.get)

    def get(self, name: str) -> TableRecord | None:
        return self._lookup(name) or self._lookup(name.lower())

    def records(self) -> list[TableRecord]:
        """Every record the catalog was given (none for a lookup function)."""
        return list({r.key: r for r in self._by_name.values()}.values())

    def closest_names(self, name: str) -> list[str]:
        names = sorted({r.full_name for r in self._by_name.values()} | set(self.families.names()))
        by_lower = {n.lower(): n for n in names}
        matches = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.7)
        if not matches:  # the model often gets the table right and the namespace wrong
            leaf = name.lower().rsplit(".", 1)[-1]
            matches = [n for n in by_lower if n.rsplit(".", 1)[-1] == leaf]
        return [by_lower[m] for m in matches]


@dataclass(frozen=True)
class GatedQuery:
    parsed: ParsedQuery
    tables: tuple[str, ...]
    """Catalog names (``namespace.table``) of the tables read."""
    unknown_tables: tuple[str, ...]
    """Names read that are neither catalog tables nor CTEs, as written."""

    @property
    def sql(self) -> str:
        return self.parsed.sql


@cache
def allowed_functions() -> frozenset[str]:
    """DuckDB's built-in scalar, aggregate and macro functions (no extension is loaded), minus the denied."""
    with duckdb.connect(":memory:", config={"autoload_known_extensions": False}) as connection:
        rows = connection.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE function_type IN ('scalar', 'aggregate', 'macro') AND internal"
        ).fetchall()
    names = {normalized(name) for (name,) in rows} | TABLE_FUNCTIONS_ALLOWED  # unnest(x) in a select list too
    return frozenset(n for n in names if n not in FUNCTIONS_DENIED and not is_refused_function(n))


class DuckDBParser:
    """DuckDB's parser alone (no tables, no data): ``json_serialize_sql`` of one SELECT."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection = duckdb.connect(":memory:", config={"autoload_known_extensions": False})

    def parse(self, sql: str) -> dict:
        with self._lock:
            cursor = self._connection.cursor()
        try:
            tree = json.loads(cursor.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
        finally:
            cursor.close()
        if tree.get("error"):
            message = str(tree.get("error_message"))
            if "Only SELECT statements" in message:  # DuckDB plans a PIVOT without IN list as two statements
                message = "it is more than one SELECT; write PIVOT ... ON column IN (value, ...) with the values listed"
            raise UnsafeSQL(f"DuckDB could not check the query: {message}", code="parse_error")
        return tree


PARSER = DuckDBParser()


def visible_nodes(tree: object) -> Iterator[tuple[dict, frozenset[str]]]:
    """Every object in DuckDB's parse with the CTE names in scope there, iteratively (no recursion limit).

    A CTE's body sees the CTEs before it and itself (WITH RECURSIVE); the rest of its query sees them all.
    """
    stack: list[tuple[object, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, ctes = stack.pop()
        if isinstance(node, list):
            stack.extend((item, ctes) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        entries = (node.get("cte_map") or {}).get("map") or []
        names = [normalized(entry["key"]) for entry in entries]
        for index, entry in enumerate(entries):
            stack.append((entry["value"], ctes | set(names[: index + 1])))
        inner = ctes | set(names)
        yield node, inner
        stack.extend((value, inner) for key, value in node.items() if key != "cte_map")


def system_catalog(catalog: str, schema: str, table: str) -> bool:
    if normalized(catalog) in SYSTEM_DATABASES or normalized(schema) in SYSTEM_SCHEMAS:
        return True
    return not schema and normalized(table).startswith(SYSTEM_PREFIXES)


def check_duckdb_parse(tree: dict, catalog: Catalog) -> tuple[list[str], list[str]]:
    """Refuse system catalogs, other relation kinds and functions off the allow-list; (catalog tables, unknown)."""
    allowed = allowed_functions()
    tables: list[str] = []
    unknown: list[str] = []
    table_function_calls: set[int] = set()
    for node, ctes in visible_nodes(tree):
        kind = node.get("type")
        if "sample" in node and "alias" in node and kind not in RELATIONS_ALLOWED:  # a table reference
            raise UnsafeSQL(f"refused: {str(kind).replace('_REF', '')} inside the query; only reads of catalog tables")
        if kind == "BASE_TABLE":
            parts = [node.get("catalog_name") or "", node.get("schema_name") or "", node["table_name"]]
            name = ".".join(p for p in parts if p)
            if not parts[0] and not parts[1] and normalized(parts[2]) in ctes:
                continue
            if system_catalog(*parts):
                raise UnsafeSQL(
                    f"refused: {name} is a DuckDB system catalog; use the search_tables and describe_table tools "
                    "(or GET /v1/tables) to see what the catalog holds",
                    identifier=name,
                )
            record = catalog.get(name)
            if record is None:
                unknown.append(name)
            elif record.full_name not in tables:
                tables.append(record.full_name)
        elif kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = normalized(function.get("function_name", ""))
            table_function_calls.add(id(function))
            if name not in TABLE_FUNCTIONS_ALLOWED:
                refusal = "a DuckDB system catalog" if name.startswith(SYSTEM_PREFIXES) else "not an allowed table function"
                raise UnsafeSQL(f"refused: table function {name}() is {refusal}; query catalog tables by name", identifier=name)
        elif node.get("class") in ("FUNCTION", "WINDOW") and id(node) not in table_function_calls:
            name = normalized(node.get("function_name", ""))
            if node.get("class") == "WINDOW" and node.get("type") != "WINDOW_AGGREGATE":
                continue  # row_number, rank, lag, ...: window-only built-ins that compute
            if name not in allowed:
                raise UnsafeSQL(f"refused: function {name}() is not on the allow-list of DuckDB built-ins", identifier=name)
    return tables, unknown


def check_query(
    sql: str, records: Catalog | RecordLookup | Iterable[TableRecord], settings: SqlSettings, deadline: Deadline | None = None
) -> GatedQuery:
    """The guard and the catalog check; unknown tables are listed, not raised (the validator explains them)."""
    deadline = deadline or Deadline(settings.timeout_seconds)
    catalog = records if isinstance(records, Catalog) else Catalog(records)
    parsed = check_read_only(sql, settings, catalog.families)
    deadline.check("checking the query")
    tables, unknown = check_duckdb_parse(PARSER.parse(parsed.sql), catalog)
    deadline.check("checking the query against the catalog")
    return GatedQuery(parsed=parsed, tables=tuple(tables), unknown_tables=tuple(dict.fromkeys(unknown)))


def gate(
    sql: str, records: Catalog | RecordLookup | Iterable[TableRecord], settings: SqlSettings, deadline: Deadline | None = None
) -> GatedQuery:
    """What every path runs before anything executes. Raises UnsafeSQL (UnknownTable, SqlTooComplex) or SqlTimeout."""
    catalog = records if isinstance(records, Catalog) else Catalog(records)
    gated = check_query(sql, catalog, settings, deadline)
    if gated.unknown_tables:
        name = gated.unknown_tables[0]
        suggestions = catalog.closest_names(name)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else "; search the catalog for the right table"
        raise UnknownTable(f"unknown table {name}{hint}", code="unknown_table", identifier=name)
    return gated
