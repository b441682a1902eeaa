"""A table family in SQL: the members of ``web.events_YYYYMMDD`` read as one table.

Three spellings name a family (``catalog_ingest.families`` finds them): its own name ``web.events_YYYYMMDD``
(what search and describe show), BigQuery's wildcard ``web.events_*`` (``web."events_*"`` quoted), and a
wildcard on part of the suffix, ``web.events_2024*`` (the members whose names start so). The table it stands
for is the members joined by ``UNION ALL BY NAME`` with one more column, ``_table_suffix``: the part of the
member's name the spelling leaves open (``20240105`` for ``events_*``, ``0105`` for ``events_2024*``), as
text, like BigQuery's ``_TABLE_SUFFIX``. Its columns are every member's: a column a member lacks reads NULL.

Only the members a filter on ``_table_suffix`` can select are read: AND-ed comparisons with literals (=, <,
<=, >, >=, BETWEEN, IN) in the WHERE of the SELECT that reads the family, or in the ON of the family's own
inner or left join, where nothing else in that FROM could own the column. Other filters on it still apply
row by row, so pruning never changes a result. A spelling that matches no member, or filters that select
none, are one-line errors that give the family's range.

Safety: the guard replaces each family reference by a subquery over the members' own catalog names (quoted
identifiers taken from the catalog's records, never from the query's text) and checks that expansion like
every other node before it regenerates the SQL; the written name only chooses among the catalog's families.
Athena has no wildcard table, and none is built for it: its engine refuses family names
(``no_wildcard_message``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp

from agent.sql.guard import UnsafeSQL
from agent.sql.predicates import Bounds, comparisons, split_and
from catalog_ingest.families import PATTERNS, SUFFIX_COLUMN, Family, detect_families, one_schema
from catalog_ingest.records import Column, TableRecord, TableTotals
from catalog_ingest.settings import SqlSettings

WILDCARD = "*"
PLAIN_TABLE_ARGS = frozenset({"this", "db", "alias"})
"""What a family reference may carry; PIVOT, TABLESAMPLE, time travel and the like need a subquery first."""
CLAUSE_NAMES = {"pivots": "PIVOT", "sample": "TABLESAMPLE", "version": "time travel", "system_time": "time travel"}
FAMILIES_LISTED = 5


def table_name(table: exp.Table) -> str:
    return ".".join(part.name for part in table.parts)


def looks_like_family(name: str) -> bool:
    """Whether ``name`` ends like a family's own name (``events_YYYYMMDD``, ``shard_N``)."""
    return any(name.rsplit(".", 1)[-1].upper().endswith(p.name) for p in PATTERNS)


def written_name(table: exp.Table, sql: str) -> str:
    """The table's name with the wildcard both parsers drop: DuckDB and sqlglot read ``FROM web.events_*`` as
    ``web.events_`` (PostgreSQL's ``table *``), so the star is found after the name in the text."""
    name = table_name(table)
    identifier = table.this
    end = identifier.meta.get("end") if isinstance(identifier, exp.Identifier) else None
    if isinstance(end, int) and not identifier.quoted and sql[end + 1 :].lstrip().startswith(WILDCARD):
        return name + WILDCARD
    return name


