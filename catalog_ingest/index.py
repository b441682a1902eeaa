"""The two search indexes over table documents: dense vectors in Chroma and BM25 over identifier tokens.

Dense search finds paraphrases ("money given back" for refunds); BM25 finds exact identifiers
(``ad_spend``, ``utm_source``) that a small embedding model blurs. The retriever fuses both.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings as ChromaSettings

from catalog_ingest.documents import Document, MetadataValue
from catalog_ingest.embeddings import Embedder
from catalog_ingest.settings import Settings
from catalog_ingest.text import SEARCH_STOPWORDS, identifier_parts, identifier_words, stem

Metadata = dict[str, MetadataValue]
SearchResult = tuple[str, float, Metadata]
"""(document id, score, document metadata); higher scores are better."""

HNSW_CONFIGURATION = {"space": "cosine", "max_neighbors": 32, "ef_search": 400}
"""Chroma's default graph returned only 0.77-0.85 of the exact top 20 on catalogs full of near-identical
tables; M=32 with a wide search beam brings recall to about 0.99 at a fraction of a millisecond."""
EMBEDDER_KEY = "lakescout_embedder"


class IndexMismatchError(RuntimeError):
    """The stored index was built differently from what the settings ask for; it must be rebuilt."""


class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Hands Chroma our embedder, so its default model (downloaded at first use) never loads.

    lakescout always passes vectors explicitly; this is only called if Chroma embeds text itself.
    Chroma also rebuilds one from the collection's stored config while reading it: that copy has only
    the embedder's name and is replaced by the one lakescout passes in.
    """

    def __init__(self, embedder: Embedder | None, embedder_name: str | None = None) -> None:
        self._embedder = embedder
        self._embedder_name = embedder.name if embedder else embedder_name

    def __call__(self, input: Documents) -> Embeddings:
        if self._embedder is None:
            raise IndexMismatchError("open lakescout's Chroma collection through catalog_ingest.index.VectorIndex")
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "lakescout"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(None, config.get("embedder"))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False


def chroma_client(settings: Settings):
    """A Chroma server when ``index.chroma_host`` is set, else the embedded store under the data directory."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.index.chroma_host:
        return chromadb.HttpClient(
            host=settings.index.chroma_host, port=settings.index.chroma_port, settings=chroma_settings
        )
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


class VectorIndex:
    """Document vectors in one Chroma collection (cosine space), tagged with the embedder that made them."""

    def __init__(self, settings: Settings, embedder: Embedder, *, reset: bool = False) -> None:
        """Open or create the collection; ``reset`` drops it first (a full re-ingest, e.g. a new embedder)."""
        self.embedder = embedder
        self._client = chroma_client(settings)
        name = settings.index.collection
        embedding_function = ChromaEmbeddingFunction(embedder)
        if reset and name in {c.name for c in self._client.list_collections()}:
            self._client.delete_collection(name)
        self._collection = self._client.get_or_create_collection(
            name,
            configuration={"hnsw": HNSW_CONFIGURATION},
            metadata={EMBEDDER_KEY: embedder.name},
            embedding_function=embedding_function,
        )
        built_with = (self._collection.metadata or {}).get(EMBEDDER_KEY)
        if built_with != embedder.name:
            where = settings.index.chroma_host or settings.chroma_path
            raise IndexMismatchError(
                f"the Chroma collection '{name}' at {where} was built with embedder '{built_with}', "
                f"but the settings select '{embedder.name}' (index.embedding = '{settings.index.embedding}'); "
                "vectors from different models cannot be compared: re-run `lakescout ingest --full`"
            )
        self._max_batch = self._client.get_max_batch_size()

    def replace_tables(self, table_keys: list[str], docs: list[Document], vectors: np.ndarray) -> None:
        """Swap in the tables' documents: their old ones (including vanished columns) go first, in one delete
        and few adds, since Chroma's cost is per call far more than per row."""
        if len(docs) != len(vectors):
            raise ValueError(f"{len(docs)} documents but {len(vectors)} vectors for {', '.join(table_keys)}")
        if table_keys:
            self._collection.delete(where={"table_key": {"$in": list(table_keys)}})
        for start in range(0, len(docs), self._max_batch):
            batch = docs[start : start + self._max_batch]
            self._collection.add(
                ids=[doc.id for doc in batch],
                embeddings=np.asarray(vectors[start : start + self._max_batch], dtype=np.float32),
                documents=[doc.text for doc in batch],
                metadatas=[doc.metadata for doc in batch],
            )

    def delete_table(self, table_key: str) -> None:
        """Drop one table's documents (a table removed from the catalog, or vectors whose record never landed)."""
        self._collection.delete(where={"table_key": table_key})

    def table_keys(self) -> set[str]:
        return {
            str(m["table_key"])
            for page in self._pages(where={"kind": "table"}, include=["metadatas"])
            for m in page["metadatas"] or []
        }

    def _pages(self, **arguments: Any) -> Iterator[Any]:
        """``collection.get`` page by page, each under Chroma's batch limit."""
        offset = 0
        while True:
            page = self._collection.get(**arguments, limit=self._max_batch, offset=offset)
            yield page
            if len(page["ids"]) < self._max_batch:
                return
            offset += self._max_batch

    def query(self, vector: np.ndarray, k: int, namespace: str | None = None) -> list[SearchResult]:
        """Nearest documents by cosine similarity (1.0 is identical)."""
        size = self.count()
        if size == 0 or k <= 0:
            return []
        result = self._collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, size),
            where={"namespace": namespace} if namespace else None,
            include=["metadatas", "distances"],
        )
        ids, distances, metadatas = result["ids"][0], result["distances"][0], result["metadatas"][0]
        return [(doc_id, 1.0 - float(d), dict(m)) for doc_id, d, m in zip(ids, distances, metadatas)]

    def count(self) -> int:
        return self._collection.count()

    def all_vectors(self) -> tuple[list[str], list[Metadata], np.ndarray]:
        """Every document's id, metadata and vector, paged under Chroma's batch limit."""
        ids: list[str] = []
        metadatas: list[Metadata] = []
        vectors: list[np.ndarray] = []
        for page in self._pages(include=["metadatas", "embeddings"]):
            ids += page["ids"]
            metadatas += [dict(m) for m in page["metadatas"] or []]
            if len(page["ids"]):
                vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, self.embedder.dim), dtype=np.float32)
        return ids, metadatas, matrix

    def close(self) -> None:
        """Release the client. The embedded store caches its vector graph per process until the last
        client on the path closes: only then does a new ``VectorIndex`` see another process's writes."""
        self._client.close()


