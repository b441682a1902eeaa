"""Checks a drafted query against the catalog before anything runs: tables, columns, partition filters.

Errors and warnings are plain sentences for both a person and the model; each names the bad identifier
and the closest real names, so the model can repair its own query in one step.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.lineage import to_node
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema
from sqlglot.optimizer.scope import Scope, build_scope, traverse_scope

from agent.sql.guard import DIALECT, ParsedQuery, UnsafeSQL, check_read_only
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

RecordLookup = Mapping[str, TableRecord] | Callable[[str], TableRecord | None]

ICEBERG_TO_SQL_TYPES = {
    "boolean": "BOOLEAN",
    "int": "INT",
    "long": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "timestamp_ns": "TIMESTAMP_NS",
    "timestamptz_ns": "TIMESTAMPTZ",
    "string": "VARCHAR",
    "uuid": "UUID",
    "binary": "BLOB",
}
"""Column types only need to be good enough for name resolution; anything else becomes VARCHAR."""

CONTAINER_SEGMENTS = {"element", "key", "value"}


@dataclass
class ValidationResult:
    ok: bool
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    """Catalog names (``namespace.table``) of the tables the query reads."""
    columns: list[str] = field(default_factory=list)
    """``namespace.table.column`` for every catalog column the query touches."""
    sql: str | None = None
    """The checked query as it would run; None when the guard refused it."""


class Catalog:
    """Table records looked up the way DuckDB resolves names: case-insensitively, with or without catalog."""

    def __init__(self, records: RecordLookup | Iterable[TableRecord]) -> None:
        if callable(records) and not isinstance(records, Mapping):
            self._lookup, self._by_name = records, {}
        else:
            values = records.values() if isinstance(records, Mapping) else records
            self._by_name = {r.full_name.lower(): r for r in values}
            self._by_name.update({r.key.lower(): r for r in self._by_name.copy().values()})
            self._lookup = lambda name: self._by_name.get(name.lower())

    def get(self, name: str) -> TableRecord | None:
        return self._lookup(name) or self._lookup(name.lower())

    def closest_names(self, name: str) -> list[str]:
        names = sorted({r.full_name for r in self._by_name.values()})
        by_lower = {n.lower(): n for n in names}
        matches = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.7)
        if not matches:  # the model often gets the table right and the namespace wrong
            leaf = name.lower().rsplit(".", 1)[-1]
            matches = [n for n in by_lower if n.rsplit(".", 1)[-1] == leaf]
        return [by_lower[m] for m in matches]


def column_paths(record: TableRecord) -> set[str]:
    return {c.path.lower() for c in record.columns}


def sqlglot_schema(records: Iterable[TableRecord]) -> dict[str, dict[str, dict[str, str]]]:
    """``{namespace: {table: {column: type}}}`` with structs spelled out, so ``address.city`` resolves."""
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for record in records:
        schema.setdefault(record.namespace, {})[record.name] = {
            top: column_type(record, top) for top in dict.fromkeys(c.path.split(".")[0] for c in record.columns)
        }
    return schema


def column_type(record: TableRecord, path: str) -> str:
    children = [c.path[len(path) + 1 :] for c in record.columns if c.path.startswith(path + ".")]
    direct = list(dict.fromkeys(child.split(".")[0] for child in children))
    if direct and not CONTAINER_SEGMENTS.intersection(direct):
        fields = ", ".join(f'"{name}" {column_type(record, f"{path}.{name}")}' for name in direct)
        return f"STRUCT({fields})"
    own = next((c.type for c in record.columns if c.path == path), "string")
    if own.startswith("decimal"):
        return own.upper()
    return ICEBERG_TO_SQL_TYPES.get(own, "VARCHAR")


@dataclass
class TableScan:
    """One read of a catalog table inside one query scope, with the predicates applied to it there."""

    record: TableRecord
    alias: str
    scope: Scope
    predicates: list[exp.Expression]
    """AND-ed conditions of the scope's WHERE and JOIN ... ON that mention only this table's columns."""


@dataclass
class QualifiedQuery:
    tree: exp.Expression
    records: dict[str, TableRecord]
    """Referenced tables found in the catalog, by the name the query used."""
    missing: list[str]
    schema: MappingSchema

    def scans(self) -> list[TableScan]:
        scans = []
        for scope in traverse_scope(self.tree):
            conjuncts = scope_conjuncts(scope)
            for alias, source in scope.selected_sources.items():
                node = source[1]
                record = self.records.get(table_name(node)) if isinstance(node, exp.Table) else None
                if record is None:
                    continue
                own = [c for c in conjuncts if {col.table for col in c.find_all(exp.Column)} == {alias}]
                scans.append(TableScan(record=record, alias=alias, scope=scope, predicates=own))
        return scans


def table_name(table: exp.Table) -> str:
    return ".".join(part.name for part in table.parts)


def scope_conjuncts(scope: Scope) -> list[exp.Expression]:
    conditions = []
    where = scope.expression.args.get("where")
    if where is not None:
        conditions.append(where.this)
    for join in scope.expression.args.get("joins") or []:
        if join.args.get("on") is not None:
            conditions.append(join.args["on"])
    return [part for condition in conditions for part in split_and(condition)]


def split_and(condition: exp.Expression) -> list[exp.Expression]:
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return split_and(condition.left) + split_and(condition.right)
    return [condition]


def qualify_against(parsed: ParsedQuery, catalog: Catalog) -> QualifiedQuery:
    """Qualify every column with its table using the catalog's schemas. Raises OptimizeError on bad columns."""
    found: dict[str, TableRecord] = {}
    missing: list[str] = []
    for name in parsed.tables:
        record = catalog.get(name)
        if record is None:
            missing.append(name)
        else:
            found[name] = record
    schema = MappingSchema(sqlglot_schema(found.values()), dialect=DIALECT)
    tree = qualify(
        parsed.tree.copy(),
        schema=schema,
        dialect=DIALECT,
        validate_qualify_columns=False,
        quote_identifiers=False,
        identify=False,
        expand_alias_refs=True,
    )
    return QualifiedQuery(tree=tree, records=found, missing=missing, schema=schema)


