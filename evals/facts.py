"""Gold facts computed from the lake itself when the suite runs.

Row counts, partitions and snapshot histories depend on the generated data (scale, seed, the day the lake was
built), so cases name a fact (``{fact: row_count, table: marts.orders}``) and this module computes it from the
Iceberg catalog with pyiceberg directly, never from lakescout's record store: an ingest bug must show up as
a wrong answer, not as a wrong gold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, Protocol

from pyiceberg.catalog import Catalog
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform, TimeTransform, VoidTransform
from pyiceberg.types import DateType, TimestampType, TimestamptzType

from catalog_ingest.crawlers.common import PII_PROPERTY
from catalog_ingest.crawlers.glue import pyiceberg_glue_properties
from catalog_ingest.crawlers.pyiceberg_catalogs import open_catalog
from catalog_ingest.settings import CatalogConfig


class Fact(Protocol):
    """The arguments of a fact as the case loader's ``Fact`` model carries them (a protocol, so the loader,
    which validates fact names against ``FACT_ARGUMENTS``, and this module do not import each other)."""

    fact: str | None
    table: str | None
    column: str | None
    which: Literal["current", "first"] | None
    start: str | None
    end: str | None
    tolerance: float | None
    namespace: str | None
    tag: str | None
    by: Literal["rows", "bytes", "files", "snapshots", "columns"] | None
    n: int | None
    days: int | None

FACT_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "row_count": ("table",),
    "file_count": ("table",),
    "total_bytes": ("table",),
    "snapshot_count": ("table",),
    "last_operation": ("table",),
    "operations": ("table",),
    "last_updated": ("table",),
    "partition_count": ("table",),
    "latest_partition": ("table",),
    "latest_partition_rows": ("table",),
    "partition_values": ("table", "start", "end"),
    "partition_rows": ("table", "start", "end"),
    "partition_list": ("table",),
    "not_time_partitioned": ("table",),
    "partition_spec": ("table",),
    "spec_count": ("table",),
    "column_type": ("table", "column"),
    "column_comment": ("table", "column"),
    "column_count": ("table",),
    "columns": ("table",),
    "table_comment": ("table",),
    "schema_count": ("table",),
    "schema_changes": ("table",),
    "identifier_fields": ("table",),
    "is_partitioned": ("table",),
    "has_column": ("table", "column"),
    "table_owner": ("table",),
    "pii_columns": ("table",),
    "partition_for_day": ("table", "days"),
    "no_such_table": ("table",),
    "largest_tables": ("by",),
    "smallest_tables": ("by",),
    "tables_in_namespace": ("namespace",),
    "table_count": (),
    "namespaces": (),
    "tables_with_tag": ("tag",),
    "tables_with_column": ("column",),
    "tables_not_written_in": ("days",),
}
"""Each fact and the case arguments it needs; the loader validates cases against this."""

CATALOG_FACTS = frozenset({
    "no_such_table", "largest_tables", "smallest_tables", "tables_in_namespace", "table_count", "namespaces",
    "tables_with_tag", "tables_with_column", "tables_not_written_in",
})
"""Facts about the catalogs as a whole (or a table that must not exist): resolved over every table, not one."""

DEFAULT_TOLERANCE = 0.01
TIME_TYPES = (DateType, TimestampType, TimestamptzType)


class GoldError(LookupError):
    """The gold cannot be computed (unknown table or column, no snapshot yet, gold SQL that fails): a case bug."""


@dataclass(frozen=True)
class Expected:
    """What the answer must contain.

    ``number``/``bytes``: a value matched within a relative tolerance (bytes also in KB/MB/MiB/...).
    ``text``: groups of alternatives; every group must appear, any alternative of a group will do.
    ``first_tables``: the first tables of ``universe`` (every table) the answer names are the ``groups``' names,
    in any order: a ranking, not a list that happens to mention the right table further down.
    """

    kind: Literal["number", "bytes", "text", "first_tables"]
    number: float = 0.0
    groups: tuple[tuple[str, ...], ...] = ()
    tolerance: float = DEFAULT_TOLERANCE
    universe: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "first_tables":
            return "first tables named: " + ", ".join(repr(g[0]) for g in self.groups)
        if self.kind != "text":
            return f"{self.number:,.0f}" + (" bytes" if self.kind == "bytes" else "")
        return " and ".join(" or ".join(repr(a) for a in group) for group in self.groups)


def number(value: float, tolerance: float | None = None) -> Expected:
    return Expected("number", number=float(value), tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance)


def texts(*groups: tuple[str, ...] | str) -> Expected:
    return Expected("text", groups=tuple((g,) if isinstance(g, str) else tuple(g) for g in groups))


# --- opening the catalogs ----------------------------------------------------------------------------


def open_catalogs(configs: list[CatalogConfig]) -> dict[str, Catalog]:
    """pyiceberg catalogs for lakescout's catalog configurations, opened the way the crawlers open them (a
    Glue catalog through pyiceberg's GlueCatalog, for its Iceberg tables). A catalog that cannot be opened
    raises ``CatalogUnreachable``."""
    return {config.name: open_catalog(as_iceberg(config)) for config in configs}


def as_iceberg(config: CatalogConfig) -> CatalogConfig:
    if config.type != "glue":
        return config
    return CatalogConfig(name=config.name, type="iceberg", properties=pyiceberg_glue_properties(config.properties))


class FactResolver:
    """Computes gold facts over pyiceberg catalogs; tables and results are cached for one run."""

    def __init__(self, catalogs: dict[str, Catalog]) -> None:
        if not catalogs:
            raise GoldError("no catalogs to compute gold facts from")
        self.catalogs = catalogs
        self._tables: dict[str, Table] = {}
        self._cache: dict[str, Expected] = {}
        self._all_tables: dict[str, Table] | None = None

    def expected(self, fact: Fact) -> Expected:
        """The expected value of a case fact: a literal as written, or computed from the catalog."""
        if fact.fact is None:
            if fact.number is not None:
                return number(fact.number, fact.tolerance)
            return texts(tuple(fact.any_of) if fact.any_of else (fact.text or "",))
        key = fact.label() + f"|{fact.tolerance}"
        if key not in self._cache:
            try:
                if fact.fact in CATALOG_FACTS:
                    resolved = CATALOG_RESOLVERS[fact.fact](self, fact)
                else:
                    resolved = RESOLVERS[fact.fact](self.table(fact.table or ""), fact)
            except GoldError:
                raise
            except Exception as exc:  # noqa: BLE001 - a pyiceberg failure is a gold problem, named as such
                raise GoldError(f"{fact.label()}: {type(exc).__name__}: {exc}") from exc
            if fact.tolerance is not None and resolved.kind in ("number", "bytes"):
                resolved = Expected(resolved.kind, number=resolved.number, tolerance=fact.tolerance)
            self._cache[key] = resolved
        return self._cache[key]

    def table(self, name: str) -> Table:
        """``namespace.table`` in any catalog, or ``catalog.namespace.table``."""
        if name not in self._tables:
            self._tables[name] = self._load(name)
        return self._tables[name]

    def all_tables(self) -> dict[str, Table]:
        """Every table of every catalog by ``namespace.table`` (``catalog.namespace.table`` when two catalogs
        hold the same name)."""
        if self._all_tables is None:
            found: dict[str, Table] = {}
            for catalog_name, catalog in self.catalogs.items():
                for namespace in catalog.list_namespaces():
                    for identifier in catalog.list_tables(namespace):
                        name = ".".join(identifier)
                        if name in found:
                            name = f"{catalog_name}.{name}"
                        found[name] = self._tables.setdefault(name, catalog.load_table(identifier))
            self._all_tables = found
        return self._all_tables

    def exists(self, name: str) -> bool:
        try:
            self.table(name)
        except GoldError:
            return False
        return True

    def _load(self, name: str) -> Table:
        parts = name.split(".")
        candidates = [(c, parts) for c in self.catalogs.values()]
        if len(parts) > 2 and parts[0] in self.catalogs:
            candidates = [(self.catalogs[parts[0]], parts[1:])] + candidates
        for catalog, identifier in candidates:
            try:
                return catalog.load_table(tuple(identifier))
            except Exception:  # noqa: BLE001 - try the next catalog; the error below names the table
                continue
        raise GoldError(f"table {name!r} is in none of the catalogs: {', '.join(self.catalogs)}")


# --- the resolvers -----------------------------------------------------------------------------------


def current_snapshot(table: Table) -> Any:
    snapshot = table.current_snapshot()
    if snapshot is None:
        raise GoldError(f"{table.name()} has no snapshot yet")
    return snapshot


def row_count(table: Table, fact: Fact) -> Expected:
    return number(table.scan().count())


def data_files(table: Table) -> list[dict[str, Any]]:
    current_snapshot(table)
    return table.inspect.data_files().select(["file_size_in_bytes"]).to_pylist()


def file_count(table: Table, fact: Fact) -> Expected:
    return number(len(data_files(table)))


def total_bytes(table: Table, fact: Fact) -> Expected:
    size = sum(f["file_size_in_bytes"] for f in data_files(table))
    return Expected("bytes", number=float(size), tolerance=DEFAULT_TOLERANCE)


def snapshot_count(table: Table, fact: Fact) -> Expected:
    return number(len(table.metadata.snapshots))


OPERATION_WORDS = {
    "append": ("append", "appended", "appends"),
    "overwrite": ("overwrite", "overwrote", "overwritten", "overwrites"),
    "delete": ("delete", "deleted", "deletes", "deletion"),
    "replace": ("replace", "replaced", "replaces", "compaction"),
}


def last_operation(table: Table, fact: Fact) -> Expected:
    operation = current_snapshot(table).summary.operation.value
    return texts(OPERATION_WORDS.get(operation, (operation,)))


def operations(table: Table, fact: Fact) -> Expected:
    """Every kind of commit in the table's history (append, overwrite, delete, replace)."""
    kinds = dict.fromkeys(s.summary.operation.value for s in table.metadata.snapshots if s.summary)
    if not kinds:
        raise GoldError(f"{table.name()} has no snapshot yet")
    return texts(*(OPERATION_WORDS.get(kind, (kind,)) for kind in kinds))


