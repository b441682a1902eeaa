"""Checks a drafted query against the catalog before anything runs: tables, columns, partition filters.

Each finding is a ``ValidationIssue``: a code, a plain sentence for both a person and the model, the bad
identifier, the closest real names, and where the identifier is in the submitted text. The sentences (the
``errors`` and ``warnings`` the agent's tools show) name the identifier and the suggestions, so the model can
repair its own query in one step; editors use the code, position and suggestions for diagnostics and fixes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.lineage import to_node
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema
from sqlglot.optimizer.scope import Scope, build_scope, traverse_scope

from agent.sql.deadline import Deadline
from agent.sql.family_tables import FamilyTable, no_wildcard_message
from agent.sql.gate import Catalog, RecordLookup, check_query
from agent.sql.guard import DIALECT, ParsedQuery, UnsafeSQL
from agent.sql.issues import ValidationIssue, ValidationResult, as_written, node_position, text_position
from agent.sql.predicates import split_and
from agent.sql.value_filters import missing_filter_values
from catalog_ingest.families import SUFFIX_COLUMN
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

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
    node: exp.Table | None = None
    """The table as the query wrote it (with its position)."""


@dataclass
class QualifiedQuery:
    tree: exp.Expression
    records: dict[str, TableRecord]
    """Referenced tables found in the catalog, by the name the query used; a family's is its members' union."""
    schema: MappingSchema
    families: dict[str, FamilyTable] = field(default_factory=dict)
    """The family references among ``records``, by the name the query used."""

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
                scans.append(TableScan(record=record, alias=alias, scope=scope, predicates=own, node=node))
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


def qualify_against(parsed: ParsedQuery, catalog: Catalog) -> QualifiedQuery:
    """Qualify every column with its table using the catalog's schemas (a family's: every member's columns and
    ``_table_suffix``). Raises OptimizeError on bad columns."""
    # qualifying folds unquoted names to lower case, and a family's name has its pattern in capitals
    families = {key: scan for scan in parsed.families for key in (scan.name, scan.name.lower())}
    found = {name: record for name in parsed.tables if (record := catalog.get(name)) is not None}
    found |= {name: scan.record for name, scan in families.items()}
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
    return QualifiedQuery(tree=tree, records=found, schema=schema, families={n: s.table for n, s in families.items()})


def validate_sql(
    sql: str, records: RecordLookup, settings: SqlSettings, deadline: Deadline | None = None
) -> ValidationResult:
    """The gate (guard, system catalogs, functions), then catalog checks. ``ok`` is False exactly when there is
    an error."""
    deadline = deadline or Deadline(settings.timeout_seconds)
    catalog = Catalog(records)
    try:
        gated = check_query(sql, catalog, settings, deadline)
    except UnsafeSQL as exc:
        line, column = (exc.line, exc.column) if exc.line else text_position(sql, exc.identifier)
        issue = ValidationIssue(exc.code, exc.reason, exc.identifier, line=line, column=column)  # type: ignore[arg-type]
        return ValidationResult(issues=[issue])
    parsed = gated.parsed
    # a family's name stays in the SQL shown: its expansion is one SELECT per member (``families`` lists them)
    shown = parsed.tree.sql(dialect=DIALECT, comments=False) if parsed.families else parsed.sql
    result = ValidationResult(sql=shown, families=[scan.summary() for scan in parsed.families])
    if settings.engine == "athena":
        for scan in parsed.families:
            line, column = text_position(sql, scan.table.written)
            result.issues.append(ValidationIssue("unknown_table", no_wildcard_message(scan), scan.table.written, [
                m.full_name for m in scan.table.members[-3:]], line, column))  # fmt: skip
    try:
        qualified = qualify_against(parsed, catalog)
    except OptimizeError as exc:
        result.issues.append(unknown_column_issue(str(exc), parsed, catalog, sql))
        return result
    except SqlglotError as exc:
        result.issues.append(ValidationIssue("unresolved_names", f"could not resolve the query's names: {exc}"))
        return result
    except RecursionError:
        message = f"refused: the query nests too deeply to resolve its names; the limit is sql.max_depth = {settings.max_depth}"
        result.issues.append(ValidationIssue("too_complex", message))
        return result
    deadline.check("resolving the query's names")
    for name in gated.unknown_tables:
        result.issues.append(unknown_table_issue(name, catalog, sql, parsed))
    members = {scan.name: [m.full_name for m in scan.members] for scan in parsed.families}
    named = [n for t in parsed.tables for n in members.get(t) or [r.full_name for r in [catalog.get(t)] if r]]
    result.tables = list(dict.fromkeys([*named, *gated.tables]))
    check_columns(qualified, result, sql)
    result.issues.extend(partition_filter_warnings(qualified, settings, sql))
    result.issues.extend(value_filter_warnings(qualified, sql))
    return result


def unknown_table_issue(name: str, catalog: Catalog, sql: str, parsed: ParsedQuery) -> ValidationIssue:
    node = next((t for t in parsed.tree.find_all(exp.Table) if table_name(t) == name), None)
    line, column = node_position(sql, node)
    if line is None:
        line, column = text_position(sql, name)
    suggestions = catalog.closest_names(name)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else "; search the catalog for the right table"
    return ValidationIssue("unknown_table", f"unknown table {name}{hint}", name, suggestions, line, column)


def unknown_column_issue(optimizer_message: str, parsed: ParsedQuery, catalog: Catalog, sql: str) -> ValidationIssue:
    """sqlglot names the column (``Unknown column: x``); add the closest columns of the query's tables."""
    name = optimizer_message.split(":", 1)[-1].strip() if "Unknown column" in optimizer_message else ""
    if not name:
        return ValidationIssue("unresolved_names", f"could not resolve the query's columns: {optimizer_message}")
    families = {scan.name: scan.record for scan in parsed.families}
    records = [r for r in (catalog.get(t) or families.get(t) for t in parsed.tables) if r is not None]
    node = next((c for c in parsed.tree.find_all(exp.Column) if c.name.lower() == name.lower()), None)
    if node is not None:
        name = node.name  # as written: sqlglot reports it case-folded
    family = parsed.families[0].table if parsed.families else None
    return column_issue(name, records, sql, node.this if node is not None else None, family)


