"""The tables the offline model drafts over, as ``describe_table`` returned them: which column fits a word,
which table a word is about, and the key columns two tables join on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.models.language import related
from agent.models.semantic_terms import layer_join
from agent.models.vocabulary import AGGREGATE_WORDS, CURRENCY_CODES, NAME_PARTS, UNIT_COLUMN_WORDS
from catalog_ingest.text import name_parts, stem, words

NUMERIC = re.compile(r"^(tinyint|smallint|int|integer|long|bigint|hugeint|float|double|real|decimal|numeric)")
TEMPORAL = re.compile(r"^(date|timestamp)")
NAMED_AS_IT_IS = 9.5
"""A ``Table.match`` fit this good is the column's whole name (10, less a tenth for each part of it)."""


@dataclass
class Table:
    name: str
    columns: list[dict[str, Any]]
    partition_sources: list[str]
    comments: dict[str, str]
    values: dict[str, list[str]] = field(default_factory=dict)
    """Distinct values of categorical columns, when a probe read them."""
    relationships: list[dict[str, Any]] = field(default_factory=list)
    """Join keys of the lake's semantic layer that name this table."""
    rows: int | None = None
    """Rows in the current snapshot, when the catalog counts them."""
    identifier: list[str] = field(default_factory=list)
    """The table's identifier fields (its row key), when the catalog declares them."""

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> Table:
        comments = described.get("metadata_untrusted", {}).get("column_comments", {})
        sources = [f["source_column"] for f in described.get("partition_fields", [])]
        relationships = (described.get("semantic") or {}).get("relationships", [])
        return cls(described["table"], described.get("columns", []), sources, comments, relationships=relationships,
                   rows=described.get("rows"), identifier=described.get("identifier_fields") or [])

    @property
    def short(self) -> str:
        return self.name.rpartition(".")[2]

    def has(self, name: str) -> bool:
        return any(c["name"] == name for c in self.columns)

    def column(self, word: str, kind: re.Pattern[str] | None = None, ids: bool = True, units: set[str] = frozenset()) -> str | None:
        return self.match(word, kind, ids, units)[0]

    def match(
        self, word: str, kind: re.Pattern[str] | None = None, ids: bool = True, units: set[str] = frozenset()
    ) -> tuple[str | None, float]:
        """The column that best fits a word, with how well: by name (10), a name part (6), a synonym (4),
        its comment (2); among columns named with one of ``units`` (``amount_usd`` for "in USD") when any fits."""
        if units:
            in_unit = [c for c in self.columns if units & set(name_parts(c["name"]))]
            best = Table(self.name, in_unit, self.partition_sources, self.comments).match(word, kind, ids)
            if best[0] is not None:
                return best
        terms, base = related(word), stem(word)
        best, best_score = None, 0.0
        for col in self.columns:
            name = col["name"]
            if kind is not None and not kind.match(col["type"].lower()):
                continue
            if not ids and (name.endswith("_id") or name == "id"):
                continue
            parts = [stem(p) for p in name_parts(name)]
            score = (
                10 if stem(name.lower()) == base
                else 6 if base in parts
                else 4 if terms & set(parts)
                else 2 if base in {stem(w) for w in words(self.comments.get(name, ""))}
                else 0
            )  # fmt: skip
            score -= len(parts) * 0.1  # the plainest of equal matches
            if score > best_score:
                best, best_score = name, score
        return best, best_score

    def in_one_unit(self, name: str, dims: list[str], units: set[str] = frozenset()) -> tuple[str, str] | None:
        """A column of the same measure in one unit, and the column whose values say the unit of ``name``
        (``amount_usd`` and ``currency`` beside ``amount``): a numeric ``name_x``, with ``x`` a currency code beside
        a string column named as a unit (``UNIT_COLUMN_WORDS``), or any ``x`` that a column's profile lists among
        two or more values (not ``amount_net``: net is no unit). Summing, averaging or ranking ``name`` would mix
        units, unless the question groups by that unit column (``dims``: "amount by currency") or names a unit
        (``units``: it picks the column itself, ``Table.match``)."""
        if units:
            return None
        for candidate in self.columns:
            unit = candidate["name"].removeprefix(f"{name}_") if candidate["name"].startswith(f"{name}_") else ""
            if not unit or "_" in unit or not NUMERIC.match(candidate["type"].lower()):
                continue
            for other in self.columns:
                shown = {str(v).lower() for v in ((other.get("profile") or {}).get("top_values") or {})}
                named = unit.lower() in CURRENCY_CODES and other["type"].lower() == "string" \
                    and UNIT_COLUMN_WORDS & set(name_parts(other["name"].lower()))  # fmt: skip
                if named or (len(shown) > 1 and unit.lower() in shown):
                    said = {stem(part) for part in name_parts(other["name"])}
                    return None if said & {stem(d) for d in dims} else (candidate["name"], other["name"])
        return None

    def time_column(self) -> str | None:
        temporal = [c["name"] for c in self.columns if TEMPORAL.match(c["type"].lower())]
        preferred = [c for c in self.partition_sources if c in temporal]
        return (preferred or temporal or [None])[0]

    def is_about(self, word: str) -> bool:
        return names_entity(self.name, word)

    def key_for(self, word: str) -> str | None:
        """The key column naming the word (``customer_id`` for "customer"), else the key a relationship of the
        semantic layer leads from to a table about the word (``user_id`` -> ``marts.customers``)."""
        base = stem(word)
        keys = [c["name"] for c in self.columns if c["name"].endswith("_id") and stem(c["name"][: -len("_id")]) == base]
        return keys[0] if keys else next((key for key, target in self.references() if names_entity(target, word)), None)

    def repeated_key(self, word: str) -> str | None:
        """The key to count distinct values of when a question counts the word's things here (``order_id`` for
        "orders" over order lines or a change log): its ``word_id`` column when the catalog declares another row
        key (order lines: ``order_id`` and ``line_number``), or declares none and the key's bounds prove it repeats."""
        key = f"{stem(word)}_id"
        if not self.has(key) or self.identifier == [key]:
            return None
        return key if self.identifier or self.key_repeats(key) else None

    def key_repeats(self, key: str) -> bool:
        """An integer key holds fewer different values than the table has rows with one: ``max - min + 1`` is less
        than the rows less the nulls, from the column's profile (the manifests' bounds), so some value repeats."""
        profile = next((c.get("profile") or {} for c in self.columns if c["name"] == key), {})
        low, high = profile.get("min"), profile.get("max")
        if self.rows is None or not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            return False
        return high - low + 1 < self.rows - (profile.get("nulls") or 0)

    def references(self) -> list[tuple[str, str]]:
        """(key column, table) of each relationship of the layer that leads from this table to another."""
        found = []
        for relationship in self.relationships:
            source, _, key = relationship["from"].rpartition(".")
            target = relationship["to"].rpartition(".")[0]
            if source == self.name and target != self.name:
                found.append((key, target))
        return found

    def name_column(self, entity: str) -> str | None:
        """The column holding the name of each row (``campaign_name``, ``name``, ``title``), never a PII-tagged
        one nor a key: one named with the entity first, else the plainest."""
        named = [c["name"] for c in self.columns if not c.get("pii") and not c["name"].endswith("_id")
                 and not NUMERIC.match(c["type"].lower()) and NAME_PARTS & set(name_parts(c["name"].lower()))]
        own = [n for n in named if named_for(n, entity)]
        return (own or sorted(named, key=lambda n: len(name_parts(n))) or [None])[0]

    def owns_name(self, entity: str) -> bool:
        """The table holds the entity's name itself (``campaign_name`` next to ``campaign_id``)."""
        name = self.name_column(entity)
        return name is not None and named_for(name, entity)

    def distinct_count(self, name: str) -> int | None:
        """How many different values the column holds, when its profile lists every one of them (none sampled)."""
        profile = next((c.get("profile") or {} for c in self.columns if c["name"] == name), {})
        return None if profile.get("sampled") else profile.get("distinct")

    def is_named(self, word: str) -> bool:
        """The table's whole name is the word (``products`` for "products"), not just a part of it."""
        return stem(self.short.lower()) == stem(word)


