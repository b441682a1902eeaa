"""Datasets present twice: namespaces that hold the same tables with the same columns under two names.

A lake keeps copies of datasets (one loaded into two databases, a backup kept under another name). A search
that returns both copies' tables spends its first results on one dataset twice and pushes the other tables a
question needs out of sight. Two namespaces are copies when the tables they hold are nearly the same by name,
and their (table, column) pairs are too, each by Jaccard similarity; their same-named tables are then one
table, which a search returns once, naming the other copies. A pair of namespaces is compared the first time a
search returns two same-named tables of theirs, and the verdict is kept. Nothing here knows a particular lake.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping

COPY_SIMILARITY = 0.8
"""The least Jaccard similarity of two namespaces' table names, and of their (table, column) pairs, for the
two to be copies. Unrelated databases that share a few table names (``users``, ``orders``) stay far below it
on names alone; a copy with a table or column added or dropped stays above it."""

ColumnsOf = Callable[[Collection[str]], Mapping[str, Iterable[str]]]
"""Table keys -> each one's column paths."""


def jaccard(first: set, second: set) -> float:
    union = len(first | second)
    return len(first & second) / union if union else 0.0


class DatasetCopies:
    """Which tables are copies of each other (same name, namespaces that are copies), compared when asked."""

    def __init__(self, tables: Callable[[], Mapping[str, tuple[str, str]]], columns_of: ColumnsOf) -> None:
        """``tables()``: table key -> (its catalog and namespace, its own name), read at the first comparison
        (a retriever opens without building these maps: about 10 ms at 10,000 tables); ``columns_of`` is read
        only for the namespaces whose table names are alike enough."""
        self._tables = tables
        self._columns_of = columns_of
        self._table_of: dict[str, tuple[str, str]] | None = None
        self._names: dict[str, dict[str, str]] = {}
        """namespace -> its tables' own names, lower case -> table key."""
        self._verdicts: dict[frozenset[str], bool] = {}
        self._lock = threading.Lock()

    def _tables_once(self) -> dict[str, tuple[str, str]]:
        with self._lock:
            if self._table_of is None:
                table_of = {key: (namespace, name.lower()) for key, (namespace, name) in self._tables().items()}
                for key, (namespace, name) in table_of.items():
                    self._names.setdefault(namespace, {})[name] = key
                self._table_of = table_of
            return self._table_of

    def are_copies(self, first: str, second: str) -> bool:
        """Whether tables ``first`` and ``second`` (keys) are one dataset's table in two namespaces."""
        table_of = self._table_of if self._table_of is not None else self._tables_once()
        if first not in table_of or second not in table_of:
            return False
        (namespace, name), (other_namespace, other_name) = table_of[first], table_of[second]
        if namespace == other_namespace or name != other_name:
            return False
        pair = frozenset((namespace, other_namespace))
        verdict = self._verdicts.get(pair)
        if verdict is None:
            with self._lock:
                verdict = self._verdicts.get(pair)
                if verdict is None:
                    verdict = self._verdicts[pair] = self._namespaces_are_copies(namespace, other_namespace)
        return verdict

    def _namespaces_are_copies(self, first: str, second: str) -> bool:
        names, other_names = self._names[first], self._names[second]
        if jaccard(set(names), set(other_names)) < COPY_SIMILARITY:
            return False
        columns = self._columns_of([*names.values(), *other_names.values()])

        def pairs(tables: Mapping[str, str]) -> set[tuple[str, str]]:
            return {(name, column.lower()) for name, key in tables.items() for column in columns.get(key, ())}

        return jaccard(pairs(names), pairs(other_names)) >= COPY_SIMILARITY

    def fold(self, ordered: Iterable[str], k: int) -> list[tuple[str, list[str]]]:
        """The first ``k`` of ``ordered`` (table keys, best first) that are not copies of a table before them,
        each with the copies of it that followed."""
        kept: list[tuple[str, list[str]]] = []
        for key in ordered:
            original = next((copies for first, copies in kept if self.are_copies(first, key)), None)
            if original is not None:
                original.append(key)
            elif len(kept) < k:
                kept.append((key, []))
            else:
                break
        return kept
