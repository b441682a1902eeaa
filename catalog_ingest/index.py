"""The dense search index over table documents: vectors in Chroma, and the words BM25 (``lexical``) reads.

Dense search finds paraphrases ("money given back" for refunds); BM25 finds exact identifiers
(``ad_spend``, ``utm_source``) that a small embedding model blurs. The retriever fuses both.

Vectors carry the generation of the table version they were embedded for (the record store's ``born``):
an ingest adds the new generation's vectors beside the served ones and drops the old ones only after it
has published, so a reader (or a server started after a kill) always finds its generation's vectors.

chromadb (about a second of imports) loads when a ``VectorIndex`` opens, not with this module: a retriever
that reads the served generation's vector file (``vector_file``) never imports it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from catalog_ingest.dense_bounds import BoundsWhen, ScoreBounds, exact_scores, top_rows
from catalog_ingest.documents import Document, MetadataValue
from catalog_ingest.embeddings import Embedder
from catalog_ingest.faults import fault_point
from catalog_ingest.settings import Settings
from catalog_ingest.text import SEARCH_STOPWORDS, identifier_parts, identifier_words, stem

Metadata = dict[str, MetadataValue]
SearchResult = tuple[str, float, Metadata]
"""(document id, score, document metadata); higher scores are better."""

HNSW_CONFIGURATION = {"space": "cosine", "max_neighbors": 32, "ef_search": 400, "batch_size": 2_000,
                      "sync_threshold": 50_000}  # fmt: skip
"""Chroma's default graph returned only 0.77-0.85 of the exact top 20 on catalogs full of near-identical
tables; M=32 with a wide search beam was measured near 0.99 unfiltered, but with the generation filter every
query carries it returned 0.95 on a generated lake of real shape (``APPROXIMATE_RECALL``). Vectors go into the
graph 2,000 at a time and the graph is written to disk every 50,000 (Chroma's defaults, 100 and 1,000, rewrote
it dozens of times during one ingest); the rows are durable in Chroma's log before either."""
FEW_WRITES_SYNC_THRESHOLD = 1_000
"""How often a writer of few vectors (a re-ingest) has the graph written to disk. A process that opens the
collection first replays into the graph every row of the log written since the graph was last written: a
full ingest of 10,000 tables leaves 9,933 such rows, which cost the next ingest 8 CPU-s before it read
anything. A re-ingest that writes the graph with its own rows in it leaves the next process under 1,000 to
replay (0.3 CPU-s to open); a graph of 110,000 vectors takes about 200 MB to write."""
EMBEDDER_KEY = "lakescout_embedder"
FORMAT_KEY = "lakescout_format"
VECTOR_FORMAT = 2
"""2: document ids and metadata carry the table version's generation."""
GENERATION_MARK = "@@g"
"""Chroma id of a document = ``{document id}@@g{generation}``: one table's versions side by side."""
TABLE_DOCUMENT_MARK = "::table::"
"""A table document's id = ``{table key}::table::{chunk}`` (``documents.table_documents``)."""
Visible = dict[str, int]
"""table key -> the generation of its version a reader serves (``RecordStore.versions``)."""


class IndexMismatchError(RuntimeError):
    """The stored index was built differently from what the settings ask for; it must be rebuilt."""