def date_variants(moment: datetime) -> tuple[str, ...]:
    """ISO first, then the ways people write a date in prose."""
    day = moment.day
    return (
        moment.strftime("%Y-%m-%d"),
        moment.strftime(f"%B {day}, %Y"),
        moment.strftime(f"%b {day}, %Y"),
        moment.strftime(f"{day} %B %Y"),
        moment.strftime(f"{day} %b %Y"),
    )


def last_updated(table: Table, fact: Fact) -> Expected:
    moment = datetime.fromtimestamp(current_snapshot(table).timestamp_ms / 1000, tz=timezone.utc)
    return texts(date_variants(moment))


def partitions_table(table: Table) -> list[dict[str, Any]]:
    """Rows of the ``partitions`` metadata table; an unpartitioned table has none."""
    current_snapshot(table)
    rows = table.inspect.partitions().to_pylist()
    return rows if rows and "partition" in rows[0] else []


def partition_count(table: Table, fact: Fact) -> Expected:
    return number(len(partitions_table(table)))


def latest_field(table: Table) -> Any:
    """The partition field "latest" refers to: the current spec's first field over time (a time transform,
    or the identity of a date or timestamp column)."""
    for field in table.spec().fields:
        source_type = table.schema().find_field(field.source_id).field_type
        if isinstance(field.transform, TimeTransform) or (
            isinstance(field.transform, IdentityTransform) and isinstance(source_type, TIME_TYPES)
        ):
            return field
    raise GoldError(f"{table.name()} has no time-based partition field, so no latest partition")