def validate_sql(sql: str, records: RecordLookup, settings: SqlSettings) -> ValidationResult:
    """Guard, then catalog checks. ``ok`` is False exactly when ``errors`` is non-empty."""
    try:
        parsed = check_read_only(sql)
    except UnsafeSQL as exc:
        return ValidationResult(ok=False, errors=[exc.reason])
    catalog = Catalog(records)
    result = ValidationResult(ok=True, sql=parsed.sql)
    try:
        qualified = qualify_against(parsed, catalog)
    except OptimizeError as exc:
        result.errors.append(unknown_column_message(str(exc), parsed, catalog))
        result.ok = False
        return result
    except SqlglotError as exc:
        result.errors.append(f"could not resolve the query's names: {exc}")
        result.ok = False
        return result
    for name in qualified.missing:
        result.errors.append(unknown_table_message(name, catalog))
    result.tables = list(dict.fromkeys(r.full_name for r in qualified.records.values()))
    check_columns(qualified, result)
    result.warnings.extend(partition_filter_warnings(qualified, settings))
    result.ok = not result.errors
    return result


def unknown_table_message(name: str, catalog: Catalog) -> str:
    suggestions = catalog.closest_names(name)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else "; search the catalog for the right table"
    return f"unknown table {name}{hint}"


def unknown_column_message(optimizer_message: str, parsed: ParsedQuery, catalog: Catalog) -> str:
    """sqlglot names the column (``Unknown column: x``); add the closest columns of the query's tables."""
    name = optimizer_message.split(":", 1)[-1].strip() if "Unknown column" in optimizer_message else ""
    if not name:
        return f"could not resolve the query's columns: {optimizer_message}"
    records = [r for r in (catalog.get(t) for t in parsed.tables) if r is not None]
    return column_error(name, records)


def column_error(path: str, records: list[TableRecord]) -> str:
    candidates = sorted({c.path for r in records for c in r.columns})
    suggestions = difflib.get_close_matches(path, candidates, n=3, cutoff=0.5)
    where = ", ".join(r.full_name for r in records) or "the tables in scope"
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return f"unknown column {path} in {where}{hint}"


def column_path(column: exp.Column) -> str:
    """``address.city`` for a struct field access, the column name otherwise."""
    parts = [column.name]
    node: exp.Expression = column
    while isinstance(node.parent, exp.Dot) and node.parent.this is node:
        parts.append(node.parent.name)
        node = node.parent
    return ".".join(parts)


