"""Synthetic rows for the public text-to-SQL schemas, so the benchmarks' gold SQL can be run over a real lake.

Each database that has questions gets ``ROWS`` rows a table, seeded and deterministic. Keys (primary keys,
foreign keys, ``..._id`` columns and the columns that share their name) draw from one small domain per key
group, so joins match; a single-column primary key holds each value once. A text column draws from a pool
holding the literals the gold SQL compares that column with (found with sqlglot) and as many made-up values,
so a filter selects some rows but not all; a number column draws around the numbers it is compared with.

Some whole databases (a fixed, seeded choice, ``LEFT_OUT_PERCENT``) are left out of the lake: their
questions are ones the lake cannot answer.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import sqlglot
from pyiceberg.schema import Schema
from sqlglot import exp

from bench.bench_pooled import BENCHMARKS, namespaces, read_jsonl

ROWS = 60
SEED = 13
LEFT_OUT_PERCENT = 25
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.In, exp.Between)
FIRST_DAY = datetime(2000, 1, 1)


def seeded(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, (SEED, *parts))))


def left_out(question_namespaces: set[str]) -> frozenset[str]:
    """The databases kept out of the lake: a fixed share of those with questions, chosen by a seeded hash."""
    def share(namespace: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{SEED}:{namespace}".encode()).digest()[:4], "big") % 100

    return frozenset(n for n in question_namespaces if share(n) < LEFT_OUT_PERCENT)


# Gold SQL -------------------------------------------------------------------------------------------------


def any_value_of_bare_columns(select: exp.Select) -> None:
    """SQLite lets a grouped (or aggregating) query select a column it neither groups nor aggregates, taking
    one row's value; DuckDB says so with ANY_VALUE."""
    group = select.args.get("group")
    if not group and not any(p.find(exp.AggFunc) for p in select.expressions):
        return
    grouped = {g.sql().lower() for g in group.expressions} if group else set()
    grouped_names = {g.name.lower() for g in group.expressions if isinstance(g, exp.Column)} if group else set()

    def bare(node: exp.Expression) -> bool:
        if node.find(exp.AggFunc) or node.sql().lower() in grouped or not node.find(exp.Column):
            return False
        return not (isinstance(node, exp.Column) and node.name.lower() in grouped_names)

    for projection in select.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if bare(inner):
            inner.replace(exp.AnyValue(this=inner.copy()))
    for ordered in (select.args.get("order") or exp.Order()).expressions:
        if bare(ordered.this) and ordered.this.sql().lower() not in {p.alias_or_name.lower() for p in select.expressions}:
            ordered.this.replace(exp.AnyValue(this=ordered.this.copy()))


def gold_tree(sql: str, columns: set[str]) -> exp.Expression:
    """The gold SQL as SQLite reads it: a double-quoted name that is no column of the db is a string (SQLite's
    fallback), LIKE ignores case (so it is ILIKE for DuckDB) and a bare column of a grouped query is any value."""
    tree = sqlglot.parse_one(sql, read="sqlite")

    def as_sqlite_means(node: exp.Expression) -> exp.Expression:
        if (isinstance(node, exp.Column) and not node.table and isinstance(node.this, exp.Identifier)
                and node.this.quoted and node.name.lower() not in columns):  # fmt: skip
            return exp.Literal.string(node.name)
        if isinstance(node, exp.Like):
            return exp.ILike(this=node.this, expression=node.expression)
        return node

    tree = tree.transform(as_sqlite_means)
    for select in list(tree.find_all(exp.Select)):
        any_value_of_bare_columns(select)
    return tree


def gold_duckdb(sql: str, columns: set[str]) -> tuple[str, bool]:
    """The gold SQL in DuckDB's dialect, and whether its result is ordered (a top-level ORDER BY)."""
    tree = gold_tree(sql, columns)
    return tree.sql(dialect="duckdb"), bool(tree.args.get("order"))


def literal_value(literal: exp.Expression) -> str | float | None:
    if isinstance(literal, exp.Neg) and isinstance(literal.this, exp.Literal) and not literal.this.is_string:
        return -float(literal.this.this)
    if not isinstance(literal, exp.Literal):
        return None
    return literal.this if literal.is_string else float(literal.this)


def compared_pairs(comparison: exp.Expression) -> list[tuple[exp.Column, exp.Expression]]:
    """(column, literal side) of one comparison, whichever side the column is on."""
    if isinstance(comparison, exp.In):
        return [(comparison.this, e) for e in comparison.expressions] if isinstance(comparison.this, exp.Column) else []
    if isinstance(comparison, exp.Between):
        sides = [comparison.args.get("low"), comparison.args.get("high")]
        return [(comparison.this, s) for s in sides if s is not None] if isinstance(comparison.this, exp.Column) else []
    left, right = comparison.this, comparison.expression
    if isinstance(left, exp.Column):
        return [(left, right)]
    return [(right, left)] if isinstance(right, exp.Column) else []