def time_partitions(table: Table) -> tuple[Any, list[tuple[Any, int]]]:
    """The time field (``latest_field``) and (value, record count) of each current-spec partition that has one;
    the partitions table is read once."""
    field = latest_field(table)
    spec_id = table.spec().spec_id
    rows = [
        (value, row["record_count"])
        for row in partitions_table(table)
        if row["spec_id"] == spec_id and (value := row["partition"].get(field.name)) is not None
    ]
    return field, rows


def latest_partition_value(table: Table) -> tuple[Any, Any, list[tuple[Any, int]]]:
    """The time field, its latest value and every (value, record count) of the current spec."""
    field, rows = time_partitions(table)
    if not rows:
        raise GoldError(f"{table.name()} has no partitions in its current spec")
    return field, max(value for value, _ in rows), rows


def latest_partition(table: Table, fact: Fact) -> Expected:
    field, value, _ = latest_partition_value(table)
    return texts(partition_text_variants(partition_text(table, field, value)))


def partition_text(table: Table, field: Any, value: Any) -> str:
    """pyiceberg's text for a partition value: 2026-11-01, 2026-11, 2026-11-01-13, 2026."""
    if isinstance(value, date):  # the partitions table already gives days and identity dates as dates
        return value.isoformat()
    return field.transform.to_human_string(table.schema().find_field(field.source_id).field_type, value)


