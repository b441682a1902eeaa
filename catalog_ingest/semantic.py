"""The semantic layer: a lake owner's YAML file of business terms, metrics and relationships, loaded and
validated against the ingested catalog (``catalog_ingest.semantic_match`` finds the entries a question names).

The format is /work/notes/semantic_format.md's (``version: 1``; ``terms``, ``metrics``, ``relationships``).
A file that is not valid YAML or not that format is one ``SemanticLayerError`` naming the file and the entry.
Entries that name a table, column or dimension the catalog lacks, or whose SQL does not parse or names
another table's columns, are problems (each names the entry, the bad reference and the closest real names);
such an entry is never used, the rest of the layer is. ``entries_touching`` and ``check`` let a schema change
re-validate only what touches the changed table.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog_ingest.records import TableRecord
from catalog_ingest.settings import ConfigError, Settings

FILE_NAME = "semantic.yaml"
CLOSEST = 3


class SemanticLayerError(ConfigError):
    """The layer file cannot be read at all: missing when configured, not YAML, or not the format."""


class Entry(BaseModel):
    """One entry of the layer; ``label()`` is how problems name it (``metric 'net revenue'``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def label(self) -> str:
        raise NotImplementedError


class Term(Entry):
    """A business word: where it lives in the lake (a table, a column, or a column holding some values)."""

    name: str = Field(min_length=1)
    synonyms: list[str] = Field(default_factory=list)
    description: str | None = None
    table: str | None = None
    column: str | None = None
    values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_target(self) -> Term:
        if (self.table is None) == (self.column is None):
            raise ValueError("a term points at exactly one of: table, column (with optional values)")
        if self.values and self.column is None:
            raise ValueError("values need a column")
        return self

    def label(self) -> str:
        return f"term '{self.name}'"


class Metric(Entry):
    """A measure with a fixed definition: an SQL expression (and filter) over one table's columns."""

    name: str = Field(min_length=1)
    synonyms: list[str] = Field(default_factory=list)
    table: str
    expression: str = Field(min_length=1)
    filter: str | None = None
    time_column: str | None = None
    dimensions: list[str] = Field(default_factory=list)
    description: str | None = None

    def label(self) -> str:
        return f"metric '{self.name}'"


class Relationship(Entry):
    """Join keys between two tables (``from`` and ``to`` are ``namespace.table.column``)."""

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    cardinality: Literal["one_to_one", "one_to_many", "many_to_one", "many_to_many"] = "many_to_one"

    def label(self) -> str:
        return f"relationship {self.source} -> {self.target}"


class SemanticLayer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    terms: list[Term] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)
    source: Path | None = Field(default=None, exclude=True)

    def entries(self) -> list[Term | Metric | Relationship]:
        return [*self.terms, *self.metrics, *self.relationships]

    def entries_touching(self, table_full_name: str, records: Iterable[TableRecord] = ()) -> list[Term | Metric | Relationship]:
        """Every entry that names the table (``namespace.table`` or ``catalog.namespace.table``) or one of its
        columns: what a schema change of that table must re-validate."""
        lake = CatalogNames(records)
        wanted = table_full_name.lower()
        names = {wanted, wanted.split(".", 1)[1]} if wanted.count(".") >= 2 else {wanted}
        return [e for e in self.entries() if {t.lower() for t in referenced_tables(e, lake)} & names]

    def check(self, records: Iterable[TableRecord], entries: Iterable[Entry] | None = None) -> list[Problem]:
        """Every problem of the entries (all by default) against these records; an entry with an error is broken."""
        lake = CatalogNames(records)
        return [problem for entry in (self.entries() if entries is None else entries) for problem in check_entry(entry, lake)]

    def without(self, broken: Iterable[Entry]) -> SemanticLayer:
        """The layer less some entries (those a check found broken): what is served."""
        gone = {id(e) for e in broken}
        return self.model_copy(update={
            "terms": [t for t in self.terms if id(t) not in gone],
            "metrics": [m for m in self.metrics if id(m) not in gone],
            "relationships": [r for r in self.relationships if id(r) not in gone],
        })  # fmt: skip


# Loading -------------------------------------------------------------------------------------------------


def layer_path(settings: Settings) -> tuple[Path, bool]:
    """Where the layer file is, and whether it was configured explicitly (then it must exist)."""
    if settings.semantic_layer is not None:
        return settings.semantic_layer, True
    if settings.config_file is not None:
        return settings.config_file.parent / FILE_NAME, False
    return settings.data_dir / FILE_NAME, False


