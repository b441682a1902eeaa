"""BM25 postings: per token, the documents holding it with the term count and the BM25 weight of each.

The lexical index keeps term counts and document lengths beside the weights, so an update re-weights the
postings it kept (a weight depends on the whole corpus: document count, each token's document frequency, the
mean document length) with a few array operations instead of tokenizing every document again. The weights
are bm25s's default BM25 (``lucene``: k1 1.5, b 0.75), computed in the same order and precision, so they
equal what ``bm25s.BM25().index`` gives for the same corpus, and a query's scores add the same float32
numbers in the same order.

A build never holds per-entry temporaries for the whole lake at once: documents' tokens are counted into
entries a chunk of documents at a time (``lexical_documents.DocumentBatch``), parts in document order are
placed into the postings by token without sorting them together, and weights are computed a slice of
tokens at a time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

K1, B = 1.5, 0.75
COUNT_DTYPE = np.uint16
MAX_COUNT = int(np.iinfo(COUNT_DTYPE).max)
ENTRIES_PER_SLICE = 1 << 20
"""Entries weighed (and grouped, ``grouped_tokens``) together: the float64 temporaries of a whole lake's
entries at once were several hundred megabytes at 10,000 tables."""


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
        """The postings of (token, document, count) entries, at most one per token and document, each part in
        (token, document) order (one kept from earlier postings, say). Parts whose documents follow each
        other's (a build's chunks) are placed by token in linear time; parts that interleave (kept and
        fresh tables) are sorted together. ``parts`` is emptied as they are placed."""
        frequencies = np.zeros(vocabulary_size, dtype=np.int64)
        for tokens, _, _ in parts:
            frequencies += np.bincount(tokens, minlength=vocabulary_size)
        starts = np.zeros(vocabulary_size + 1, dtype=np.int64)
        np.cumsum(frequencies, out=starts[1:])
        if in_document_order(parts):
            documents, counts = placed_by_token(parts, starts)
        else:
            documents, counts = sorted_together(parts, max(len(lengths), 1))
        lengths = np.asarray(lengths, dtype=np.int32)
        return cls(starts, documents, counts, weights(starts, documents, counts, lengths), lengths)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.starts, self.documents, self.counts, self.weights, self.lengths

    def entries(self, keep: np.ndarray, renumber: np.ndarray) -> Entries:
        """The entries of the documents ``keep`` marks (by document), with documents renumbered by
        ``renumber`` (indexed by the old number); in (token, document) order if ``renumber`` keeps order."""
        tokens = np.repeat(np.arange(len(self.starts) - 1, dtype=np.int32), np.diff(self.starts))
        documents = np.asarray(self.documents)
        kept = keep[documents]
        return tokens[kept], renumber[documents[kept]].astype(np.int32), np.asarray(self.counts)[kept]

    def grouped_tokens(self, group_of_document: np.ndarray) -> np.ndarray:
        """The distinct (group, token) pairs of the entries, as ``group * tokens + token``, ascending, where
        ``group_of_document`` gives each document's group (its namespace, say); a slice of tokens at a time."""
        width = max(len(self.starts) - 1, 1)
        found = [np.zeros(0, dtype=np.int64)]
        for first, end in token_slices(self.starts):
            tokens = np.repeat(np.arange(first, end, dtype=np.int64), np.diff(self.starts[first : end + 1]))
            groups = group_of_document[self.documents[self.starts[first] : self.starts[end]]].astype(np.int64)
            # entries run by token, then document (documents by table): drop repeats next to each other first
            new = np.ones(len(tokens), dtype=bool)
            new[1:] = (tokens[1:] != tokens[:-1]) | (groups[1:] != groups[:-1])
            found.append(np.unique(groups[new] * width + tokens[new]))
        return np.unique(np.concatenate(found))

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
    return counted_entries(flat, lengths)