@dataclass(frozen=True)
class FamilyTable:
    """What one family spelling reads: the members it matches and the part of their names it leaves open."""

    family: Family
    written: str
    """The spelling as the query wrote it: ``web.events_*``, ``web.events_YYYYMMDD``."""
    prefix: str
    """What the matched members' names start with; the rest of a name is its ``_table_suffix``."""
    members: tuple[TableRecord, ...]
    """Matched by the spelling, in suffix order (before any filter)."""

    def suffix(self, member: TableRecord) -> str:
        return member.name[len(self.prefix) :]

    @cached_property
    def columns(self) -> list[Column]:
        """Every member's columns (a column's first appearance, newest member first), then ``_table_suffix``."""
        found: dict[str, Column] = {}
        for member in reversed(self.members):
            for column in member.columns:
                seen = found.get(column.path.lower())
                if seen is None:
                    found[column.path.lower()] = column.model_copy()
                elif column.pii:
                    seen.pii = True
        comment = f"the member's name after {self.prefix}: which table of the family the row is from"
        return [*found.values(), Column(path=SUFFIX_COLUMN, type="string", comment=comment)]

    def record(self, namespace: str, name: str) -> TableRecord:
        """The family as one table named as the query wrote it, for name resolution, columns and lints."""
        newest = self.members[-1]

        def summed(field: str) -> int | None:
            values = [getattr(m.totals, field) for m in self.members if getattr(m.totals, field) is not None]
            return sum(values) if values else None

        totals = TableTotals(**{f: summed(f) for f in ("record_count", "file_count", "total_bytes", "partition_count")})
        return TableRecord(catalog=newest.catalog, namespace=namespace, name=name, kind=newest.kind, columns=self.columns,
                           partition_spec=newest.partition_spec, totals=totals)  # fmt: skip

    def describe(self) -> str:
        """``web.events_YYYYMMDD: 31 tables events_20240101 .. events_20240131``."""
        members = self.family.members
        return f"{self.family.full_name}: {len(members):,} tables {members[0].name} .. {members[-1].name}"

    def suffix_range(self) -> str:
        return f"'{self.suffix(self.members[0])}' .. '{self.suffix(self.members[-1])}'"

    def selected(self, table: exp.Table, tables: Callable[[str], TableRecord | None]) -> tuple[TableRecord, ...]:
        """The members the filters around ``table`` leave; raises UnsafeSQL when they leave none."""
        bounds = suffix_bounds(table, tables)
        if bounds is None:
            return self.members
        chosen = tuple(m for m in self.members if bounds.overlaps(self.suffix(m), self.suffix(m), True))
        if not chosen:
            raise UnsafeSQL(
                f"the filter on {SUFFIX_COLUMN} selects no member of {self.written} ({self.describe()}; "
                f"{SUFFIX_COLUMN} {self.suffix_range()})",
                code="unknown_table",
                identifier=SUFFIX_COLUMN,
            )
        return chosen

    def scan(self, members: tuple[TableRecord, ...], table: exp.Table) -> exp.Subquery:
        """The subquery that reads ``members`` in place of ``table``: one SELECT per member, ``UNION ALL BY NAME``,
        each with the columns it lacks as NULL and its suffix, under the table's alias (or its name)."""
        everything = [c.path for c in self.columns if "." not in c.path and c.path != SUFFIX_COLUMN]
        selects = []
        for member in members:
            own = {c.path.split(".")[0].lower() for c in member.columns}
            missing = [exp.alias_(exp.Null(), name, quoted=True) for name in everything if name.lower() not in own]
            suffix = exp.alias_(exp.Literal.string(self.suffix(member)), SUFFIX_COLUMN, quoted=True)
            source = exp.Table(this=exp.to_identifier(member.name, quoted=True), db=exp.to_identifier(member.namespace, quoted=True))
            selects.append(exp.Select(expressions=[exp.Star(), *missing, suffix]).from_(source))
        alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name, quoted=True))
        return exp.Subquery(this=union_by_name(selects), alias=alias.copy())


def union_by_name(selects: list[exp.Expression]) -> exp.Expression:
    """``UNION ALL BY NAME`` of the selects as a balanced tree, so a long family nests only log2(n) deep."""
    if len(selects) == 1:
        return selects[0]
    middle = len(selects) // 2
    halves = [union_by_name(selects[:middle]), union_by_name(selects[middle:])]
    left, right = (h if isinstance(h, exp.Select) else exp.Subquery(this=h) for h in halves)
    return exp.Union(this=left, expression=right, distinct=False, by_name=True)


