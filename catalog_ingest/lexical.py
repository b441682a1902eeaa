"""The lexical search index: BM25 over identifier tokens of the table documents, saved as one directory.

An ingest builds it whole from one generation of the record store and labels it with that generation, so a
reader can tell whether the saved index belongs to the generation it serves.

On disk it is numpy arrays a reader maps instead of parsing: bm25s's own saved score matrix (``bm25/``), and
per document only its table, kind and chunk number or column (``documents.npy``), since a document's id and
metadata follow from those (``documents.document_id``'s scheme, checked when the index is built). Opening it
reads two small JSON files (the tables and the vocabulary); nothing is scored until the first search.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from catalog_ingest.documents import Document
from catalog_ingest.index import IndexMismatchError, Metadata, SearchResult, tokenize
from catalog_ingest.saved_dirs import (
    generation_of,
    location_for_generation,
    save_directory,
    saved_location,
    write_synced,
)

TABLE_KIND, COLUMN_KIND = 0, 1
KINDS = ("table", "column")
DOCUMENT_FIELDS = [("table", np.int32), ("kind", np.int8), ("part", np.int32)]
"""A document: its table (index into the tables), its kind, and its chunk number (table documents) or its
column (index into the column paths)."""


class LexicalIndex:
    """BM25 over identifier tokens, with what each document's id and metadata are made from; rebuilt whole
    from the record store on change (BM25 weights depend on the whole corpus), saved as one directory."""

    FILE = "index.json"
    """Tables, column paths and namespaces; written last, its presence marks a complete save."""
    DOCUMENTS_FILE = "documents.npy"
    WORDS_FILE = "namespace_words.npy"
    LISTED_FILE = "listed_columns.npy"
    BM25_DIR = "bm25"
    TABLES_FILE = "tables"
    """The indexed table keys, one a line: an ingest checks them without reading the whole index."""
    FORMAT = 2
    """2: numpy arrays and bm25s's saved matrix (1 was one JSON file of every document's tokens)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: list[list[str]] = []
        """[table key, catalog, namespace, table name] per table, in order of first document."""
        self._columns: list[str] = []
        self._documents = np.zeros(0, dtype=DOCUMENT_FIELDS)
        self._namespaces: list[str] = []
        self._namespace_words = np.zeros(0, dtype=np.int32)
        self._namespace_offsets: list[int] = [0]
        """Namespace i's distinct token ids (into the vocabulary) are ``_namespace_words[offsets[i]:offsets[i + 1]]``."""
        self._listed_columns = np.zeros((0, 2), dtype=np.int32)
        """(table, column) of the columns listed without a document in BM25 (``Document.in_lexical``)."""
        self._bm25: Any = None
        self._doc_namespaces: np.ndarray | None = None

    # ------------------------------------------------------------------------------------------ build

    def build(self, docs: Iterable[Document]) -> None:
        """Replace the whole index with ``docs`` (table and column documents of ``documents``)."""
        import bm25s

        vocabulary: dict[str, int] = {}
        tables: dict[str, int] = {}
        table_rows: list[list[str]] = []
        columns: dict[str, int] = {}
        column_paths: list[str] = []
        rows: list[tuple[int, int, int]] = []
        corpus: list[list[int]] = []
        namespace_words: dict[str, set[int]] = {}
        listed: list[tuple[int, int]] = []
        for doc in docs:
            metadata = doc.metadata
            key = str(metadata["table_key"])
            if key not in tables:
                tables[key] = len(table_rows)
                table_rows.append([key, str(metadata["catalog"]), str(metadata["namespace"]), str(metadata["table"])])
            table = tables[key]
            kind = KINDS.index(str(metadata["kind"]))
            if kind == COLUMN_KIND:
                path = str(metadata["column"])
                if path not in columns:
                    columns[path] = len(column_paths)
                    column_paths.append(path)
                part = columns[path]
            else:
                suffix = doc.id.rpartition("::")[2]
                part = int(suffix) if suffix.isdigit() else -1
            row = (table, kind, part)
            expected = (entry_id(table_rows[table], kind, part, column_paths),
                        entry_metadata(table_rows[table], kind, part, column_paths))  # fmt: skip
            if (doc.id, dict(metadata)) != expected:
                raise ValueError(f"document {doc.id} does not follow the id and metadata scheme of table documents")
            if not doc.in_lexical:
                if kind != COLUMN_KIND:
                    raise ValueError(f"table document {doc.id} must be indexed")
                listed.append((table, part))
                continue
            ids = [vocabulary.setdefault(token, len(vocabulary)) for token in tokenize(doc.text)]
            corpus.append(ids)
            namespace_words.setdefault(table_rows[table][2], set()).update(ids)
            rows.append(row)
        bm25 = None
        if corpus:
            bm25 = bm25s.BM25()
            bm25.index((corpus, vocabulary), show_progress=False)
        with self._lock:
            self._tables, self._columns = table_rows, column_paths
            self._documents = np.array(rows, dtype=DOCUMENT_FIELDS)
            self._listed_columns = np.array(listed, dtype=np.int32).reshape(-1, 2)
            self._namespaces = list(namespace_words)
            sizes = [len(namespace_words[namespace]) for namespace in self._namespaces]
            self._namespace_offsets = [0, *np.cumsum(sizes, dtype=np.int64).tolist()]
            self._namespace_words = np.array(
                [i for namespace in self._namespaces for i in sorted(namespace_words[namespace])], dtype=np.int32
            )
            self._bm25, self._doc_namespaces = bm25, None

    # ------------------------------------------------------------------------------------------ read

    def table_keys(self) -> set[str]:
        return {row[0] for row in self._tables}

    def table_metadata(self) -> dict[str, Metadata]:
        """table_key -> metadata of its first document (catalog, namespace, table)."""
        first: dict[int, int] = {}
        for index, table in enumerate(self._documents["table"].tolist()):
            first.setdefault(table, index)
        return {self._tables[table][0]: self._metadata(index) for table, index in first.items()}

    def columns_by_table(self) -> dict[str, list[str]]:
        """table_key -> the column paths of its column documents, BM25-indexed or only listed."""
        documents = self._documents[self._documents["kind"] == COLUMN_KIND]
        tables = np.concatenate([documents["table"], self._listed_columns[:, 0]]).astype(np.int64)
        if not len(tables):
            return {}
        parts = np.concatenate([documents["part"], self._listed_columns[:, 1]]).astype(np.int64)
        order = np.argsort(tables, kind="stable")  # a table's columns keep their order
        tables, paths = tables[order], np.array(self._columns, dtype=object)[parts[order]]
        starts = np.flatnonzero(np.diff(tables)) + 1
        firsts = [0, *starts.tolist()]
        return {self._tables[int(tables[first])][0]: group.tolist()
                for first, group in zip(firsts, np.split(paths, starts))}  # fmt: skip

    def words_by_namespace(self) -> dict[str, set[str]]:
        """namespace -> the distinct tokens of all its documents."""
        if self._bm25 is None:
            return {}
        words = np.empty(len(self._bm25.vocab_dict), dtype=object)
        for token, i in self._bm25.vocab_dict.items():
            words[i] = token
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

    def _namespaces_of_documents(self) -> np.ndarray:
        with self._lock:
            if self._doc_namespaces is None:
                names = sorted({row[2] for row in self._tables})
                table_namespace = np.array([names.index(row[2]) for row in self._tables], dtype=np.int32)
                self._doc_namespaces = np.array(names, dtype=object)[table_namespace[self._documents["table"]]]
            return self._doc_namespaces

    def search(self, query: str, k: int, namespace: str | None = None) -> list[SearchResult]:
        bm25 = self._bm25
        if bm25 is None:
            return []
        token_ids = bm25.get_tokens_ids(tokenize(query))
        if not token_ids or k <= 0:
            return []
        scores = bm25.get_scores_from_ids(token_ids)
        if namespace:
            scores = np.where(self._namespaces_of_documents() == namespace, scores, 0.0)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._id(i), float(scores[i]), self._metadata(i)) for i in top.tolist() if scores[i] > 0]

    def _id(self, index: int) -> str:
        table, kind, part = (int(value) for value in self._documents[index])
        return entry_id(self._tables[table], kind, part, self._columns)

    # ------------------------------------------------------------------------------------------ save

    def save(self, path: Path, generation: str | None = None) -> None:
        """Write to a sibling temporary directory, then rename it into place: a write killed half-way
        leaves the previous index intact (``load`` also finds it under ``.old`` mid-swap).

        ``generation`` labels what the index was built from, so a caller can skip an identical rebuild.
        """
        with self._lock:
            header = {"format": self.FORMAT, "tables": self._tables, "columns": self._columns,
                      "namespaces": self._namespaces, "namespace_offsets": self._namespace_offsets}  # fmt: skip
            documents, words, bm25 = self._documents, self._namespace_words, self._bm25
            listed = self._listed_columns
        tables = "".join(f"{key}\n" for key in sorted(self.table_keys()))

        def fill(staging: Path) -> None:
            if bm25 is not None:
                bm25.save(staging / self.BM25_DIR, show_progress=False)
            write_synced(staging / self.DOCUMENTS_FILE, lambda out: np.save(out, documents), "wb")
            write_synced(staging / self.WORDS_FILE, lambda out: np.save(out, words), "wb")
            write_synced(staging / self.LISTED_FILE, lambda out: np.save(out, listed), "wb")
            (staging / self.TABLES_FILE).write_text(tables, encoding="utf-8")
            write_synced(staging / self.FILE, lambda out: json.dump(header, out, separators=(",", ":")))

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
    def saved_table_keys(cls, path: Path, generation: str) -> set[str] | None:
        """The table keys of the index saved for ``generation``, read from its small tables file; None when
        no save for that generation (with that file) is there."""
        location = location_for_generation(path, cls.FILE, generation)
        if location is None or not (location / cls.TABLES_FILE).is_file():
            return None
        return set((location / cls.TABLES_FILE).read_text(encoding="utf-8").splitlines())

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
        index._tables, index._columns = header["tables"], header["columns"]
        index._namespaces, index._namespace_offsets = header["namespaces"], header["namespace_offsets"]
        index._documents = np.load(location / cls.DOCUMENTS_FILE, mmap_mode="r")
        index._namespace_words = np.load(location / cls.WORDS_FILE, mmap_mode="r")
        index._listed_columns = np.load(location / cls.LISTED_FILE, mmap_mode="r")
        if (location / cls.BM25_DIR).is_dir():
            import bm25s

            index._bm25 = bm25s.BM25.load(location / cls.BM25_DIR, mmap=True)
        return index


def entry_id(table: list[str], kind: int, part: int, columns: list[str]) -> str:
    """A document's id from its table row, kind and part (``documents``: ``KEY::table::i``, ``KEY::col::PATH``)."""
    return f"{table[0]}::table::{part}" if kind == TABLE_KIND else f"{table[0]}::col::{columns[part]}"


def entry_metadata(table: list[str], kind: int, part: int, columns: list[str]) -> Metadata:
    key, catalog, namespace, name = table
    metadata: Metadata = {"catalog": catalog, "namespace": namespace, "table": name, "table_key": key,
                          "kind": KINDS[kind]}  # fmt: skip
    if kind == COLUMN_KIND:
        metadata["column"] = columns[part]
    return metadata
