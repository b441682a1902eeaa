"""The lexical search index: BM25 over identifier tokens of the table documents, saved as one directory.

An ingest saves it for one generation of the record store and labels it with that generation, so a reader
can tell whether the saved index belongs to the generation it serves. Each table's entries carry the version
they were made from (the generation that wrote the table's record): the next ingest keeps the entries of the
tables whose version it still serves, tokenizes only the documents of changed and added tables, and
re-weights the postings (BM25 weights depend on the whole corpus), which gives the index a whole rebuild gives.

On disk it is numpy arrays a reader maps instead of parsing: the postings (``bm25.Postings``: per token its
documents with term counts and weights, and each document's length), and per document only its table, kind
and chunk number or column (``documents.npy``, ``lexical_documents``). Opening it reads two JSON files (the
tables and the vocabulary); nothing is scored until the first search.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from catalog_ingest.bm25 import Postings
from catalog_ingest.documents import Document
from catalog_ingest.index import IndexMismatchError, Metadata, SearchResult, tokenize
from catalog_ingest.lexical_documents import (
    COLUMN_KIND,
    DOCUMENT_FIELDS,
    DocumentBatch,
    DocumentSource,
    entry_id,
    entry_metadata,
    served_order,
    store_documents,
)
from catalog_ingest.saved_dirs import (
    generation_of,
    location_for_generation,
    save_directory,
    saved_location,
    write_json,
    write_synced,
)
from catalog_ingest.spelling import SPELLED_WEIGHT, Spellings

if TYPE_CHECKING:
    from catalog_ingest.store import RecordStore


class LexicalIndex:
    """BM25 over identifier tokens, with what each document's id and metadata are made from; updated from
    the record store table by table (``updated``), saved as one directory."""

    FILE = "index.json"
    """Tables, their versions, column paths and namespaces; written last, its presence marks a complete save."""
    VOCABULARY_FILE = "vocabulary.json"
    DOCUMENTS_FILE = "documents.npy"
    WORDS_FILE = "namespace_words.npy"
    LISTED_FILE = "listed_columns.npy"
    POSTINGS_FILES = ("postings_starts.npy", "postings_documents.npy", "postings_counts.npy",
                      "postings_weights.npy", "document_lengths.npy")  # fmt: skip
    """``bm25.Postings``'s arrays, in the order of its fields."""
    TABLES_FILE = "table_versions"
    """Each indexed table's key and version, one a line: an ingest checks them without reading the whole index."""
    FORMAT = 3
    """3: postings with term counts, updated table by table (2: bm25s's saved matrix, rebuilt whole; 1: one
    JSON file of every document's tokens)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: list[list[str]] = []
        """[table key, catalog, namespace, table name] per table, in order of first document."""
        self._versions: list[int | None] = []
        """Per table, the version its entries were made from (None: unknown, never kept by an update)."""
        self._columns: list[str] = []
        self._documents = np.zeros(0, dtype=DOCUMENT_FIELDS)
        self._namespaces: list[str] = []
        self._namespace_words = np.zeros(0, dtype=np.int32)
        self._namespace_offsets: list[int] = [0]
        """Namespace i's distinct token ids (into the vocabulary) are ``_namespace_words[offsets[i]:offsets[i + 1]]``."""
        self._listed_columns = np.zeros((0, 2), dtype=np.int32)
        """(table, column) of the columns listed without a document in BM25 (``Document.in_lexical``)."""
        self._postings = Postings.empty()
        self._vocabulary: list[str] = []
        self._token_ids: dict[str, int] | None = None
        self._spellings: Spellings | None = None  # made at the first query word missing from the vocabulary
        self._table_number: dict[str, int] | None = None
        self._doc_namespaces: np.ndarray | None = None
        """Per document, its table's namespace's number in ``_namespace_numbers`` (made at the first filtered search)."""
        self._namespace_numbers: dict[str, int] = {}

    # ------------------------------------------------------------------------------------------ build

    def build(self, docs: Iterable[Document], versions: Mapping[str, int] | None = None) -> None:
        """Replace the whole index with ``docs`` (table and column documents of ``documents``, grouped by
        table); ``versions`` gives each table's version, which a later ``updated`` compares."""
        built = LexicalIndex()._merged([], DocumentBatch.parse(docs, {}), None, versions or {})
        with self._lock:
            self.__dict__.update({name: value for name, value in built.__dict__.items() if name != "_lock"})

    def updated(self, versions: Mapping[str, int], documents: DocumentSource) -> LexicalIndex:
        """The index of the tables of ``versions`` (key -> version), in that order: a table this index holds at
        that version keeps its entries, the others' come from ``documents(their keys)``; the rest are left out."""
        kept = [i for i, (row, version) in enumerate(zip(self._tables, self._versions))
                if version is not None and versions.get(row[0]) == version]  # fmt: skip
        kept_keys = {self._tables[i][0] for i in kept}
        fresh = [key for key in versions if key not in kept_keys]
        batch = DocumentBatch.parse(documents(fresh) if fresh else (), dict(self._token_index()))
        return self._merged(kept, batch, list(versions), versions)

    def _merged(
        self, kept: list[int], batch: DocumentBatch, order: list[str] | None, versions: Mapping[str, int]
    ) -> LexicalIndex:
        """A new index of this one's tables ``kept`` and the tables of ``batch``, tables in ``order`` (None: the
        batch's), each table's documents together and in their order."""
        kept_keys = {self._tables[i][0]: i for i in kept}
        batch_keys = {row[0]: j for j, row in enumerate(batch.tables)}
        order = list(batch_keys) if order is None else order
        unexpected = (batch_keys.keys() & kept_keys.keys()) or (batch_keys.keys() - set(order))
        if unexpected:
            raise ValueError(f"documents of table {min(unexpected)} were not asked for")
        final = [key for key in order if key in kept_keys or key in batch_keys]
        position = {key: i for i, key in enumerate(final)}
        old_tables = np.full(len(self._tables), -1, dtype=np.int64)
        for key, i in kept_keys.items():
            old_tables[i] = position[key]
        batch_tables = np.array([position[row[0]] for row in batch.tables], dtype=np.int64)

        columns = list(self._columns)
        column_index = {path: i for i, path in enumerate(columns)}
        batch_columns = np.zeros(len(batch.columns), dtype=np.int64)
        for j, path in enumerate(batch.columns):
            batch_columns[j] = column_index.setdefault(path, len(columns))
            if batch_columns[j] == len(columns):
                columns.append(path)

        old = self._documents
        keep = old_tables[old["table"]] >= 0
        rows = np.array(batch.rows, dtype=np.int64).reshape(-1, 3)
        tables = np.concatenate([old_tables[old["table"][keep]], batch_tables[rows[:, 0]]])
        kinds = np.concatenate([old["kind"][keep], rows[:, 1]]).astype(np.int8)
        batch_parts = rows[:, 2].copy()
        is_column = rows[:, 1] == COLUMN_KIND
        batch_parts[is_column] = batch_columns[batch_parts[is_column]]
        parts = np.concatenate([old["part"][keep], batch_parts])
        order_of_documents = np.argsort(tables, kind="stable")
        placed = np.empty(len(tables), dtype=np.int64)
        placed[order_of_documents] = np.arange(len(tables))
        renumber = np.full(len(old), -1, dtype=np.int64)
        renumber[keep] = placed[: int(keep.sum())]
        batch_placed = placed[int(keep.sum()) :]

        vocabulary = list(batch.vocabulary)  # in id order: the index's tokens, then the batch's new ones
        lengths = np.concatenate([self._postings.lengths[keep], batch.lengths()])[order_of_documents]
        entries = [self._postings.entries(keep, renumber)] if keep.any() else []
        for part in batch.take_entries():
            part[1][:] = batch_placed[part[1]]  # renumbered in place: batch_placed keeps their order
            entries.append(part)
        postings, used_tokens = Postings.combined(entries, lengths, len(vocabulary)).without_unused_tokens()

        listed_old = np.asarray(self._listed_columns, dtype=np.int64)
        listed_old = listed_old[old_tables[listed_old[:, 0]] >= 0]
        listed_new = np.array(batch.listed, dtype=np.int64).reshape(-1, 2)
        listed = np.concatenate([
            np.stack([old_tables[listed_old[:, 0]], listed_old[:, 1]], axis=1),
            np.stack([batch_tables[listed_new[:, 0]], batch_columns[listed_new[:, 1]]], axis=1),
        ])  # fmt: skip
        listed = listed[np.argsort(listed[:, 0], kind="stable")]

        documents = np.zeros(len(tables), dtype=DOCUMENT_FIELDS)
        documents["table"], documents["kind"] = tables[order_of_documents], kinds[order_of_documents]
        parts, is_column = parts[order_of_documents], documents["kind"] == COLUMN_KIND
        used_columns = np.zeros(len(columns), dtype=bool)
        used_columns[parts[is_column]] = True
        used_columns[listed[:, 1]] = True
        column_numbers = np.cumsum(used_columns) - 1  # unused column paths (of tables gone) are dropped
        parts[is_column] = column_numbers[parts[is_column]]
        documents["part"], listed[:, 1] = parts, column_numbers[listed[:, 1]]

        index = LexicalIndex()
        index._tables = [self._tables[kept_keys[key]] if key in kept_keys else batch.tables[batch_keys[key]]
                         for key in final]  # fmt: skip
        index._versions = [versions.get(key) for key in final]
        index._columns = [path for path, used in zip(columns, used_columns.tolist()) if used]
        index._documents, index._listed_columns = documents, listed.astype(np.int32)
        index._postings = postings
        index._vocabulary = [token for token, used in zip(vocabulary, used_tokens.tolist()) if used]
        index._set_namespace_words()
        return index

    def _set_namespace_words(self) -> None:
        """Each namespace's distinct token ids, from the postings; namespaces in order of first table."""
        self._namespaces = list(dict.fromkeys(row[2] for row in self._tables))
        number = {namespace: i for i, namespace in enumerate(self._namespaces)}
        table_namespaces = np.array([number[row[2]] for row in self._tables], dtype=np.int32)
        width = max(len(self._vocabulary), 1)
        pairs = self._postings.grouped_tokens(table_namespaces[self._documents["table"]])
        self._namespace_words = (pairs % width).astype(np.int32)
        sizes = np.bincount(pairs // width, minlength=len(self._namespaces))
        self._namespace_offsets = [0, *np.cumsum(sizes, dtype=np.int64).tolist()]

    # ------------------------------------------------------------------------------------------ read

    def table_keys(self) -> set[str]:
        return {row[0] for row in self._tables}

    def table_versions(self) -> dict[str, int | None]:
        return {row[0]: version for row, version in zip(self._tables, self._versions)}

    def table_metadata(self) -> dict[str, Metadata]:
        """table_key -> metadata of its first document (catalog, namespace, table)."""
        first: dict[int, int] = {}
        for index, table in enumerate(self._documents["table"].tolist()):
            first.setdefault(table, index)
        return {self._tables[table][0]: self._metadata(index) for table, index in first.items()}

    def columns_by_table(
        self, keep: Callable[[str], bool] | None = None, of: Collection[str] | None = None
    ) -> dict[str, list[str]]:
        """table_key -> the column paths of its column documents, BM25-indexed or only listed; with ``keep``,
        only the paths it accepts (asked once per distinct path), and only tables with one of those; with
        ``of``, only those tables."""
        documents = self._documents[self._documents["kind"] == COLUMN_KIND]
        tables = np.concatenate([documents["table"], self._listed_columns[:, 0]]).astype(np.int64)
        parts = np.concatenate([documents["part"], self._listed_columns[:, 1]]).astype(np.int64)
        if of is not None:
            numbers = self._table_numbers()
            wanted = np.isin(tables, np.array([numbers[key] for key in of if key in numbers], dtype=np.int64))
            tables, parts = tables[wanted], parts[wanted]
        if keep is not None:
            kept_paths = np.fromiter((keep(path) for path in self._columns), dtype=bool, count=len(self._columns))
            accepted = kept_paths[parts]
            tables, parts = tables[accepted], parts[accepted]
        if not len(tables):
            return {}
        order = np.argsort(tables, kind="stable")  # a table's columns keep their order
        tables, paths = tables[order], np.array(self._columns, dtype=object)[parts[order]]
        starts = np.flatnonzero(np.diff(tables)) + 1
        firsts = [0, *starts.tolist()]
        return {self._tables[int(tables[first])][0]: group.tolist()
                for first, group in zip(firsts, np.split(paths, starts))}  # fmt: skip

    def words_by_namespace(self) -> dict[str, set[str]]:
        """namespace -> the distinct tokens of all its documents."""
        words = np.array(self._vocabulary, dtype=object)
        offsets = self._namespace_offsets
        return {
            namespace: set(words[self._namespace_words[offsets[n] : offsets[n + 1]]].tolist())
            for n, namespace in enumerate(self._namespaces)
        }

    def count(self) -> int:
        return len(self._documents)

    def _metadata(self, index: int) -> Metadata:
        table, kind, part = (int(value) for value in self._documents[index])
        return entry_metadata(self._tables[table], kind, part, self._columns)

    def _table_numbers(self) -> dict[str, int]:
        """table_key -> its number in ``_tables``."""
        with self._lock:
            if self._table_number is None:
                self._table_number = {row[0]: n for n, row in enumerate(self._tables)}
            return self._table_number

    def _token_index(self) -> dict[str, int]:
        with self._lock:
            if self._token_ids is None:
                self._token_ids = {token: i for i, token in enumerate(self._vocabulary)}
            return self._token_ids

    def _spelled(self, token: str) -> str | None:
        with self._lock:
            if self._spellings is None:
                self._spellings = Spellings(self._vocabulary)
        return self._spellings.corrected(token)

    def _in_namespace(self, namespace: str) -> np.ndarray:
        """Per document, whether its table is in ``namespace`` (namespaces compared as numbers)."""
        with self._lock:
            if self._doc_namespaces is None:
                number: dict[str, int] = {}
                table_namespace = np.array([number.setdefault(row[2], len(number)) for row in self._tables], dtype=np.int32)
                self._namespace_numbers, self._doc_namespaces = number, table_namespace[self._documents["table"]]
            return self._doc_namespaces == self._namespace_numbers.get(namespace, -1)

    def search(self, query: str, k: int, namespace: str | None = None) -> list[SearchResult]:
        ids = self._token_index()
        tokens = tokenize(query)
        token_ids = [ids[token] for token in tokens if token in ids]
        spelled = [ids[found] for token in tokens if token not in ids and (found := self._spelled(token))]
        if not (token_ids or spelled) or k <= 0:
            return []
        scores = self._postings.scores(token_ids) + SPELLED_WEIGHT * self._postings.scores(spelled)
        if namespace:
            scores = np.where(self._in_namespace(namespace), scores, 0.0)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        rows = zip(self._documents["table"][top].tolist(), self._documents["kind"][top].tolist(),
                   self._documents["part"][top].tolist())  # fmt: skip
        return [(entry_id(self._tables[table], kind, part, self._columns), score,
                 entry_metadata(self._tables[table], kind, part, self._columns))
                for (table, kind, part), score in zip(rows, scores[top].tolist())]  # fmt: skip

    # ------------------------------------------------------------------------------------------ save

    def save(self, path: Path, generation: str | None = None) -> None:
        """Write to a sibling temporary directory, then rename it into place: a write killed half-way
        leaves the previous index intact (``load`` also finds it under ``.old`` mid-swap).

        ``generation`` labels what the index was built from, so a caller can skip an identical rebuild.
        """
        with self._lock:
            header = {"format": self.FORMAT, "tables": self._tables, "versions": self._versions,
                      "columns": self._columns, "namespaces": self._namespaces,
                      "namespace_offsets": self._namespace_offsets}  # fmt: skip
            arrays = {self.DOCUMENTS_FILE: self._documents, self.WORDS_FILE: self._namespace_words,
                      self.LISTED_FILE: self._listed_columns,
                      **dict(zip(self.POSTINGS_FILES, self._postings.arrays()))}  # fmt: skip
            vocabulary = self._vocabulary
        tables = "".join(f"{key}\t{version}\n" for key, version in sorted(self.table_versions().items()))

        def fill(staging: Path) -> None:
            for name, array in arrays.items():
                write_synced(staging / name, lambda out, array=array: np.save(out, array), "wb")
            write_json(staging / self.VOCABULARY_FILE, vocabulary, ensure_ascii=False)
            write_synced(staging / self.TABLES_FILE, lambda out: out.write(tables))
            write_json(staging / self.FILE, header, separators=(",", ":"))

        save_directory(path, fill, generation, fault="lexical-swapping")

    @classmethod
    def saved_location(cls, path: Path) -> Path | None:
        """Where the last complete save lives: ``path``, or its ``.old`` twin if a save died mid-swap."""
        return saved_location(path, cls.FILE)

    @classmethod
    def stored_generation(cls, path: Path) -> str | None:
        location = cls.saved_location(path)
        return None if location is None else generation_of(location)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """The saved index, or an empty one when nothing has been saved yet."""
        location = cls.saved_location(path)
        return cls() if location is None else cls._read(location)

    @classmethod
    def load_generation(cls, path: Path, generation: str) -> LexicalIndex | None:
        """The index saved for ``generation`` (at ``path`` or mid-swap under ``.old``), else None."""
        location = location_for_generation(path, cls.FILE, generation)
        return None if location is None else cls._read(location)

    @classmethod
    def saved_table_versions(cls, path: Path, generation: str) -> dict[str, int | None] | None:
        """Table key -> version of the index saved for ``generation``, read from its small tables file; None
        when no save for that generation in this format is there."""
        location = location_for_generation(path, cls.FILE, generation)
        if location is None or not (location / cls.TABLES_FILE).is_file():
            return None
        lines = (line.split("\t") for line in (location / cls.TABLES_FILE).read_text(encoding="utf-8").splitlines())
        return {key: None if version == "None" else int(version) for key, version in lines}

    @classmethod
    def _read(cls, location: Path) -> LexicalIndex:
        """The saved index with its arrays memory-mapped."""
        with open(location / cls.FILE, encoding="utf-8") as source:
            header = json.load(source)
        if header.get("format") != cls.FORMAT:
            raise IndexMismatchError(
                f"lexical index at {location} has format {header.get('format')}, expected {cls.FORMAT}; "
                "re-run `lakescout ingest --full`"
            )
        index = cls()
        index._tables, index._versions, index._columns = header["tables"], header["versions"], header["columns"]
        index._namespaces, index._namespace_offsets = header["namespaces"], header["namespace_offsets"]
        index._documents = mapped(location / cls.DOCUMENTS_FILE)
        index._namespace_words = mapped(location / cls.WORDS_FILE)
        index._listed_columns = mapped(location / cls.LISTED_FILE)
        index._postings = Postings(*(mapped(location / name) for name in cls.POSTINGS_FILES))
        with open(location / cls.VOCABULARY_FILE, encoding="utf-8") as source:
            index._vocabulary = json.load(source)  # read now: a later save replaces the directory
        return index


def mapped(path: Path) -> np.ndarray:
    """A saved array, memory-mapped, as a plain array over the map: indexing a ``np.memmap`` costs a
    Python-level ``__getitem__`` and ``__array_finalize__`` each time (a search indexes the postings per token
    and the documents per hit)."""
    return np.asarray(np.load(path, mmap_mode="r"))


def updated_from_store(index: LexicalIndex, store: RecordStore) -> LexicalIndex:
    """``index`` updated to the documents search serves for the store's generation (``family_index``'s
    ``searchable_documents``, in its order: tables by key, then families by key)."""
    families = set(store.family_versions())
    return index.updated(served_order(store, families), lambda keys: store_documents(store, keys, families))