def partition_text_variants(human: str) -> tuple[str, ...]:
    """pyiceberg's text (2026-11-01, 2026-11, 2026-11-01-13) and the ways people write the same value."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{2}", human):
        day, hour = human[:10], human[11:]
        return (human, f"{day}T{hour}", f"{day} {hour}:00", f"{day}T{hour}:00")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", human):
        return date_variants(datetime.strptime(human, "%Y-%m-%d"))
    if re.fullmatch(r"\d{4}-\d{2}", human):
        month = datetime.strptime(human, "%Y-%m")
        return (human, month.strftime("%B %Y"), month.strftime("%b %Y"))
    return (human,)


def latest_partition_rows(table: Table, fact: Fact) -> Expected:
    _, latest, rows = latest_partition_value(table)
    return number(sum(count for value, count in rows if value == latest))


def partitions_between(table: Table, fact: Fact) -> dict[str, int]:
    """Rows per partition value (as text) of the table's time field whose day lies in [start, end]."""
    field, partitions = time_partitions(table)
    rows: dict[str, int] = {}
    for value, count in partitions:
        human = partition_text(table, field, value)
        if (fact.start or "") <= human[:10] <= (fact.end or ""):
            rows[human] = rows.get(human, 0) + count
    if not rows:
        raise GoldError(f"{table.name()} has no partitions between {fact.start} and {fact.end}")
    return rows


def partition_values(table: Table, fact: Fact) -> Expected:
    return texts(*(partition_text_variants(v) for v in sorted(partitions_between(table, fact))))


def partition_rows(table: Table, fact: Fact) -> Expected:
    return number(sum(partitions_between(table, fact).values()))


def partition_list(table: Table, fact: Fact) -> Expected:
    """Every partition of the current spec, each field's value as pyiceberg's text (``2100`` for a truncate,
    ``2026-11-01`` for a day): the values a listing of a table that is not partitioned by time names."""
    spec = table.spec()
    values = {
        partition_text(table, field, value)
        for row in partitions_table(table)
        if row["spec_id"] == spec.spec_id
        for field in spec.fields
        if (value := row["partition"].get(field.name)) is not None
    }
    if not values:
        raise GoldError(f"{table.name()} has no partitions in its current spec")
    return texts(*(partition_text_variants(v) for v in sorted(values)))


NOT_TIME_WORDS = ("not by time", "not by date", "not time-based", "no time-based", "not partitioned by time",
                  "not partitioned by date", "not dates", "not a date", "no date", "no time partition", "not periods",
                  "not a time", "no time")


def not_time_partitioned(table: Table, fact: Fact) -> Expected:
    """A table partitioned by something other than time: a phrase saying its partitions are not dates or
    periods, and the columns it is partitioned by; the gold fails for a table with a time partition field."""
    try:
        field = latest_field(table)
    except GoldError:
        sources = [column_name(table, f.source_id) for f in table.spec().fields if not isinstance(f.transform, VoidTransform)]
        if not sources:
            raise GoldError(f"{table.name()} is not partitioned") from None
        return texts(NOT_TIME_WORDS, *sources)
    raise GoldError(f"{table.name()} is partitioned by time ({field.name})")