class ExactVectors:
    """The collection's vectors in memory, searched exactly. A catalog's index holds tens of thousands of
    documents: one matrix product is faster than a Chroma query round trip and never misses a neighbour,
    where HNSW on near-identical tables does (see the field notes)."""

    def __init__(self, ids: list[str], metadatas: list[Metadata], matrix: np.ndarray) -> None:
        self._ids = ids
        self._metadatas = metadatas
        self._matrix = matrix
        self._namespaces = np.array([str(m.get("namespace")) for m in metadatas], dtype=object)

    @classmethod
    def load(cls, index: VectorIndex) -> ExactVectors:
        return cls(*index.all_vectors())

    def query(self, vector: np.ndarray, k: int, namespace: str | None = None) -> list[SearchResult]:
        """The same contract as ``VectorIndex.query``: nearest documents by cosine similarity."""
        if not self._ids or k <= 0:
            return []
        scores = self._matrix @ np.asarray(vector, dtype=np.float32)
        if namespace:
            scores = np.where(self._namespaces == namespace, scores, -np.inf)
        k = min(k, len(self._ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[i], float(scores[i]), dict(self._metadatas[i])) for i in top if np.isfinite(scores[i])]


# ---------------------------------------------------------------------------------------------- lexical

def tokenize(text: str) -> list[str]:
    """Identifier-aware tokens: ``finance.refundAmount_2`` gives finance, refund, amount, 2 and the whole
    identifier ``finance.refundamount_2``, so both 'refund amount' and the exact name match."""
    tokens: list[str] = []
    for word in identifier_words(text):
        parts = identifier_parts(word)
        tokens.extend(stem(part) for part in parts if part not in SEARCH_STOPWORDS and (len(part) > 1 or part.isdigit()))
        if len(parts) > 1:
            tokens.append(word.lower())
    return tokens


class LexicalIndex:
    """BM25 over identifier tokens, with document metadata; rebuilt on change, saved as one directory.

    BM25 weights depend on the whole corpus, so an ingest builds the index whole from the record store
    (``build``) and the scoring matrix is made lazily before the first search (tens of thousands of
    documents: about a second).
    """

    FILE = "documents.json"
    GENERATION_FILE = "generation"
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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex}")
        previous = path.with_name(f"{path.name}.old")
        staging.mkdir()
        try:
            with self._lock:
                payload = {
                    "format": self.FORMAT,
                    "documents": [
                        {"id": i, "tokens": self._tokens[i], "metadata": self._metadata[i]} for i in self._tokens
                    ],
                }
            with open(staging / self.FILE, "w", encoding="utf-8") as out:
                json.dump(payload, out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            if generation is not None:
                (staging / self.GENERATION_FILE).write_text(generation, encoding="utf-8")
            shutil.rmtree(previous, ignore_errors=True)
            if path.exists():
                os.replace(path, previous)
            os.replace(staging, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)

    @classmethod
    def saved_location(cls, path: Path) -> Path | None:
        """Where the last complete save lives: ``path``, or its ``.old`` twin if a save died mid-swap."""
        path = Path(path)
        for candidate in (path, path.with_name(f"{path.name}.old")):
            if (candidate / cls.FILE).is_file():
                return candidate
        return None

    @classmethod
    def stored_generation(cls, path: Path) -> str | None:
        location = cls.saved_location(path)
        if location is None or not (location / cls.GENERATION_FILE).is_file():
            return None
        return (location / cls.GENERATION_FILE).read_text(encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """The saved index, or an empty one when nothing has been saved yet."""
        index = cls()
        location = cls.saved_location(path)
        if location is None:
            return index
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