def dated(column: exp.Column) -> bool:
    """The column is read as a date or time (``STRFTIME('%Y', col)``, ``date(col)``, ``julianday(col)``)."""
    parent = column.parent
    while isinstance(parent, exp.Substring):
        parent = parent.parent
    name = parent.name if isinstance(parent, exp.Anonymous) else type(parent).__name__
    return isinstance(parent, exp.Func) and any(word in name.lower() for word in ("date", "time", "julian"))


def owners(column: exp.Column, alias_of: dict[str, str]) -> list[str]:
    """The tables a column may be of: its qualifier's, else every table the query reads."""
    return [alias_of.get(column.table.lower(), column.table.lower())] if column.table else sorted(set(alias_of.values()))


def dated_columns(tree: exp.Expression, tables: dict[str, set[str]]) -> set[tuple[str, str]]:
    alias_of = {t.alias_or_name.lower(): t.name.lower() for t in tree.find_all(exp.Table)}
    return {(table, c.name.lower()) for c in tree.find_all(exp.Column) if dated(c)
            for table in owners(c, alias_of) if c.name.lower() in tables.get(table, set())}  # fmt: skip


def compared_literals(tree: exp.Expression, tables: dict[str, set[str]]) -> dict[tuple[str, str], set]:
    """(table, column) -> the literals the query compares that column with (lower-case names; a LIKE pattern
    as a value it matches). An unqualified column is credited to each table of the query holding it."""
    alias_of = {t.alias_or_name.lower(): t.name.lower() for t in tree.find_all(exp.Table)}
    found: dict[tuple[str, str], set] = defaultdict(set)
    for comparison in tree.find_all(*COMPARISONS):
        for column, side in compared_pairs(comparison):
            value = literal_value(side)
            if value is None:
                continue
            if isinstance(value, str) and isinstance(comparison, (exp.Like, exp.ILike)):
                value = value.replace("%", "").replace("_", "x")
            name = column.name.lower()
            for table in owners(column, alias_of):
                if name in tables.get(table, set()):
                    found[table, name].add(value)
    return found


# A database's rows ----------------------------------------------------------------------------------------