def check_columns(qualified: QualifiedQuery, result: ValidationResult) -> None:
    touched: list[str] = []
    for scope in traverse_scope(qualified.tree):
        sources = dict(scope.selected_sources)
        for column in scope.columns:
            path = column_path(column)
            source = sources.get(column.table)
            if source is None:
                if not column.table and not has_opaque_source(scope, qualified):
                    records = [qualified.records[table_name(n)] for n in scope_tables(scope, qualified)]
                    result.errors.append(column_error(path, records))
                continue
            node = source[1]
            if isinstance(node, exp.Table) and table_name(node) in qualified.records:
                record = qualified.records[table_name(node)]
                if not path_exists(record, path):
                    result.errors.append(column_error(path, [record]))
                else:
                    touched.append(f"{record.full_name}.{path}")
            elif isinstance(node, Scope) and not node.expression.is_star and column.name not in node.expression.named_selects:
                result.errors.append(
                    f"unknown column {column.name} in {column.table}; it has {', '.join(node.expression.named_selects)}"
                )
    result.columns = list(dict.fromkeys(touched))


def scope_tables(scope: Scope, qualified: QualifiedQuery) -> list[exp.Table]:
    return [
        source[1]
        for source in scope.selected_sources.values()
        if isinstance(source[1], exp.Table) and table_name(source[1]) in qualified.records
    ]


def has_opaque_source(scope: Scope, qualified: QualifiedQuery) -> bool:
    """A table function, an unknown table or a lateral unnest: columns we cannot check without guessing."""
    for _, node in scope.selected_sources.values():
        if isinstance(node, Scope):
            if node.expression.is_star:
                return True
        elif not (isinstance(node, exp.Table) and table_name(node) in qualified.records):
            return True
    return False


def path_exists(record: TableRecord, path: str) -> bool:
    """The path or its top-level column exists; struct fields must exist when the column is a known struct."""
    paths = column_paths(record)
    lowered = path.lower()
    top = lowered.split(".")[0]
    if top not in paths and not any(p.startswith(top + ".") for p in paths):
        return False
    if "." not in lowered:
        return True
    prefix = top
    for segment in lowered.split(".")[1:]:
        children = {p[len(prefix) + 1 :].split(".")[0] for p in paths if p.startswith(prefix + ".")}
        if not children or CONTAINER_SEGMENTS.intersection(children):
            return True  # not a struct we know the fields of: map, list or json access
        if segment not in children:
            return False
        prefix = f"{prefix}.{segment}"
    return True


def partition_filter_warnings(qualified: QualifiedQuery, settings: SqlSettings) -> list[str]:
    warnings = []
    for scan in qualified.scans():
        record = scan.record
        size = record.totals.total_bytes or 0
        if not record.partition_spec.is_partitioned or size <= settings.large_table_bytes:
            continue
        sources = {f.source_column.lower() for f in record.partition_spec.fields}
        filtered = {column_path(c).lower() for p in scan.predicates for c in p.find_all(exp.Column)}
        if not sources & filtered:
            columns = ", ".join(sorted({f.source_column for f in record.partition_spec.fields}))
            warnings.append(
                f"{record.full_name} is {size / 2**20:,.0f} MiB and {record.partition_spec.describe()}; "
                f"the query has no filter on {columns}, so it scans every partition"
            )
    return warnings


def pii_output_columns(parsed: ParsedQuery, records: RecordLookup | Iterable[TableRecord]) -> list[int]:
    """Positions of output columns derived from a PII-flagged source column (by lineage; by name if that fails).

    A struct that holds a PII field counts as PII as a whole, so masking errs toward hiding.
    """
    catalog = Catalog(records)
    try:
        qualified = qualify_against(parsed, catalog)
        scope = build_scope(qualified.tree)
        positions = []
        for position in range(len(qualified.tree.named_selects)):
            node = to_node(position, scope, DIALECT, qualified.schema)
            leaves = [n for n in node.walk() if not n.downstream]
            if any(is_pii_leaf(leaf, qualified) for leaf in leaves):
                positions.append(position)
        return positions
    except SqlglotError:
        pii_names = {
            c.path.split(".")[-1].lower() for t in parsed.tables if (r := catalog.get(t)) for c in r.columns if c.pii
        }
        return [i for i, name in enumerate(parsed.tree.named_selects) if name.lower() in pii_names]


def is_pii_leaf(leaf, qualified: QualifiedQuery) -> bool:
    source = leaf.source
    if not isinstance(source, exp.Table) or table_name(source) not in qualified.records:
        return False
    record = qualified.records[table_name(source)]
    column = leaf.name.split(".", 1)[-1].lower()
    return any(c.pii and (c.path.lower() == column or c.path.lower().startswith(column + ".")) for c in record.columns)
