"""Concurrent searches' dense step done together: their queries embedded in one batch and scored against the
vectors in one matrix product.

Under load (20 clients on 2 cores) a search spends most of its CPU on two steps that cost far less per query
in a batch: embedding the query (MiniLM: about 9 ms CPU alone, 4 ms each in a batch of 20) and scoring it
against every vector in memory (one pass over the whole matrix: about 36 ms CPU alone at 169,000 vectors,
6 ms each in a batch of 20). A search adds its query to the batch being formed; a search that finds no batch
running runs the one formed so far and, once it is done, hands the turn to the first search left waiting, so
no search waits for more than the batch ahead of its own. A search alone runs at once, as a batch of one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from catalog_ingest.index import SearchResult

MAX_BATCH = 32

DenseStep = Callable[[np.ndarray, list[str | None]], list[list[SearchResult]]]
"""Query vectors (one row each) and their namespace filters -> each query's dense hits."""


@dataclass(eq=False)
class _Search:
    text: str
    namespace: str | None
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    hits: list[SearchResult] | None = None
    error: BaseException | None = None


class DenseBatches:
    """Dense hits for one query at a time from any number of threads, computed a batch at a time."""

    def __init__(self, embed_queries: Callable[[list[str]], np.ndarray], dense_step: DenseStep) -> None:
        self._embed_queries = embed_queries
        """The embedder's cached query embedding (``Embedder.embed_queries``): one call per batch."""
        self._dense_step = dense_step
        self._lock = threading.Lock()
        self._waiting: list[_Search] = []
        self._running = False

    def search(self, text: str, namespace: str | None = None) -> list[SearchResult]:
        """The dense hits of ``text`` (within ``namespace`` when given); raises what the dense step raised."""
        search = _Search(text, namespace)
        with self._lock:
            self._waiting.append(search)
            search.leads = not self._running
            self._running = True
        if not search.leads:
            search.done.wait()  # woken with its hits, or handed the turn to run the next batch
        if search.leads:
            self._run_batch()
        if search.error is not None:
            raise search.error
        assert search.hits is not None
        return search.hits

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
        try:
            vectors = self._embed_queries([search.text for search in batch])
            for search, hits in zip(batch, self._dense_step(vectors, [search.namespace for search in batch])):
                search.hits = hits
        except BaseException as exc:  # every search of the batch raises it
            for search in batch:
                search.error = exc
        with self._lock:
            following = self._waiting[0] if self._waiting else None
            if following is None:
                self._running = False
            else:
                following.leads = True
        for search in batch:
            search.done.set()
        if following is not None:
            following.done.set()
