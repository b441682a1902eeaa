"""The lexical search index: BM25 over identifier tokens of the table documents, saved as one directory.

An ingest builds it whole from one generation of the record store and labels it with that generation, so a
reader can tell whether the saved index belongs to the generation it serves.
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


class LexicalIndex:
    """BM25 over identifier tokens, with document metadata; rebuilt on change, saved as one directory.

    BM25 weights depend on the whole corpus, so an ingest builds the index whole from the record store
    (``build``) and the scoring matrix is made lazily before the first search (tens of thousands of
    documents: about a second).
    """

    FILE = "documents.json"
    TABLES_FILE = "tables"
    """The indexed table keys, one a line: an ingest checks them without reading the whole index."""
    FORMAT = 1

    def __init__(self) -> None:
        self._tokens: dict[str, list[str]] = {}
        self._metadata: dict[str, Metadata] = {}
        self._lock = threading.Lock()
        self._bm25: Any = None
        self._ids: list[str] = []
        self._namespaces = np.empty(0, dtype=object)

    def build(self, docs: Iterable[Document]) -> None:
        """Replace the whole index with ``docs``."""
        with self._lock:
            self._tokens, self._metadata = {}, {}
            for doc in docs:
                self._tokens[doc.id] = tokenize(doc.text)
                self._metadata[doc.id] = dict(doc.metadata)
            self._bm25 = None

    def table_keys(self) -> set[str]:
        return {str(m["table_key"]) for m in self._metadata.values()}

    def table_metadata(self) -> dict[str, Metadata]:
        """table_key -> metadata of its first table document (catalog, namespace, table)."""
        tables: dict[str, Metadata] = {}
        for metadata in self._metadata.values():
            tables.setdefault(str(metadata["table_key"]), metadata)
        return tables

    def columns_by_table(self) -> dict[str, list[str]]:
        """table_key -> the column paths of its column documents."""
        columns: dict[str, list[str]] = {}
        for metadata in self._metadata.values():
            if metadata["kind"] == "column":
                columns.setdefault(str(metadata["table_key"]), []).append(str(metadata["column"]))
        return columns

    def words_by_namespace(self) -> dict[str, set[str]]:
        """namespace -> the distinct tokens of all its documents."""
        words: dict[str, set[str]] = {}
        for doc_id, tokens in self._tokens.items():
            words.setdefault(str(self._metadata[doc_id]["namespace"]), set()).update(tokens)
        return words

    def count(self) -> int:
        return len(self._metadata)

    def _scorer(self) -> tuple[Any, list[str], np.ndarray]:
        with self._lock:
            if self._bm25 is None and self._tokens:
                import bm25s

                self._ids = list(self._tokens)
                bm25 = bm25s.BM25()
                bm25.index([self._tokens[i] for i in self._ids], show_progress=False)
                self._namespaces = np.array([self._metadata[i]["namespace"] for i in self._ids], dtype=object)
                self._bm25 = bm25
            return self._bm25, self._ids, self._namespaces

    def search(self, query: str, k: int, namespace: str | None = None) -> list[SearchResult]:
        bm25, ids, namespaces = self._scorer()
        if bm25 is None:
            return []
        token_ids = bm25.get_tokens_ids(tokenize(query))
        if not token_ids or k <= 0:
            return []
        scores = bm25.get_scores_from_ids(token_ids)
        if namespace:
            scores = np.where(namespaces == namespace, scores, 0.0)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[i], float(scores[i]), dict(self._metadata[ids[i]])) for i in top if scores[i] > 0]

    def save(self, path: Path, generation: str | None = None) -> None:
        """Write to a sibling temporary directory, then rename it into place: a write killed half-way
        leaves the previous index intact (``load`` also finds it under ``.old`` mid-swap).

        ``generation`` labels what the index was built from, so a caller can skip an identical rebuild.
        """
        with self._lock:
            payload = {
                "format": self.FORMAT,
                "documents": [
                    {"id": i, "tokens": self._tokens[i], "metadata": self._metadata[i]} for i in self._tokens
                ],
            }
        tables = "".join(f"{key}\n" for key in sorted(self.table_keys()))

        def fill(staging: Path) -> None:
            write_synced(staging / self.FILE, lambda out: json.dump(payload, out, separators=(",", ":")))
            (staging / self.TABLES_FILE).write_text(tables, encoding="utf-8")

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
        index = cls()
        with open(location / cls.FILE, encoding="utf-8") as source:
            payload = json.load(source)
        if payload.get("format") != cls.FORMAT:
            raise IndexMismatchError(
                f"lexical index at {location} has format {payload.get('format')}, expected {cls.FORMAT}; "
                "re-run `lakescout ingest --full`"
            )
        for doc in payload["documents"]:
            index._tokens[doc["id"]] = doc["tokens"]
            index._metadata[doc["id"]] = doc["metadata"]
        return index