class VectorIndex:
    """Document vectors in one Chroma collection (cosine space), tagged with the embedder that made them."""

    def __init__(
        self, settings: Settings, embedder: Embedder, *, reset: bool = False, sole_writer: bool = False,
        sync_threshold: int | None = None,
    ) -> None:
        """Open or create the collection; ``reset`` drops it first (a full re-ingest, e.g. a new embedder).
        ``sole_writer`` (an ingest, which holds the ingest lock): no other process writes the collection
        meanwhile, so ``table_versions`` is read from Chroma once and then kept up to date by this object's
        own writes (reading it costs ~11 s at 10,000 tables, and an ingest asks three times).
        ``sync_threshold``: write the graph to disk every so many rows (``FEW_WRITES_SYNC_THRESHOLD`` for a
        re-ingest, ``HNSW_CONFIGURATION``'s for a full one), set before Chroma loads it in this process."""
        self._sole_writer = sole_writer
        self._versions: set[tuple[str, int]] | None = None
        from catalog_ingest.chroma import ChromaEmbeddingFunction, chroma_client

        self.embedder = embedder
        self._settings = settings
        self._client = chroma_client(settings)
        self._client_open = True
        name = settings.index.collection
        embedding_function = ChromaEmbeddingFunction(embedder)
        if reset and name in {c.name for c in self._client.list_collections()}:
            self._client.delete_collection(name)
        self._collection = self._client.get_or_create_collection(
            name,
            configuration={"hnsw": HNSW_CONFIGURATION},
            metadata={EMBEDDER_KEY: embedder.name, FORMAT_KEY: VECTOR_FORMAT},
            embedding_function=embedding_function,
        )
        built_with = (self._collection.metadata or {}).get(EMBEDDER_KEY)
        where = settings.index.chroma_host or settings.chroma_path
        if (self._collection.metadata or {}).get(FORMAT_KEY) != VECTOR_FORMAT:
            raise IndexMismatchError(
                f"the Chroma collection '{name}' at {where} was written by an older lakescout; "
                "re-run `lakescout ingest --full`"
            )
        if built_with != embedder.name:
            raise IndexMismatchError(
                f"the Chroma collection '{name}' at {where} was built with embedder '{built_with}', "
                f"but the settings select '{embedder.name}' (index.embedding = '{settings.index.embedding}'); "
                "vectors from different models cannot be compared: re-run `lakescout ingest --full`"
            )
        if sync_threshold is not None:
            self._set_sync_threshold(sync_threshold)
        self._max_batch = self._client.get_max_batch_size()

    def _set_sync_threshold(self, rows: int) -> None:
        """Chroma reads the threshold from the collection's configuration when it loads the graph, at the
        first read or write of this process: set it before then."""
        if (self._collection.configuration.get("hnsw") or {}).get("sync_threshold") != rows:
            busy = retry_if_exception(lambda exc: "database is locked" in str(exc))  # Chroma's SQLite, briefly busy
            waits = wait_exponential(0.1, max=2)
            for attempt in Retrying(retry=busy, stop=stop_after_attempt(6), wait=waits, reraise=True):
                with attempt:
                    self._collection.modify(configuration={"hnsw": {"sync_threshold": rows}})

    def replace_tables(self, table_keys: list[str], docs: list[Document], vectors: np.ndarray, generation: int) -> None:
        """Write the tables' documents as ``generation``'s: what a killed run left of that (unpublished)
        generation goes first, in one delete and few adds, since Chroma's cost is per call far more than per
        row. The served generations' vectors stay until ``delete_versions``. The text stays out of Chroma:
        the lexical index and the record store hold it, and Chroma would index it for full-text search too."""
        if len(docs) != len(vectors):
            raise ValueError(f"{len(docs)} documents but {len(vectors)} vectors for {', '.join(table_keys)}")
        if table_keys:
            leftovers = [{"table_key": {"$in": list(table_keys)}}, {"generation": generation}]
            self._collection.delete(where={"$and": leftovers})
            self._forget((key, generation) for key in table_keys)
        fault_point("vectors-deleted")
        for start in range(0, len(docs), self._max_batch):
            batch = docs[start : start + self._max_batch]
            self._collection.add(
                ids=[f"{doc.id}{GENERATION_MARK}{generation}" for doc in batch],
                embeddings=np.asarray(vectors[start : start + self._max_batch], dtype=np.float32),
                metadatas=[doc.metadata | {"generation": generation} for doc in batch],
            )
        if self._versions is not None:
            self._versions.update((str(doc.metadata["table_key"]), generation) for doc in docs if doc.metadata.get("kind") == "table")

    def delete_versions(self, versions: Iterable[tuple[str, int]]) -> None:
        """Drop the documents of these (table key, generation) versions: replaced, removed or never published."""
        by_generation: dict[int, list[str]] = {}
        for key, generation in versions:
            by_generation.setdefault(generation, []).append(key)
        for generation, keys in by_generation.items():
            self._collection.delete(where={"$and": [{"generation": generation}, {"table_key": {"$in": keys}}]})
            self._forget((key, generation) for key in keys)

    def table_versions(self) -> set[tuple[str, int]]:
        """(table key, generation) of every table version with vectors, read from the Chroma ids of its table
        documents alone (at 10,000 tables their metadata cost 6 CPU-seconds to read, the ids 0.3)."""
        if self._versions is not None:
            return set(self._versions)
        versions = {table_version(chroma_id) for page in self._pages(where={"kind": "table"}, include=[]) for chroma_id in page["ids"]}
        if self._sole_writer:
            self._versions = set(versions)
        return versions

    def _forget(self, versions: Iterable[tuple[str, int]]) -> None:
        if self._versions is not None:
            self._versions.difference_update(versions)

    def table_keys(self) -> set[str]:
        return {key for key, _ in self.table_versions()}

    def _pages(self, **arguments: Any) -> Iterator[Any]:
        """``collection.get`` page by page, each under Chroma's batch limit."""
        offset = 0
        while True:
            page = self._collection.get(**arguments, limit=self._max_batch, offset=offset)
            yield page
            if len(page["ids"]) < self._max_batch:
                return
            offset += self._max_batch

    def query(
        self, vector: np.ndarray, k: int, namespace: str | None = None, *, visible: Visible
    ) -> list[SearchResult]:
        """Nearest documents of the ``visible`` table versions by cosine similarity (1.0 is identical).

        Chroma filters on the generations the versions were written in; a replaced version written in one
        of them (there until its ingest finishes) is dropped afterwards."""
        size = self.count()
        if size == 0 or k <= 0 or not visible:
            return []
        generations: dict[str, Any] = {"generation": {"$in": sorted(set(visible.values()))}}
        result = self._collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, size),
            where={"$and": [generations, {"namespace": namespace}]} if namespace else generations,
            include=["metadatas", "distances"],
        )
        ids, distances, metadatas = result["ids"][0], result["distances"][0], result["metadatas"][0]
        return [
            (document_id(chroma_id), 1.0 - float(d), dict(m))
            for chroma_id, d, m in zip(ids, distances, metadatas)
            if is_visible(m, visible)
        ]

    def count(self) -> int:
        return self._collection.count()

    def all_vectors(self, visible: Visible) -> tuple[list[str], list[Metadata], np.ndarray]:
        """Every document of the ``visible`` table versions: id, metadata and vector, in Chroma's order (the
        order they were added in); ``vector_pages`` joined."""
        ids: list[str] = []
        metadatas: list[Metadata] = []
        vectors: list[np.ndarray] = [np.zeros((0, self.embedder.dim), dtype=np.float32)]
        for page_ids, page_metadatas, page_vectors in self.vector_pages(visible):
            ids += page_ids
            metadatas += page_metadatas
            vectors.append(page_vectors)
        return ids, metadatas, np.concatenate(vectors)

    def vector_pages(self, visible: Visible) -> Iterator[tuple[list[str], list[Metadata], np.ndarray]]:
        """``all_vectors`` a page at a time (under Chroma's batch limit), so a caller that writes them out never
        holds them all: only documents of the generations the versions were written in are read."""
        written_in = {"generation": {"$in": sorted(set(visible.values()))}}
        for page in self._pages(where=written_in, include=["metadatas", "embeddings"]) if visible else []:
            keep = [i for i, m in enumerate(page["metadatas"] or []) if is_visible(m, visible)]
            if keep:
                yield ([document_id(page["ids"][i]) for i in keep], [dict(page["metadatas"][i]) for i in keep],
                       np.asarray(page["embeddings"], dtype=np.float32)[keep])  # fmt: skip

    def close(self, *, vacuum: bool = False) -> None:
        """Release the client. The embedded store caches its vector graph per process until the last
        client on the path closes: only then does a new ``VectorIndex`` see another process's writes. Closing
        twice is allowed (the retriever closes right after loading vectors into memory, and again when closed).
        ``vacuum`` (an ingest that wrote): then shrink the embedded store's database (``chroma.vacuum_embedded_store``)."""
        if self._client_open:
            self._client.close()
            self._client_open = False
            if vacuum:
                from catalog_ingest.chroma import vacuum_embedded_store

                vacuum_embedded_store(self._settings)


