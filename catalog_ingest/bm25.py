"""BM25 postings: per token, the documents holding it with the term count and the BM25 weight of each.

The lexical index keeps term counts and document lengths beside the weights, so an update re-weights the
postings it kept (a weight depends on the whole corpus: document count, each token's document frequency, the
mean document length) with a few array operations instead of tokenizing every document again. The weights
are bm25s's default BM25 (``lucene``: k1 1.5, b 0.75), computed in the same order and precision, so they
equal what ``bm25s.BM25().index`` gives for the same corpus, and a query's scores add the same float32
numbers in the same order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

K1, B = 1.5, 0.75
COUNT_DTYPE = np.uint16
MAX_COUNT = int(np.iinfo(COUNT_DTYPE).max)


@dataclass(frozen=True)
class Postings:
    """Token ``t``'s entries are ``starts[t]:starts[t + 1]`` of ``documents`` (ascending), ``counts`` and
    ``weights``; ``lengths`` is each document's number of tokens (repeats counted), what BM25 normalises by."""

    starts: np.ndarray
    documents: np.ndarray
    counts: np.ndarray
    weights: np.ndarray
    lengths: np.ndarray

    @classmethod
    def empty(cls) -> Postings:
        return cls.combined([], np.zeros(0, dtype=np.int32), 0)

    @classmethod
    def of_documents(cls, token_ids: Sequence[Sequence[int]], vocabulary_size: int) -> Postings:
        """The postings of documents given as their token ids (document ``i`` is ``token_ids[i]``)."""
        return cls.combined([entries_of(token_ids)], lengths_of(token_ids), vocabulary_size)

    @classmethod
    def combined(cls, parts: list[Entries], lengths: np.ndarray, vocabulary_size: int) -> Postings:
        """The postings of (token, document, count) entries, at most one per token and document; parts
        already in (token, document) order (one kept from earlier postings, say) are merged in linear time."""
        tokens, documents, counts = (
            np.concatenate([part[field] for part in parts]) if parts else np.zeros(0, dtype=dtype)
            for field, dtype in enumerate((np.int64, np.int32, COUNT_DTYPE))
        )
        order = np.argsort(tokens * max(len(lengths), 1) + documents, kind="stable")  # timsort: merges sorted runs
        tokens, documents, counts = tokens[order], documents[order].astype(np.int32), counts[order]
        starts = np.zeros(vocabulary_size + 1, dtype=np.int64)
        np.cumsum(np.bincount(tokens, minlength=vocabulary_size), out=starts[1:])
        lengths = np.asarray(lengths, dtype=np.int32)
        return cls(starts, documents, counts, weights(starts, documents, counts, lengths), lengths)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.starts, self.documents, self.counts, self.weights, self.lengths

    def token_documents(self) -> tuple[np.ndarray, np.ndarray]:
        """(token, document) of every entry, in order."""
        tokens = np.repeat(np.arange(len(self.starts) - 1, dtype=np.int64), np.diff(self.starts))
        return tokens, np.asarray(self.documents)

    def entries(self, keep: np.ndarray, renumber: np.ndarray) -> Entries:
        """The entries of the documents ``keep`` marks (by document), with documents renumbered by
        ``renumber`` (indexed by the old number); in (token, document) order if ``renumber`` keeps order."""
        tokens, documents = self.token_documents()
        kept = keep[documents]
        return tokens[kept], renumber[documents[kept]], np.asarray(self.counts)[kept]

    def without_unused_tokens(self) -> tuple[Postings, np.ndarray]:
        """These postings without the tokens no document holds, and which tokens were kept (by old id): the
        ids of the others close up, in order."""
        used = np.diff(self.starts) > 0
        starts = np.concatenate([self.starts[:1], self.starts[1:][used]])
        return Postings(starts, self.documents, self.counts, self.weights, self.lengths), used

    def scores(self, token_ids: Sequence[int]) -> np.ndarray:
        """Each document's BM25 score for a query's token ids (a repeated token counts again)."""
        scores = np.zeros(len(self.lengths), dtype=np.float32)
        for token in token_ids:
            start, end = self.starts[token], self.starts[token + 1]
            scores[self.documents[start:end]] += self.weights[start:end]  # a token lists a document once
        return scores


Entries = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(token, document, count) arrays of postings entries."""


def lengths_of(token_ids: Sequence[Sequence[int]]) -> np.ndarray:
    return np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(token_ids))


def entries_of(token_ids: Sequence[Sequence[int]]) -> Entries:
    """(token, document, count) of each distinct token of each document, in (token, document) order."""
    lengths = lengths_of(token_ids)
    flat = np.fromiter(itertools.chain.from_iterable(token_ids), dtype=np.int64, count=int(lengths.sum()))
    documents = np.repeat(np.arange(len(token_ids), dtype=np.int64), lengths)
    keys, counts = np.unique(flat * max(len(token_ids), 1) + documents, return_counts=True)
    if len(counts) and counts.max() > MAX_COUNT:
        raise ValueError(f"a document repeats one token more than {MAX_COUNT:,} times")
    width = max(len(token_ids), 1)
    return keys // width, (keys % width).astype(np.int32), counts.astype(COUNT_DTYPE)


def weights(starts: np.ndarray, documents: np.ndarray, counts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """BM25 (Lucene) weight of each entry, float32: idf(token) * tf / (tf + k1 * (1 - b + b * length / mean length))."""
    if not len(documents):
        return np.zeros(0, dtype=np.float32)
    total = len(lengths)
    frequencies = np.diff(starts)
    distinct, inverse = np.unique(frequencies, return_inverse=True)
    # bm25s takes each token's idf from math.log in double precision and keeps it as float32
    idf = np.array([math.log(1 + (total - df + 0.5) / (df + 0.5)) for df in distinct.tolist()], dtype=np.float32)
    token_idf = np.repeat(idf[inverse], frequencies)
    normaliser = K1 * ((1 - B) + B * lengths.astype(np.float64) / lengths.astype(np.int64).mean())
    tf = counts.astype(np.float32).astype(np.float64)
    return (token_idf.astype(np.float64) * (tf / (normaliser[documents] + tf))).astype(np.float32)