TRANSFORM_WORDS = {
    "year": ("year", "yearly", "years"),
    "month": ("month", "monthly", "months"),
    "day": ("day", "daily", "days", "date"),
    "hour": ("hour", "hourly", "hours"),
    "bucket": ("bucket", "buckets", "bucketed", "hash", "hashed"),
    "truncate": ("truncate", "truncated", "truncation"),
}


def partition_spec(table: Table, fact: Fact) -> Expected:
    """Every source column of the spec, with its transform in words (identity needs the column only)."""
    spec = table.specs()[min(table.specs())] if fact.which == "first" else table.spec()
    groups: list[tuple[str, ...]] = []
    for field in spec.fields:
        if isinstance(field.transform, VoidTransform):
            continue
        groups.append((column_name(table, field.source_id),))
        if isinstance(field.transform, IdentityTransform):
            continue
        kind, _, width = str(field.transform).rstrip("]").partition("[")  # bucket[16] -> bucket, 16
        groups.append(TRANSFORM_WORDS.get(kind, (kind,)))
        if width:
            groups.append((width,))
    if not groups:
        raise GoldError(f"{table.name()} spec {spec.spec_id} is not partitioned")
    return texts(*groups)


def column_name(table: Table, field_id: int) -> str:
    for schema in reversed(table.schemas().values()):
        if (name := schema.find_column_name(field_id)) is not None:
            return name
    raise GoldError(f"{table.name()}: no column with field id {field_id}")


def spec_count(table: Table, fact: Fact) -> Expected:
    return number(len(table.specs()))


TYPE_ALIASES = {
    "long": ("bigint", "int64"),
    "int": ("integer", "int32"),
    "string": ("varchar", "text"),
    "double": ("float64", "double precision"),
    "float": ("real", "float32"),
    "boolean": ("bool",),
    "timestamptz": ("timestamp with time zone", "timestamp_tz"),
    "timestamp": ("timestamp without time zone",),
    "binary": ("blob", "bytes"),
    "list<string>": ("array<string>", "varchar[]", "string[]", "list of strings", "array of strings"),
}


def find_column(table: Table, path: str) -> Any:
    try:
        return table.schema().find_field(path, case_sensitive=False)
    except ValueError as exc:
        raise GoldError(f"{table.name()} has no column {path!r}") from exc


def holds_column(table: Table, path: str) -> bool:
    try:
        find_column(table, path)
    except GoldError:
        return False
    return True


def column_type(table: Table, fact: Fact) -> Expected:
    name = str(find_column(table, fact.column or "").field_type)
    return texts((name, *TYPE_ALIASES.get(name, ())))


def column_comment(table: Table, fact: Fact) -> Expected:
    doc = find_column(table, fact.column or "").doc
    if not doc:
        raise GoldError(f"{table.name()}.{fact.column} has no comment")
    return texts(doc.strip().rstrip("."))


def top_level_names(schema: Schema) -> list[str]:
    return [f.name for f in schema.fields]


def column_count(table: Table, fact: Fact) -> Expected:
    return number(len(table.schema().fields))


def columns(table: Table, fact: Fact) -> Expected:
    return texts(*top_level_names(table.schema()))


def table_comment(table: Table, fact: Fact) -> Expected:
    comment = table.properties.get("comment")
    if not comment:
        raise GoldError(f"{table.name()} has no comment")
    return texts(comment.strip().rstrip("."))


def schema_count(table: Table, fact: Fact) -> Expected:
    return number(len(table.schemas()))


def schema_changes(table: Table, fact: Fact) -> Expected:
    """Names of the columns added, renamed, dropped or retyped between the first and the current schema."""
    schemas = table.schemas()
    first, current = schemas[min(schemas)], table.schema()
    before = {f.field_id: f for f in first.fields}
    after = {f.field_id: f for f in current.fields}
    names = [f.name for i, f in after.items() if i not in before or before[i].name != f.name]
    names += [f.name for i, f in after.items() if i in before and before[i].field_type != f.field_type]
    names += [f.name for i, f in before.items() if i not in after]
    if not names:
        raise GoldError(f"{table.name()}: its schema never changed")
    return texts(*dict.fromkeys(names))