def document_id(chroma_id: str) -> str:
    """The document id (shared with the lexical index) inside a Chroma id."""
    return chroma_id.rpartition(GENERATION_MARK)[0]


def table_version(chroma_id: str) -> tuple[str, int]:
    """(table key, generation) of a table document's Chroma id: ``{key}::table::{chunk}@@g{generation}``
    (``documents.table_documents``)."""
    document, _, generation = chroma_id.rpartition(GENERATION_MARK)
    return document.rpartition(TABLE_DOCUMENT_MARK)[0], int(generation)


def is_visible(metadata: Any, visible: Visible) -> bool:
    return visible.get(str(metadata["table_key"])) == metadata["generation"]


APPROXIMATE_RECALL = "0.95"
"""Share of the exact top 20 that Chroma's approximate index (``HNSW_CONFIGURATION``) returned, mean over 100
queries (the worst 0.55), on a generated lake of 500 tables of real shape (8,006 vectors; ``bench.scale_lake``),
measured 2026-12-02."""


class ServedVectors:
    """Dense queries straight to Chroma, limited to one generation's table versions (catalogs too large to
    hold in memory)."""

    exact = False

    def __init__(self, index: VectorIndex, visible: Visible, exact_search_mb: float) -> None:
        self._index = index
        self._visible = visible
        self._exact_search_mb = exact_search_mb

    def describe(self) -> str:
        return (f"approximate: {self._index.count():,} vectors, past the {self._exact_search_mb:,g} MB exact search "
                f"may hold (raise index.exact_search_mb to search exactly); Chroma's index returns about "
                f"{APPROXIMATE_RECALL} of the exact top 20")

    def query(self, vector: np.ndarray, k: int, namespace: str | None = None) -> list[SearchResult]:
        return self._index.query(vector, k, namespace, visible=self._visible)

    def table_keys(self) -> set[str]:
        return {key for key, generation in self._index.table_versions() if self._visible.get(key) == generation}