def counted_entries(flat: np.ndarray, lengths: np.ndarray, first_document: int = 0) -> Entries:
    """``entries_of`` documents given as their token ids one after the other (``flat``) and how many each has;
    documents numbered from ``first_document``."""
    width = max(len(lengths), 1)
    documents = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    keys, counts = np.unique(flat.astype(np.int64) * width + documents, return_counts=True)
    if len(counts) and counts.max() > MAX_COUNT:
        raise ValueError(f"a document repeats one token more than {MAX_COUNT:,} times")
    return (keys // width).astype(np.int32), (keys % width + first_document).astype(np.int32), counts.astype(COUNT_DTYPE)


def in_document_order(parts: list[Entries]) -> bool:
    """Each part's documents all come after the previous parts' (so each token's entries do too)."""
    bounds = [(int(documents.min()), int(documents.max())) for _, documents, _ in parts if len(documents)]
    return all(low > high for (_, high), (low, _) in zip(bounds, bounds[1:]))


def placed_by_token(parts: list[Entries], starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The documents and counts of ``parts`` (in document order) in (token, document) order: each part's
    entries go to their token's next free places, so no part waits in memory once placed."""
    documents = np.empty(int(starts[-1]), dtype=np.int32)
    counts = np.empty(int(starts[-1]), dtype=COUNT_DTYPE)
    free = starts[:-1].copy()
    while parts:
        tokens, part_documents, part_counts = parts.pop(0)
        if not len(tokens):
            continue
        run_starts = np.flatnonzero(np.concatenate([[True], tokens[1:] != tokens[:-1]]))
        run_lengths = np.diff(np.append(run_starts, len(tokens)))
        run_tokens = tokens[run_starts]
        places = np.repeat(free[run_tokens] - run_starts, run_lengths) + np.arange(len(tokens))
        documents[places], counts[places] = part_documents, part_counts
        free[run_tokens] += run_lengths
    return documents, counts


def sorted_together(parts: list[Entries], width: int) -> tuple[np.ndarray, np.ndarray]:
    """The documents and counts of ``parts`` in (token, document) order, sorted as one."""
    keys = np.empty(sum(len(tokens) for tokens, _, _ in parts), dtype=np.int64)
    at = 0
    for tokens, documents, _ in parts:
        part = keys[at : at + len(tokens)]
        part[:], at = tokens, at + len(tokens)
        part *= width
        part += documents
    order = np.argsort(keys, kind="stable")  # timsort: merges the parts' sorted runs
    del keys
    joined = [np.concatenate([part[field] for part in parts]) if parts else np.zeros(0, dtype=dtype)
              for field, dtype in ((1, np.int32), (2, COUNT_DTYPE))]  # fmt: skip
    parts.clear()
    return joined[0][order].astype(np.int32, copy=False), joined[1][order].astype(COUNT_DTYPE, copy=False)


def token_slices(starts: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first, end) token ranges, in order, each holding at most ``ENTRIES_PER_SLICE`` entries (or one token)."""
    tokens, first, size = len(starts) - 1, 0, ENTRIES_PER_SLICE
    while first < tokens:
        end = min(max(int(np.searchsorted(starts, starts[first] + size, side="right")) - 1, first + 1), tokens)
        yield first, end
        first = end


def weights(starts: np.ndarray, documents: np.ndarray, counts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """BM25 (Lucene) weight of each entry, float32: idf(token) * tf / (tf + k1 * (1 - b + b * length / mean length))."""
    if not len(documents):
        return np.zeros(0, dtype=np.float32)
    total = len(lengths)
    frequencies = np.diff(starts)
    distinct, inverse = np.unique(frequencies, return_inverse=True)
    # bm25s takes each token's idf from math.log in double precision and keeps it as float32
    idf = np.array([math.log(1 + (total - df + 0.5) / (df + 0.5)) for df in distinct.tolist()], dtype=np.float32)
    token_idf = idf[inverse].astype(np.float64)
    normaliser = K1 * ((1 - B) + B * lengths.astype(np.float64) / lengths.astype(np.int64).mean())
    result = np.empty(len(documents), dtype=np.float32)
    for first, end in token_slices(starts):
        at = slice(starts[first], starts[end])
        tf = counts[at].astype(np.float32).astype(np.float64)
        entry_idf = np.repeat(token_idf[first:end], frequencies[first:end])
        result[at] = entry_idf * (tf / (normaliser[documents[at]] + tf))
    return result