def load_layer(settings: Settings) -> SemanticLayer | None:
    """The layer file the settings point at; None when the default file does not exist."""
    path, explicit = layer_path(settings)
    if not path.is_file():
        if explicit:
            raise SemanticLayerError(f"semantic_layer: {path} does not exist; fix LAKESCOUT_SEMANTIC_LAYER or the config's semantic_layer")
        return None
    return parse_layer(path.read_text(encoding="utf-8"), path)


def parse_layer(text: str, source: Path | None = None) -> SemanticLayer:
    where = str(source or "semantic layer")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SemanticLayerError(f"{where}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise SemanticLayerError(f"{where}: expected a mapping with terms, metrics and relationships")
    try:
        layer = SemanticLayer.model_validate(data)
    except ValidationError as exc:
        problems = [f"{entry_name(data, err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SemanticLayerError(f"{where}: " + "; ".join(problems)) from None
    return layer.model_copy(update={"source": source})


def entry_name(data: dict, loc: tuple) -> str:
    """``metrics[2] 'net revenue'.expression`` for a pydantic error location."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        item = (data.get(loc[0]) or [None] * (loc[1] + 1))[loc[1]]
        name = f" '{item['name']}'" if isinstance(item, dict) and item.get("name") else ""
        rest = "".join(f".{p}" for p in loc[2:] if not str(p).startswith(("function-", "model")))
        return f"{loc[0]}[{loc[1]}]{name}{rest}"
    return ".".join(str(p) for p in loc) or "file"


# Validation ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    entry: str
    message: str
    severity: Literal["error", "warning"] = "error"
    suggestions: tuple[str, ...] = ()

    def __str__(self) -> str:
        closest = f"; closest: {', '.join(self.suggestions)}" if self.suggestions else ""
        return f"{self.entry}: {self.message}{closest}"


class CatalogNames:
    """The catalog's tables by every name they go by, for resolving the layer's references."""

    def __init__(self, records: Iterable[TableRecord]) -> None:
        self.by_name: dict[str, TableRecord] = {}
        self.ambiguous: dict[str, list[str]] = {}
        """``namespace.table`` names that two catalogs hold -> their ``catalog.namespace.table`` keys."""
        for record in records:
            if (name := record.full_name.lower()) in self.by_name:
                self.ambiguous.setdefault(name, [self.by_name[name].key]).append(record.key)
            self.by_name.setdefault(name, record)
            self.by_name[record.key.lower()] = record

    def table(self, name: str) -> TableRecord | None:
        return self.by_name.get(name.lower())

    def split_column(self, reference: str) -> tuple[str, str]:
        """``ns.table.col.nested`` -> (table name, column path), trying the catalog-qualified table first."""
        parts = reference.split(".")
        for size in (3, 2):
            if len(parts) > size and self.table(".".join(parts[:size])):
                return ".".join(parts[:size]), ".".join(parts[size:])
        return ".".join(parts[:2]), ".".join(parts[2:])

    def closest_tables(self, name: str) -> tuple[str, ...]:
        names = sorted({r.full_name for r in self.by_name.values()})
        return tuple(difflib.get_close_matches(name, names, n=CLOSEST, cutoff=0.7))


def closest_columns(record: TableRecord, name: str) -> tuple[str, ...]:
    paths = [c.path for c in record.columns]
    return tuple(difflib.get_close_matches(name, paths, n=CLOSEST, cutoff=0.6))


def referenced_tables(entry: Entry, lake: CatalogNames) -> set[str]:
    if isinstance(entry, Term) and entry.column:
        return {lake.split_column(entry.column)[0]}
    if isinstance(entry, Relationship):
        return {lake.split_column(entry.source)[0], lake.split_column(entry.target)[0]}
    return {entry.table} if isinstance(entry, Term | Metric) and entry.table else set()


def entry_tables(entry: Entry, records: Iterable[TableRecord] = ()) -> set[str]:
    """The tables an entry names (itself or through its columns), resolved in ``records`` when given."""
    return referenced_tables(entry, CatalogNames(records))


def check_entry(entry: Entry, lake: CatalogNames) -> list[Problem]:
    label = entry.label()
    if isinstance(entry, Term):
        if entry.table:
            return table_problems(label, entry.table, lake)
        return column_problems(label, entry.column or "", lake, entry.values)
    if isinstance(entry, Relationship):
        return column_problems(label, entry.source, lake) + column_problems(label, entry.target, lake)
    assert isinstance(entry, Metric)
    problems = table_problems(label, entry.table, lake)
    if problems:
        return problems
    record = lake.table(entry.table)
    assert record is not None
    for part, sql in (("expression", entry.expression), ("filter", entry.filter)):
        if sql is not None:
            problems += sql_problems(label, part, sql, record)
    for role, name in [("time_column", entry.time_column), *(("dimension", d) for d in entry.dimensions)]:
        if name is not None and not any(c.path == name for c in record.columns):
            problems.append(Problem(label, f"{role} {record.full_name}.{name} does not exist", "error",
                                    closest_columns(record, name)))  # fmt: skip
    return problems


def table_problems(label: str, name: str, lake: CatalogNames) -> list[Problem]:
    if keys := lake.ambiguous.get(name.lower()):
        return [Problem(label, f"table {name} is in more than one catalog: name it {' or '.join(keys)}")]
    if lake.table(name):
        return []
    return [Problem(label, f"table {name} does not exist", "error", lake.closest_tables(name))]


def column_problems(label: str, reference: str, lake: CatalogNames, values: list[str] = ()) -> list[Problem]:
    table, path = lake.split_column(reference)
    record = lake.table(table)
    if record is not None and path and (ambiguous := table_problems(label, table, lake)):
        return ambiguous
    if record is None or not path:
        return [Problem(label, f"table {table} does not exist" if path else f"{reference} is not namespace.table.column",
                        "error", lake.closest_tables(table))]  # fmt: skip
    column = next((c for c in record.columns if c.path == path), None)
    if column is None:
        return [Problem(label, f"column {record.full_name}.{path} does not exist", "error", closest_columns(record, path))]
    profile = column.profile
    if not values or profile is None or profile.values is None:
        return []
    known = [v.value for v in profile.values]
    return [
        Problem(label, f"value '{value}' is not among the known values of {record.full_name}.{path}", "warning",
                tuple(difflib.get_close_matches(value, known, n=CLOSEST, cutoff=0.5)) or tuple(known[:CLOSEST]))
        for value in values if not profile.holds(value)
    ]  # fmt: skip


def sql_problems(label: str, part: str, sql: str, record: TableRecord) -> list[Problem]:
    """The expression parses and names only the table's own columns."""
    import sqlglot  # here: only a semantic layer's SQL expressions need the parser, not the server
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        return [Problem(label, f"{part} '{sql}' does not parse: {str(exc).splitlines()[0]}")]
    if tree.find(exp.Select, exp.Subquery, exp.Table) is not None:
        return [Problem(label, f"{part} '{sql}' must be an expression over {record.full_name}'s columns, not a query")]
    paths = {c.path.lower() for c in record.columns}
    problems = []
    for col in tree.find_all(exp.Column):
        path = ".".join(p.name for p in col.parts).lower()
        qualifier, _, bare = path.partition(".")
        if path in paths or (bare in paths and qualifier == record.name.lower()):
            continue
        problems.append(Problem(label, f"{part}: column {record.full_name}.{path} does not exist", "error",
                                closest_columns(record, path)))  # fmt: skip
    return problems


@dataclass
class CheckedLayer:
    """A loaded layer as served: the entries that passed, and every problem found (errors and warnings)."""

    layer: SemanticLayer | None = None
    problems: list[Problem] = field(default_factory=list)
    failure: str | None = None
    """Why no layer is served at all (the file is missing when configured, not YAML, not the format)."""

    def status(self) -> str:
        """``ok``, ``off``, ``no layer file``, or what is wrong: the /readyz and doctor line."""
        if self.failure:
            return self.failure
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            count = f"{len(errors)} broken {'entry' if len(errors) == 1 else 'entries'}"
            return f"{count} left out: " + "; ".join(map(str, errors))
        return "ok" if self.layer is not None else "no layer file"

    @property
    def failed(self) -> bool:
        return self.status() not in ("ok", "off", "no layer file")


def install_layer(source: Path, data_dir: Path) -> Path | None:
    """Copy a layer file (the sample lake's) to ``data_dir/semantic.yaml`` unless one is there; the path
    written, or None when nothing was copied."""
    target = data_dir / FILE_NAME
    if not source.is_file() or target.exists():
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return target


def load_checked(
    settings: Settings, records: Iterable[TableRecord] | Callable[[], Iterable[TableRecord]]
) -> CheckedLayer:
    """Load and validate the layer; never raises: a file that cannot be read is reported, not served. ``records``
    may be a callable, called only when there is a layer to check (reading every record costs at start-up)."""
    if not settings.use_semantic_layer:
        return CheckedLayer(failure="off")
    try:
        layer = load_layer(settings)
    except SemanticLayerError as exc:
        return CheckedLayer(failure=str(exc))
    if layer is None:
        return CheckedLayer()
    return served(layer, list(records() if callable(records) else records))


def served(layer: SemanticLayer, records: list[TableRecord]) -> CheckedLayer:
    lake = CatalogNames(records)
    problems, broken = [], []
    for entry in layer.entries():
        found = check_entry(entry, lake)
        problems += found
        if any(p.severity == "error" for p in found):
            broken.append(entry)
    return CheckedLayer(layer.without(broken), problems)
