"""What the lexical index holds per document, and the documents it is made from.

A document is held as its table, kind and part (chunk number or column), since its id and metadata follow
from those (``documents.document_id``'s scheme, checked as each document is read). An update reads the
searchable documents of only the tables it does not keep, from the record store, and parses them in one
batch into those rows and the postings entries BM25 counts, a chunk of documents' tokens at a time.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from catalog_ingest.bm25 import Entries, counted_entries
from catalog_ingest.documents import Document, documents_for, family_documents
from catalog_ingest.index import Metadata, tokenize

if TYPE_CHECKING:
    from catalog_ingest.store import RecordStore

TABLE_KIND, COLUMN_KIND = 0, 1
KINDS = ("table", "column")
DOCUMENT_FIELDS = [("table", np.int32), ("kind", np.int8), ("part", np.int32)]
"""A document: its table (index into the tables), its kind, and its chunk number (table documents) or its
column (index into the column paths)."""

DocumentSource = Callable[[list[str]], Iterable[Document]]
"""The documents of the tables with the given keys."""


TOKENS_PER_CHUNK = 1 << 20
"""Token ids a batch holds before counting them into postings entries (``bm25.counted_entries``): a lake's
documents' token ids as Python lists were about 8 bytes a token plus a list per document, all at once."""


@dataclass
class DocumentBatch:
    """Documents to index, read once: their tables (in order of first document) and columns, per document
    its (table, kind, part) and its tokens counted into postings entries (a chunk of documents at a time),
    and the columns only listed (``Document.in_lexical``)."""

    vocabulary: dict[str, int]
    """Token -> id: the index's vocabulary, extended with the batch's new tokens."""
    tables: list[list[str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: array = field(default_factory=lambda: array("i"))
    """(table, kind, part) of each indexed document, one after the other."""
    listed: array = field(default_factory=lambda: array("i"))
    """(table, column) of each column only listed, one after the other."""
    _lengths: array = field(default_factory=lambda: array("q"))
    _counted: list[Entries] = field(default_factory=list)
    _waiting: array = field(default_factory=lambda: array("i"))
    """Token ids of the documents not yet counted (from document ``_first_waiting`` on), one after the other."""
    _first_waiting: int = 0

    @classmethod
    def parse(cls, docs: Iterable[Document], vocabulary: dict[str, int]) -> DocumentBatch:
        batch = cls(vocabulary)
        tables: dict[str, int] = {}
        columns: dict[str, int] = {}
        for doc in docs:
            metadata = doc.metadata
            key = str(metadata["table_key"])
            if key not in tables:
                tables[key] = len(batch.tables)
                batch.tables.append([key, str(metadata["catalog"]), str(metadata["namespace"]), str(metadata["table"])])
            table = tables[key]
            kind = KINDS.index(str(metadata["kind"]))
            if kind == COLUMN_KIND:
                path = str(metadata["column"])
                if path not in columns:
                    columns[path] = len(batch.columns)
                    batch.columns.append(path)
                part = columns[path]
            else:
                suffix = doc.id.rpartition("::")[2]
                part = int(suffix) if suffix.isdigit() else -1
            expected = (entry_id(batch.tables[table], kind, part, batch.columns),
                        entry_metadata(batch.tables[table], kind, part, batch.columns))  # fmt: skip
            if (doc.id, dict(metadata)) != expected:
                raise ValueError(f"document {doc.id} does not follow the id and metadata scheme of table documents")
            if not doc.in_lexical:
                if kind != COLUMN_KIND:
                    raise ValueError(f"table document {doc.id} must be indexed")
                batch.listed.extend((table, part))
                continue
            batch._add([vocabulary.setdefault(token, len(vocabulary)) for token in tokenize(doc.text)])
            batch.rows.extend((table, kind, part))
        batch._count_waiting()
        return batch

    def _add(self, token_ids: list[int]) -> None:
        self._waiting.extend(token_ids)
        self._lengths.append(len(token_ids))
        if len(self._waiting) >= TOKENS_PER_CHUNK:
            self._count_waiting()

    def _count_waiting(self) -> None:
        lengths = np.array(self._lengths[self._first_waiting :], dtype=np.int64)
        if len(lengths):
            flat = np.frombuffer(self._waiting, dtype=np.int32)
            self._counted.append(counted_entries(flat, lengths, self._first_waiting))
        self._waiting, self._first_waiting = array("i"), len(self._lengths)

    def lengths(self) -> np.ndarray:
        """Each indexed document's number of tokens."""
        return np.array(self._lengths, dtype=np.int64)

    def take_entries(self) -> list[Entries]:
        """The documents' postings entries, a part per chunk of documents (in document order), each in
        (token, document) order, documents numbered in the batch's order; handed over, so the batch holds them
        no more (``bm25.Postings.combined`` lets each part go once placed)."""
        counted, self._counted = self._counted, []
        return counted


def served_order(store: RecordStore, families: set[str]) -> dict[str, int]:
    """What search serves (key -> version) in the order ``family_index.searchable_documents`` reads it:
    tables by key, then families (``families``) by key."""
    versions = store.searchable_versions()
    return dict(sorted(versions.items(), key=lambda item: (item[0] in families, item[0])))


def store_documents(store: RecordStore, keys: list[str], families: Iterable[str]) -> Iterator[Document]:
    """The searchable documents of the tables and families ``keys`` (``families``: which keys are families)."""
    wanted = set(keys) & set(families)
    for key in keys:
        if key not in wanted and (record := store.get(key, with_partitions=False)) is not None:
            yield from documents_for(record)
    for family in store.families() if wanted else ():
        if family.key in wanted:
            representative = store.get(family.member_key(family.representative), with_partitions=False)
            if representative is not None:
                yield from family_documents(family, representative)


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