class ExactVectors:
    """The collection's vectors in memory, searched exactly. A catalog's index holds tens or hundreds of
    thousands of documents: bounded scoring (``dense_bounds``) is faster than a Chroma query round trip and
    never misses a neighbour, where HNSW on near-identical tables does (see the field notes). Rows are kept
    float16, their bounds built as ``bounds`` says (``dense_bounds.BoundsWhen``; until then a query scores every
    row); a matrix too small or narrow for bounds is kept float32 and scored whole."""

    exact = True

    def __init__(self, ids: list[str], metadatas: list[Metadata], matrix: np.ndarray, bounds: BoundsWhen = "open") -> None:
        self._ids = ids
        self._metadatas = metadatas
        self._bounded = ScoreBounds.useful(matrix)
        self._matrix = np.asarray(matrix, dtype=np.float16 if self._bounded else np.float32)
        """A plain array (a memory map's view too, not copied when it holds float16): products of a
        ``np.memmap`` are memmaps, and reading one score out of those costs a Python-level ``__getitem__`` and
        ``__array_finalize__``."""
        self._bounds: ScoreBounds | None = None
        self._bounds_lock = threading.Lock()
        if bounds == "open":
            self.build_bounds()
        elif bounds == "background":
            threading.Thread(target=self.build_bounds, name="lakescout-score-bounds", daemon=True).start()
        self._rows_by_namespace: dict[str, np.ndarray] | None = None
        self._rows_lock = threading.Lock()

    def _namespace_rows(self, namespace: str) -> np.ndarray:
        """The rows of ``namespace``'s documents (every namespace's found at the first filtered query)."""
        with self._rows_lock:
            if self._rows_by_namespace is None:
                rows: dict[str, list[int]] = {}
                for row, metadata in enumerate(self._metadatas):
                    rows.setdefault(str(metadata.get("namespace")), []).append(row)
                self._rows_by_namespace = {name: np.array(found, dtype=np.int64) for name, found in rows.items()}
        return self._rows_by_namespace.get(namespace, np.zeros(0, dtype=np.int64))

    def build_bounds(self) -> None:
        """Build the rows' score bounds, once (about 1 CPU-s at 110,000 rows; a query without them, 0.1)."""
        with self._bounds_lock:
            if self._bounded and self._bounds is None:
                self._bounds = ScoreBounds(self._matrix)

    @classmethod
    def load(cls, index: VectorIndex, visible: Visible, bounds: BoundsWhen = "open") -> ExactVectors:
        return cls(*index.all_vectors(visible), bounds)

    def table_keys(self) -> set[str]:
        return {str(m["table_key"]) for m in self._metadatas}

    def describe(self) -> str:
        return f"exact: {len(self._ids):,} vectors in memory"

    def query(self, vector: np.ndarray, k: int, namespace: str | None = None) -> list[SearchResult]:
        """The same contract as ``VectorIndex.query``: nearest documents by cosine similarity."""
        return self.query_many(np.asarray(vector)[None, :], k, [namespace])[0]

    def query_many(self, vectors: np.ndarray, k: int, namespaces: list[str | None]) -> list[list[SearchResult]]:
        """``query`` for each row of ``vectors`` (with its namespace filter), in one pass over the matrix: the
        matrix is read once for the whole batch, which is what a query over many vectors costs."""
        if not self._ids or k <= 0:
            return [[] for _ in namespaces]
        vectors = np.asarray(vectors, dtype=np.float32)
        if self._bounded:
            return self._bounded_query_many(vectors, min(k, len(self._ids)), namespaces)
        all_scores = vectors @ self._matrix.T
        k = min(k, len(self._ids))
        results = []
        for scores, namespace in zip(all_scores, namespaces):
            if namespace:
                rows, unfiltered = self._namespace_rows(namespace), scores
                scores = np.full(len(unfiltered), -np.inf, dtype=unfiltered.dtype)
                scores[rows] = unfiltered[rows]
            top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            top = top[np.isfinite(scores[top])]
            results.append([(self._ids[i], score, dict(self._metadatas[i]))
                            for i, score in zip(top.tolist(), scores[top].tolist())])  # fmt: skip
        return results

    def _bounded_query_many(self, vectors: np.ndarray, k: int, namespaces: list[str | None]) -> list[list[SearchResult]]:
        """``query_many`` scoring only the vectors whose bound reaches a query's top k (no bounds yet: each score its own)."""
        bounds = self._bounds
        all_bounds = bounds.upper_bounds(vectors) if bounds is not None else exact_scores(self._matrix, vectors)
        results = []
        for vector, row_bounds, namespace in zip(vectors, all_bounds, namespaces):
            rows = self._namespace_rows(namespace) if namespace else None
            top, scores = top_rows(self._matrix, vector, row_bounds if rows is None else row_bounds[rows], k, rows)
            results.append([(self._ids[i], score, dict(self._metadatas[i]))
                            for i, score in zip(top.tolist(), scores.tolist())])  # fmt: skip
        return results


# ---------------------------------------------------------------------------------------------- lexical

def tokenize(text: str) -> list[str]:
    """Identifier-aware tokens: ``finance.refundAmount_2`` gives finance, refund, amount, 2 and the whole
    identifier ``finance.refundamount_2``, so both 'refund amount' and the exact name match."""
    tokens: list[str] = []
    for word in identifier_words(text):
        tokens.extend(word_tokens(word))
    return tokens


@functools.lru_cache(maxsize=200_000)
def word_tokens(word: str) -> tuple[str, ...]:
    """One identifier word's tokens (``tokenize``), remembered: a lake's documents repeat the same column and
    table names hundreds of thousands of times, and stemming each again was most of building the BM25 index."""
    parts = identifier_parts(word)
    tokens = [stem(part) for part in parts if part not in SEARCH_STOPWORDS and (len(part) > 1 or part.isdigit())]
    if len(parts) > 1:
        tokens.append(word.lower())
    return tuple(tokens)