def suffix_bounds(table: exp.Table, tables: Callable[[str], TableRecord | None]) -> Bounds | None:
    """The ``_table_suffix`` values the filters around a family reference let through; None without such a filter.

    Sound by construction: a WHERE conjunct of the SELECT whose FROM holds the family, or an ON conjunct of the
    family's own join unless that join keeps unmatched rows of the family (RIGHT, FULL). An unqualified
    ``_table_suffix`` counts only when every other source of that FROM is a catalog table without the column.
    """
    holder = table.parent
    select = holder.parent if isinstance(holder, (exp.From, exp.Join)) else None
    if not isinstance(select, exp.Select):
        return None
    conditions = [select.args["where"].this] if select.args.get("where") else []
    if isinstance(holder, exp.Join) and holder.args.get("on") is not None and holder.side not in ("RIGHT", "FULL"):
        conditions.append(holder.args["on"])
    from_ = select.args.get("from_") or select.args.get("from")
    sources = [from_.this] if from_ is not None else []
    sources += [join.this for join in select.args.get("joins") or []]
    alone = all(source is table or column_free(source, tables) for source in sources)
    alias = table.alias_or_name.lower()
    bounds = None
    for conjunct in (part for condition in conditions for part in split_and(condition)):
        for column, operator, values in comparisons(conjunct):
            if column.name.lower() != SUFFIX_COLUMN or isinstance(column.parent, exp.Dot) or operator == "day":
                continue
            if (column.table and column.table.lower() != alias) or (not column.table and not alone):
                continue
            bounds = bounds or Bounds()
            if operator == "in":
                bounds.narrow_points([str(v) for v in values])
            else:
                bounds.narrow(operator, str(values[0]))
    return bounds


def column_free(source: exp.Expression, tables: Callable[[str], TableRecord | None]) -> bool:
    """A catalog table without a ``_table_suffix`` column (anything else might have one)."""
    if not isinstance(source, exp.Table) or not isinstance(source.this, exp.Identifier):
        return False
    record = tables(table_name(source))
    return record is not None and all(c.path.lower() != SUFFIX_COLUMN for c in record.columns)


@dataclass(frozen=True)
class FamilyScan:
    """One family reference of a query and the members it reads after the ``_table_suffix`` filter."""

    name: str
    """The reference's name as parsed (``web.events_*``): what validation resolves to ``record``."""
    table: FamilyTable
    members: tuple[TableRecord, ...]

    @property
    def record(self) -> TableRecord:
        namespace, _, name = self.name.rpartition(".")
        return self.table.record(namespace, name)

    def summary(self) -> dict[str, object]:
        """What validation shows of it: the members read out of the family's."""
        first, last = self.members[0], self.members[-1]
        return {"family": self.name, "members_read": len(self.members), "first": first.full_name,
                "last": last.full_name, "of": self.table.describe()}  # fmt: skip


def no_wildcard_message(scan: FamilyScan) -> str:
    """Athena's refusal: it has no wildcard table, so a family is read member by member."""
    newest = scan.table.members[-1].full_name
    return (f"Athena has no wildcard tables, so {scan.name} ({scan.table.describe()}) cannot be read as one "
            f"table: name a member ({newest}), or UNION ALL one SELECT per member listing the same columns")  # fmt: skip