def column_issue(
    path: str, records: list[TableRecord], sql: str, node: exp.Expression | None, family: FamilyTable | None = None
) -> ValidationIssue:
    """An unknown column of ``records``, with their closest columns; ``node`` is its identifier in the query. For
    a column of a family, the sentence also says which column holds the member's suffix, and its range."""
    path = as_written(sql, node, path)
    candidates = sorted({c.path for r in records for c in r.columns})
    by_lower = {c.lower(): c for c in candidates}
    suggestions = [by_lower[m] for m in difflib.get_close_matches(path.lower(), list(by_lower), n=3, cutoff=0.5)]
    where = ", ".join(r.full_name for r in records) or "the tables in scope"
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    if family is not None:
        hint += f"; which member a row is from is {SUFFIX_COLUMN} ({family.suffix_range()})"
    line, column = node_position(sql, node)
    if line is None:
        line, column = text_position(sql, path)
    return ValidationIssue("unknown_column", f"unknown column {path} in {where}{hint}", path, suggestions, line, column)


def column_path(column: exp.Column) -> str:
    """``address.city`` for a struct field access, the column name otherwise."""
    parts = [column.name]
    node: exp.Expression = column
    while isinstance(node.parent, exp.Dot) and node.parent.this is node:
        parts.append(node.parent.name)
        node = node.parent
    return ".".join(parts)


def check_columns(qualified: QualifiedQuery, result: ValidationResult, sql: str) -> None:
    touched: list[str] = []
    for scope in traverse_scope(qualified.tree):
        sources = dict(scope.selected_sources)
        for column in scope.columns:
            path = column_path(column)
            source = sources.get(column.table)
            if source is None:
                if not column.table and not has_opaque_source(scope, qualified):
                    names = [table_name(n) for n in scope_tables(scope, qualified)]
                    family = next((qualified.families[n] for n in names if n in qualified.families), None)
                    result.issues.append(column_issue(path, [qualified.records[n] for n in names], sql, column.this, family))
                continue
            node = source[1]
            if isinstance(node, exp.Table) and table_name(node) in qualified.records:
                record = qualified.records[table_name(node)]
                if not path_exists(record, path):
                    family = qualified.families.get(table_name(node))
                    result.issues.append(column_issue(path, [record], sql, column.this, family))
                else:
                    touched.append(f"{record.full_name}.{path}")
            elif isinstance(node, Scope) and not node.expression.is_star and column.name not in node.expression.named_selects:
                selects = node.expression.named_selects
                line, col = node_position(sql, column.this)
                result.issues.append(ValidationIssue(
                    "unknown_column", f"unknown column {column.name} in {column.table}; it has {', '.join(selects)}",
                    column.name, difflib.get_close_matches(column.name, selects, n=3, cutoff=0.5), line, col,
                ))  # fmt: skip
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


def partition_filter_warnings(
    qualified: QualifiedQuery, settings: SqlSettings, sql: str = ""
) -> list[ValidationIssue]:
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
            line, column = node_position(sql, scan.node)
            message = (f"{record.full_name} is {size / 2**20:,.0f} MiB and {record.partition_spec.describe()}; "
                       f"the query has no filter on {columns}, so it scans every partition")  # fmt: skip
            written = table_name(scan.node) if scan.node is not None else record.full_name
            warnings.append(ValidationIssue("missing_partition_filter", message, written, [], line, column, "warning"))
    return warnings


def value_filter_warnings(qualified: QualifiedQuery, sql: str = "") -> list[ValidationIssue]:
    """A filter on a value the column's complete profile does not hold matches no row (``unknown_value``)."""
    warnings = []
    for scan in qualified.scans():
        for missing in missing_filter_values(scan.record, scan.alias, scan.predicates):
            line, column = node_position(sql, missing.node)
            warnings.append(ValidationIssue("unknown_value", missing.message, missing.value, missing.suggestions,
                                            line, column, "warning"))  # fmt: skip
    return warnings


def pii_output_columns(
    parsed: ParsedQuery, records: RecordLookup | Iterable[TableRecord], deadline: Deadline | None = None
) -> list[int]:
    """Positions of output columns computed from a PII-tagged column (by lineage; by name if that fails).

    This is a report (``QueryResult.masked_columns``), not the masking: the engine's relations mask PII
    columns before any query sees them. A struct that holds a PII field counts as a whole.
    """
    catalog = Catalog(records)
    try:
        qualified = qualify_against(parsed, catalog)
        scope = build_scope(qualified.tree)
        positions = []
        for position in range(len(qualified.tree.named_selects)):
            if deadline is not None:
                deadline.check("tracing which result columns come from PII columns")
            node = to_node(position, scope, DIALECT, qualified.schema)
            leaves = [n for n in node.walk() if not n.downstream]
            if any(is_pii_leaf(leaf, qualified) for leaf in leaves):
                positions.append(position)
        return positions
    except (SqlglotError, RecursionError):
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
