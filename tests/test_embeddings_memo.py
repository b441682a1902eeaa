"""Embedding caches: the ingest's memo (bounded, least recently used forgotten first, never losing a vector it
returns, saved for the next ingest) and the query cache shared by single and batched questions."""

from __future__ import annotations

import numpy as np

from catalog_ingest.embeddings import MemoizedEmbedder, QueryCache
from catalog_ingest.memo_file import load_memo, save_memo
from catalog_ingest.settings import load_settings


class CountingEmbedder:
    """A deterministic embedder that records every text it was asked to embed."""

    name = "counting"
    dim = 4

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0, 0.0] for t in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def test_a_call_larger_than_the_memo_returns_every_vector():
    inner = CountingEmbedder()
    memo = MemoizedEmbedder(inner, max_entries=3)
    texts = [f"column {i}" for i in range(10)]
    vectors = memo.embed(texts)
    assert np.array_equal(vectors, inner.embed(texts))
    assert len(memo._vectors) == 3


def test_remembered_texts_of_a_call_survive_the_eviction_that_call_causes():
    inner = CountingEmbedder()
    memo = MemoizedEmbedder(inner, max_entries=4)
    memo.embed(["a", "b", "c", "d"])
    # "a" is the oldest entry; asking for it with four new texts used to evict it before it was returned.
    vectors = memo.embed(["a", "e", "f", "g", "h"])
    assert np.array_equal(vectors, inner.embed(["a", "e", "f", "g", "h"]))


def test_recurring_texts_are_embedded_once_and_recently_used_ones_are_kept():
    inner = CountingEmbedder()
    memo = MemoizedEmbedder(inner, max_entries=3)
    memo.embed(["x", "y", "z"])
    memo.embed(["x"])  # x becomes the most recently used
    memo.embed(["w"])  # forgets y, the least recently used
    inner.calls.clear()
    memo.embed(["x", "z", "w", "x"])
    assert inner.calls == []
    memo.embed(["y"])
    assert inner.calls == [["y"]]


def test_a_saved_memo_serves_the_next_ingest_and_keeps_the_most_recently_used_texts(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    first = MemoizedEmbedder(CountingEmbedder(), max_entries=4)
    first.embed(["a", "b", "c"])
    save_memo(settings, first)

    inner = CountingEmbedder()
    second = MemoizedEmbedder(inner, max_entries=4, earlier=load_memo(settings, "counting"))
    vectors = second.embed(["c", "d", "e", "c"])  # c was saved; d and e are new
    assert inner.calls == [["d", "e"]] and second.texts_embedded == 2
    assert np.array_equal(vectors, CountingEmbedder().embed(["c", "d", "e", "c"]))
    save_memo(settings, second)  # a and b unused, then c, d, e: room for four, so a (least recently used) goes

    inner = CountingEmbedder()
    third = MemoizedEmbedder(inner, earlier=load_memo(settings, "counting"))
    third.embed(["a", "b", "c", "d", "e"])
    assert inner.calls == [["a"]]
    assert load_memo(settings, "another model") is None


class CountingQueries(QueryCache, CountingEmbedder):
    def __init__(self) -> None:
        CountingEmbedder.__init__(self)
        QueryCache.__init__(self)


def test_one_query_cache_serves_single_and_batched_questions():
    """A search's batch (``embed_queries``) and a single ``embed_query`` of the same question (the verified
    examples of the same turn) embed it once."""
    embedder = CountingQueries()
    batch = embedder.embed_queries(["refunds", "orders by day", "refunds"])
    assert np.array_equal(embedder.embed_query("orders by day"), batch[1])
    embedder.embed_queries(["orders by day", "sessions"])
    assert embedder.calls == [["refunds", "orders by day"], ["sessions"]]
    assert np.array_equal(batch[0], batch[2])