def named_for(column: str, entity: str) -> bool:
    """A part of the column's name is the entity (``campaign_name`` for "campaigns")."""
    return stem(entity) in {stem(p) for p in name_parts(column)}


def names_entity(table: str, word: str) -> bool:
    """The table's name is about the word (``marts.customers`` for "customer")."""
    short = table.rpartition(".")[2]
    return stem(short.lower()) in related(word) or stem(word) in [stem(p) for p in short.split("_")]


def join_keys(main: Table, other: Table) -> tuple[str, str] | None:
    """The semantic layer's keys, else ``x_id`` in both tables, or ``x_id`` in one and ``id`` in a table named ``x``/``xs``."""
    if keys := layer_join(main, other):
        return keys
    for col in main.columns:
        name = col["name"]
        if name.endswith("_id") and other.has(name):
            return name, name
    for a, b, flip in ((main, other, False), (other, main, True)):
        key = f"{stem(b.short)}_id"
        if a.has(key) and b.has("id"):
            return (key, "id") if not flip else ("id", key)
    return None


def points_to(source: Table, target: Table) -> tuple[str, str] | None:
    """The keys by which each row of ``source`` names one row of ``target`` (many to one): a relationship of the
    layer from ``source`` to ``target``, or ``x_id`` in ``source`` for a table named ``x``/``xs`` that has it."""
    for _, table in source.references():
        if table == target.name and (keys := layer_join(source, target)):
            return keys
    key = f"{stem(target.short)}_id"
    if source.has(key) and target.has(key):
        return key, key
    return (key, "id") if source.has(key) and target.has("id") else None


def hop_path(column: str, main: Table, tables: list[Table]) -> tuple[Table, tuple[str, str], Table, tuple[str, str]] | None:
    """Two many-to-one steps from the main table to a table that has the column (payments -> orders ->
    customers for "customer segment"): the middle table, its keys, the table with the column, its keys.
    Only along many-to-one keys, so no row of the main table is counted twice."""
    for middle in tables:
        if middle is main or (first := points_to(main, middle)) is None:
            continue
        for other in tables:
            if other not in (main, middle) and other.column(column) and (second := points_to(middle, other)):
                return middle, first, other, second
    return None


ROW_WORDS = frozenset(stem(w) for w in AGGREGATE_WORDS["count"].split())
"""Words that count rows whatever the table ("rows", "records", "entries")."""


def counts_other_things(table: Table, word: str, taught: list[str]) -> bool:
    """A count's noun that neither the table's name nor a phrase the semantic layer matched (``taught``) is about
    ("hours" counted over ``support.agents``): counting the table's rows would not count it."""
    if not word or stem(word) in ROW_WORDS or table.is_about(word) or table.is_named(word):
        return False
    return not any(stem(word) in {stem(w) for w in words(phrase)} for phrase in taught)