def identifier_fields(table: Table, fact: Fact) -> Expected:
    schema = table.schema()
    names = [schema.find_column_name(i) for i in schema.identifier_field_ids]
    if not names:
        raise GoldError(f"{table.name()} has no identifier fields")
    return texts(*(n for n in names if n))


PRESENT_WORDS = ("yes", "exists", "there is a", "has a", "is present", "has landed", "it has", "does have", "contains")
ABSENT_WORDS = ("no partition", "no partitions", "no column", "no such", "there is no", "there's no", "does not have",
                "doesn't have", "has no", "not yet", "missing", "has not landed", "hasn't landed", "no data", "none",
                "absent", "does not exist", "doesn't exist", "not found", "lacks")
"""Yes and no in an answer: phrases, not bare "no"/"not", which turn up in any sentence."""
NOT_PARTITIONED_WORDS = ("not partitioned", "unpartitioned", "no partition", "no partitions", "no partitioning",
                         "isn't partitioned", "has no partition spec", "without partitions")


def is_partitioned(table: Table, fact: Fact) -> Expected:
    """Its current spec in words when partitioned (``partition_spec``), else a phrase saying it is not."""
    if not any(not isinstance(f.transform, VoidTransform) for f in table.spec().fields):
        return texts(NOT_PARTITIONED_WORDS)
    return partition_spec(table, fact)


def has_column(table: Table, fact: Fact) -> Expected:
    """Yes or no, and the column's name: whether the table has it (any case, nested paths dotted)."""
    column = fact.column or ""
    return texts(PRESENT_WORDS if holds_column(table, column) else ABSENT_WORDS, column)


def table_owner(table: Table, fact: Fact) -> Expected:
    owner = table.properties.get("owner")
    if not owner:
        raise GoldError(f"{table.name()} has no owner property")
    return texts(owner)


def pii_columns(table: Table, fact: Fact) -> Expected:
    """Every column path the ``lakescout.pii`` property names; a nested path also as its last part."""
    paths = [p.strip() for p in table.properties.get(PII_PROPERTY, "").split(",") if p.strip()]
    if not paths:
        raise GoldError(f"{table.name()} names no PII columns")
    return texts(*((p, p.rsplit(".", 1)[-1]) if "." in p else p for p in paths))


def today() -> date:
    """The day the suite runs, in UTC: relative dates in questions are counted back from it."""
    return datetime.now(timezone.utc).date()


def covers(human: str, day: date) -> bool:
    """A partition's text (2026-11-01, 2026-11, 2026-11-01-13, 2026) holds the day."""
    return day.isoformat().startswith(human) or human[:10] == day.isoformat()


def partition_for_day(table: Table, fact: Fact) -> Expected:
    """Whether the time partition holding the day ``days`` before today exists, and that day's date: yes or no
    words, and the date (so the answer says which day it took)."""
    day = today() - timedelta(days=fact.days or 0)
    field, partitions = time_partitions(table)
    present = any(covers(partition_text(table, field, value), day) for value, _ in partitions)
    moment = datetime(day.year, day.month, day.day)
    return texts(PRESENT_WORDS if present else ABSENT_WORDS, date_variants(moment))


# --- facts about the catalogs as a whole ----------------------------------------------------------------

NOT_FOUND_WORDS = (
    "does not exist", "doesn't exist", "no such table", "no table", "not found", "could not find", "couldn't find",
    "can't find", "cannot find", "did not find", "didn't find", "is not in the catalog", "isn't in the catalog",
    "not in the lake", "unknown table", "there is no",
)


def no_such_table(resolver: FactResolver, fact: Fact) -> Expected:
    """The table the question names is in none of the catalogs: the answer says so and names it."""
    name = fact.table or ""
    if resolver.exists(name):
        raise GoldError(f"no_such_table({name}): the table exists, so the case is wrong")
    return texts(NOT_FOUND_WORDS, (name, name.rsplit(".", 1)[-1]))


TABLE_MEASURES: dict[str, Callable[[Table], float]] = {
    "rows": lambda table: table.scan().count(),
    "bytes": lambda table: sum(f["file_size_in_bytes"] for f in data_files(table)),
    "files": lambda table: len(data_files(table)),
    "snapshots": lambda table: len(table.metadata.snapshots),
    "columns": lambda table: len(table.schema().fields),
}


