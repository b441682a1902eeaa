"""The models' vocabulary is general English: no entry names a table, column or value of the sample lake."""

from __future__ import annotations

import re

from agent.models import vocabulary
from sample import reference
from sample.spec import ListOf, StructOf
from sample.tables import TABLE_SPECS

COMPOUND = re.compile(r"[_./\- ]")
"""A name made of parts (``amount_usd``, ``checkout-api``): lake-specific, never a general English word."""


def column_names(columns) -> set[str]:
    names = set()
    for col in columns:
        names.add(col.name)
        kind = col.type.element if isinstance(col.type, ListOf) else col.type
        if isinstance(kind, StructOf):
            names |= column_names(kind.fields)
    return names


def lake_names() -> set[str]:
    """Every table (full and bare name), compound column name and compound value of the sample lake, lower-case."""
    tables = {part for spec in TABLE_SPECS for part in (spec.name, spec.name.partition(".")[2])}
    columns = {name for spec in TABLE_SPECS for name in column_names(spec.columns) if COMPOUND.search(name.strip("_"))}
    values = {value for value in vars(reference).values() if isinstance(value, list) for value in value
              if isinstance(value, str) and COMPOUND.search(value)}  # fmt: skip
    return {name.lower() for name in tables | columns | values}


KEYED_BY_TOOL = {"TOOL_WORDS"}
"""Dicts keyed by lakescout's own tool names, not by words."""


def words_of(item: object) -> set[str]:
    return set(item.split()) if isinstance(item, str) else set(item) if isinstance(item, tuple | frozenset) else set()


def vocabulary_entries() -> set[str]:
    """Every word of the module's word lists: dict keys and values, set members."""
    entries: set[str] = set()
    for name, value in vars(vocabulary).items():
        if not name.isupper():
            continue
        if isinstance(value, dict):
            keys = set() if name in KEYED_BY_TOOL else set(value)
            entries |= keys | {word for item in value.values() for word in words_of(item)}
        else:
            entries |= words_of(value)
    return {entry.lower() for entry in entries}


def test_the_sample_lake_is_read():
    names = lake_names()
    assert {"marts.orders", "orders", "amount_usd"} & names and len(names) > 50


def test_no_vocabulary_entry_names_the_sample_lake():
    entries = vocabulary_entries()
    assert len(entries) > 100
    named = sorted(entries & lake_names())
    assert not named, f"vocabulary entries that name the sample lake: {named}"


def test_every_entry_is_a_plain_word():
    """Compound names are a lake's identifiers; general English has none."""
    compound = sorted(entry for entry in vocabulary_entries() if not re.fullmatch(r"[a-z]+", entry))
    assert not compound, compound