class Families:
    """The catalog's families by the names SQL may give them; found from the records' names on first use."""

    def __init__(self, records: Callable[[], Iterable[TableRecord]], tables: Callable[[str], TableRecord | None]) -> None:
        self._records = records
        self._tables = tables
        self._by_namespace: dict[str, list[Family]] | None = None
        self._by_name: dict[str, TableRecord] = {}

    def _index(self) -> dict[str, list[Family]]:
        if self._by_namespace is None:
            self._by_name = {r.full_name.lower(): r for r in self._records()}
            by_namespace: dict[str, list[Family]] = {}
            for family in detect_families(r.full_name for r in self._by_name.values()):
                members = [self._by_name[name.lower()] for name in family.member_names()]
                if family.is_dated or one_schema({m.name: [c.path for c in m.columns] for m in members}):
                    by_namespace.setdefault(family.namespace.lower(), []).append(family)
            self._by_namespace = by_namespace
        return self._by_namespace

    def names(self) -> list[str]:
        return [family.full_name for families in self._index().values() for family in families]

    def _members(self, family: Family, prefix: str = "") -> tuple[TableRecord, ...]:
        records = (self._by_name[name.lower()] for name in family.member_names())
        return tuple(r for r in records if r.name.lower().startswith(prefix.lower()))

    def resolve(self, table: exp.Table, sql: str) -> FamilyTable | None:
        """The family ``table`` names (the text ``sql`` is where its wildcard is looked for), or None for any other
        name. Raises UnsafeSQL for a wildcard that matches no member, or members of several families."""
        if not isinstance(table.this, exp.Identifier) or table.args.get("catalog") or not table.args.get("db"):
            return None
        name = written_name(table, sql)
        wildcard = name.endswith(WILDCARD)
        if not wildcard and (not looks_like_family(name) or self._tables(name) is not None):
            return None
        namespace, _, leaf = name.rpartition(".")
        families = self._index().get(namespace.lower(), [])
        if not wildcard:
            family = next((f for f in families if f.name.lower() == leaf.lower()), None)
            return FamilyTable(family, name, family.stem, self._members(family)) if family else None
        found = self.wildcard(name, leaf[: -len(WILDCARD)], families)
        if not table.this.quoted:  # keep the star the parsers dropped: the tree now says what the text said
            table.set("this", exp.to_identifier(leaf, quoted=True))
        return found

    def wildcard(self, name: str, prefix: str, families: list[Family]) -> FamilyTable:
        matched = [(f, members) for f in families if (members := self._members(f, prefix))]
        if len(matched) == 1:
            family, members = matched[0]
            return FamilyTable(family, name, prefix, members)
        if matched:
            names = ", ".join(f.full_name for f, _ in matched)
            raise UnsafeSQL(f"{name} matches members of {len(matched)} families ({names}); a wildcard reads one "
                            "family: make its prefix longer, or name the family", code="unknown_table", identifier=name)  # fmt: skip
        near = [f for f in families if f.stem.lower().startswith(prefix.lower()) or prefix.lower().startswith(f.stem.lower())]
        if near:
            ranges = "; ".join(FamilyTable(f, name, f.stem, self._members(f)).describe() for f in near)
            raise UnsafeSQL(f"{name} matches no member of {ranges}", code="unknown_table", identifier=name)
        namespace = name.rpartition(".")[0]
        names = [f.full_name for f in families]
        closest = difflib.get_close_matches(name, names, n=FAMILIES_LISTED, cutoff=0) if names else []
        there = f"its families: {', '.join(closest)}" if closest else "it has none"
        raise UnsafeSQL(f"unknown table {name}: a wildcard reads the members of a family of tables in {namespace}, "
                        f"and {there}", code="unknown_table", identifier=name)  # fmt: skip

    def expand(self, tree: exp.Expression, sql: str, limits: SqlSettings) -> tuple[exp.Expression, tuple[FamilyScan, ...]]:
        """A copy of ``tree`` with every family reference replaced by the subquery over the members it reads,
        and those reads; ``tree`` itself when it names no family."""
        expanded = tree.copy()
        scans: list[FamilyScan] = []
        replacements: list[tuple[exp.Table, exp.Subquery]] = []
        for table in list(expanded.find_all(exp.Table)):
            found = self.resolve(table, sql)
            if found is None:
                continue
            extra = sorted(k for k, v in table.args.items() if v and k not in PLAIN_TABLE_ARGS)
            if extra:
                raise UnsafeSQL(f"{found.written} is a family of tables ({found.describe()}): read it in a subquery "
                                f"to use {', '.join(CLAUSE_NAMES.get(k, k.upper()) for k in extra)} on it", identifier=found.written)  # fmt: skip
            members = found.selected(table, self._tables)
            scans.append(FamilyScan(table_name(table), found, members))
            replacements.append((table, found.scan(members, table)))
        if not scans:
            return tree, ()
        read = sum(len(scan.members) for scan in scans)
        if read > limits.max_family_members:
            raise UnsafeSQL(f"refused: the query reads {read:,} member tables of families; the limit is "
                            f"sql.max_family_members = {limits.max_family_members:,}. Filter on {SUFFIX_COLUMN} "
                            "to read fewer members", code="too_complex")  # fmt: skip
        for table, subquery in replacements:
            table.replace(subquery)
        return expanded, tuple(scans)