def ranked(resolver: FactResolver, fact: Fact, *, largest: bool) -> Expected:
    """The ``n`` (default 1) tables with the most (or least) of ``by``, each as namespace.table; a tie across
    the cut makes the question ambiguous, which is a case bug."""
    n = fact.n or 1
    measured = sorted(
        ((TABLE_MEASURES[fact.by or "rows"](table), name) for name, table in resolver.all_tables().items()),
        key=lambda pair: pair[0], reverse=largest,
    )
    if len(measured) > n and measured[n - 1][0] == measured[n][0]:
        tied = [name for value, name in measured if value == measured[n][0]]
        raise GoldError(f"{fact.label()}: {', '.join(tied)} tie at place {n}; ask for another n or measure")
    return Expected("first_tables", groups=tuple((name,) for _, name in measured[:n]), universe=tuple(resolver.all_tables()))


def largest_tables(resolver: FactResolver, fact: Fact) -> Expected:
    return ranked(resolver, fact, largest=True)


def smallest_tables(resolver: FactResolver, fact: Fact) -> Expected:
    return ranked(resolver, fact, largest=False)


def in_namespace(resolver: FactResolver, namespace: str | None) -> list[str]:
    names = list(resolver.all_tables())
    if namespace is None:
        return names
    found = [n for n in names if n.split(".")[-2] == namespace]
    if not found:
        raise GoldError(f"no tables in namespace {namespace!r}")
    return found


def tables_in_namespace(resolver: FactResolver, fact: Fact) -> Expected:
    """Every table of the namespace, as namespace.table or the bare table name."""
    return texts(*((name, name.rsplit(".", 1)[-1]) for name in in_namespace(resolver, fact.namespace)))


def table_count(resolver: FactResolver, fact: Fact) -> Expected:
    """Tables in the namespace, or in every catalog without one."""
    return number(len(in_namespace(resolver, fact.namespace)))


def namespaces(resolver: FactResolver, fact: Fact) -> Expected:
    return texts(*dict.fromkeys(name.split(".")[-2] for name in resolver.all_tables()))


def tables_with_tag(resolver: FactResolver, fact: Fact) -> Expected:
    """Tables whose comma-separated ``tags`` property holds the tag."""
    tagged = [name for name, table in resolver.all_tables().items()
              if fact.tag in [t.strip() for t in table.properties.get("tags", "").split(",")]]
    if not tagged:
        raise GoldError(f"no table is tagged {fact.tag!r}")
    return texts(*tagged)


def tables_with_column(resolver: FactResolver, fact: Fact) -> Expected:
    """Every table with a column of that name (any case, nested paths dotted), as namespace.table, and no other
    table named before them: a list of every table, or of search hits that hold the name, is not the answer."""
    everything = resolver.all_tables()
    holding = [name for name, table in everything.items() if holds_column(table, fact.column or "")]
    if not holding:
        raise GoldError(f"no table has a column {fact.column!r}")
    return Expected("first_tables", groups=tuple((name,) for name in holding), universe=tuple(everything))


def tables_not_written_in(resolver: FactResolver, fact: Fact) -> Expected:
    """Tables whose current snapshot (or none) is older than ``days`` days before now; when every table was
    written since, a phrase saying none is stale."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=fact.days or 0)
    everything = resolver.all_tables()
    stale = [
        name for name, table in everything.items()
        if (snapshot := table.current_snapshot()) is None
        or datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=timezone.utc) < cutoff
    ]
    if stale:
        return texts(*stale)
    return texts(("none", "no table", "no tables", "not one", "zero tables", "0 tables", "every table", "all tables",
                  "all of them", "all the tables", "all of the tables", f"all {len(everything)} tables",
                  f"all {len(everything)}"))


RESOLVERS: dict[str, Callable[[Table, Fact], Expected]] = {
    name: globals()[name] for name in FACT_ARGUMENTS if name not in CATALOG_FACTS
}
CATALOG_RESOLVERS: dict[str, Callable[[FactResolver, Fact], Expected]] = {
    name: globals()[name] for name in CATALOG_FACTS
}