def key_like(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith("_id") or name.endswith(("ID", "Id"))


@dataclass
class DatabaseRows:
    """The seeded rows of one database's tables, built from its schemas and its questions' gold SQL."""

    namespace: str
    tables: dict[str, dict]
    """Lower-case table name -> its schemas.jsonl row."""
    literals: dict[tuple[str, str], set] = field(default_factory=dict)
    dated: set[tuple[str, str]] = field(default_factory=set)
    """Text columns the gold SQL reads as dates: they hold ISO dates."""
    group_of: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    """(table, column) -> its key group's representative; only key columns are in it."""

    @classmethod
    def of(cls, namespace: str, tables: list[dict], gold_sqls: list[str]) -> DatabaseRows:
        by_name = {t["table"].lower(): t for t in tables}
        db = cls(namespace, by_name)
        columns = db.columns()
        every_column = {c for names in columns.values() for c in names}
        literals: dict[tuple[str, str], set] = defaultdict(set)
        for sql in gold_sqls:
            try:
                tree = gold_tree(sql, every_column)
            except sqlglot.errors.ParseError:
                continue
            for key, values in compared_literals(tree, columns).items():
                literals[key] |= values
            db.dated |= dated_columns(tree, columns)
        db.literals = dict(literals)
        db.group_of = db.key_groups()
        return db

    def columns(self) -> dict[str, set[str]]:
        return {name: {c["name"].lower() for c in t["columns"]} for name, t in self.tables.items()}

    def key_groups(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Union of the columns a foreign key joins, and of same-named columns when one of them is a key."""
        parent: dict[tuple[str, str], tuple[str, str]] = {}

        def find(node: tuple[str, str]) -> tuple[str, str]:
            while parent.setdefault(node, node) != node:
                node = parent[node]
            return node

        def union(a: tuple[str, str], b: tuple[str, str]) -> None:
            parent[find(a)] = find(b)

        keys: set[tuple[str, str]] = set()
        for name, table in self.tables.items():
            keys |= {(name, k.lower()) for k in table.get("primary_key") or []}
            keys |= {(name, c["name"].lower()) for c in table["columns"] if key_like(c["name"])}
            for fk in table.get("foreign_keys") or []:
                here, there = (name, fk["column"].lower()), (fk["ref_table"].lower(), fk["ref_column"].lower())
                keys |= {here, there}
                union(here, there)
        key_names = {column for _, column in keys}
        for name, columns in self.columns().items():
            keys |= {(name, c) for c in columns if c in key_names}
        first_of_name: dict[str, tuple[str, str]] = {}
        for node in sorted(keys):
            union(node, first_of_name.setdefault(node[1], node))
        return {node: find(node) for node in keys}

    def key_domain(self, group: tuple[str, str]) -> list:
        """A key group's values: its literals first, then made-up ones, at least ``ROWS`` in all; numbers when
        one of its columns is a number."""
        members = sorted(node for node, g in self.group_of.items() if g == group)
        numeric = any(c["type"] == "number" for table, column in members for c in self.tables[table]["columns"]
                      if c["name"].lower() == column)  # fmt: skip
        said = sorted({v for node in members for v in self.literals.get(node, ())}, key=str)
        said = [v for v in said if isinstance(v, float)] if numeric else [str(v) for v in said]
        made = [float(i) for i in range(1, ROWS + 1)] if numeric else [f"{group[1]}_{i}" for i in range(1, ROWS + 1)]
        return list(dict.fromkeys([*said, *made]))[: max(ROWS, len(said))]

    def column_values(self, table: dict, column: dict, arrow_type: pa.DataType) -> list:
        name, key = table["table"].lower(), (table["table"].lower(), column["name"].lower())
        pick = seeded(self.namespace, *key)
        numeric = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
        said = sorted(self.literals.get(key, ()), key=str)
        if key in self.group_of:
            domain = self.key_domain(self.group_of[key])
            primary = [k.lower() for k in table.get("primary_key") or []]
            if primary == [key[1]]:
                values = domain[:ROWS]
                pick.shuffle(values)
            else:
                values = [*domain[: min(len(domain), ROWS // 3)], *(pick.choice(domain[:ROWS]) for _ in range(ROWS))]
                values = values[:ROWS]
        elif pa.types.is_timestamp(arrow_type) or key in self.dated:
            values = [FIRST_DAY + timedelta(days=pick.randrange(9000), seconds=pick.randrange(86400)) for _ in range(ROWS)]
            values = values if pa.types.is_timestamp(arrow_type) else [v.date().isoformat() for v in values]
        elif pa.types.is_boolean(arrow_type):
            values = [pick.random() < 0.5 for _ in range(ROWS)]
        elif numeric or (said and all(isinstance(v, float) for v in said)):  # a text column compared with numbers
            numbers = [v for v in said if isinstance(v, float)]
            low, high = (min(numbers), max(numbers)) if numbers else (1.0, 100.0)
            spread = max(10.0, high - low)
            values = [*numbers, *(float(pick.randint(int(low - spread), int(high + spread))) for _ in range(ROWS))]
            values = values[:ROWS]
        else:
            words = [str(v) for v in said]
            pool = [*words, *(f"{column['name']} {i}" for i in range(1, max(2, len(words) // 2) + 1))]
            values = [*words, *(pick.choice(pool) for _ in range(ROWS))][:ROWS]
        pick.shuffle(values)
        if pa.types.is_integer(arrow_type):
            return [int(v) if isinstance(v, float) else int(hashlib.sha256(str(v).encode()).hexdigest()[:6], 16) for v in values]
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in values]
        return values

    def rows(self, table: dict, schema: Schema) -> pa.Table:
        arrow = schema.as_arrow()
        data = {f.name: self.column_values(table, c, f.type) for f, c in zip(arrow, table["columns"], strict=True)}
        return pa.Table.from_pydict(data, schema=arrow)


@dataclass
class SyntheticLake:
    """Every database with questions, with its rows; the ones left out of the lake."""

    databases: dict[str, DatabaseRows]
    left_out: frozenset[str]

    @classmethod
    def of(cls, data_dir: Path) -> SyntheticLake:
        namespace_of = namespaces(data_dir)
        gold: dict[str, list[str]] = defaultdict(list)
        for benchmark in BENCHMARKS:
            for row in read_jsonl(data_dir / benchmark / "questions.jsonl"):
                gold[namespace_of[benchmark, row["db"]]].append(row["gold_sql"])
        tables: dict[str, list[dict]] = defaultdict(list)
        for benchmark in BENCHMARKS:
            for row in read_jsonl(data_dir / benchmark / "schemas.jsonl"):
                if (namespace := namespace_of[benchmark, row["db"]]) in gold:
                    tables[namespace].append(row)
        databases = {n: DatabaseRows.of(n, tables[n], sqls) for n, sqls in sorted(gold.items())}
        return cls(databases, left_out(set(databases)))

    def table_rows(self, namespace: str, table: dict, schema: Schema) -> pa.Table | None:
        """For ``bench_pooled.build_catalog``: the rows of a table of a database with questions."""
        database = self.databases.get(namespace)
        return database.rows(table, schema) if database else None
