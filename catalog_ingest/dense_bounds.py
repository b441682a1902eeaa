"""Exact top-k dense search that scores only the vectors that can reach the top: an upper bound from a
projection onto the matrix's principal directions, then exact scores for the few candidates it leaves.

Scoring a query against every vector held in memory is most of a search's CPU under load (110,000 vectors
of 384 dimensions at 10,000 tables: about 2 ms a query in a batch of 20). For an orthonormal basis ``B`` of
the ``DIMENSIONS`` principal directions, a score splits into the projected part and the rest:
``q·v = (Bᵀq)·(Bᵀv) + q_rest·v_rest <= (Bᵀq)·(Bᵀv) + |q_rest| |v_rest|`` (Cauchy-Schwarz). A third of the
arithmetic bounds every vector's score; the exact scores of the vectors with the best bounds give a score the
k-th best must reach, and only vectors whose bound reaches it (a few hundred at 10,000 tables) are scored
exactly. No vector that belongs in the top k is ever left out: the result is the exact top k.

The rows can be float16 (a retriever keeps them so: half the memory of float32, and a vector file's rows are
mapped, not copied): only the rows a query scores are converted, since converting all of them (about 5 ns a
value here) costs far more than the product.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

DIMENSIONS = 128
"""Principal directions kept: at 10,000 tables a query's bound leaves a median of 474 of 108,506 vectors to
score exactly (p90 1,326), against 8,409 with 64."""
PROBES_PER_RESULT = 4
"""Vectors with the best bounds scored exactly first, per result asked for: the k-th best of them is a score
the true k-th best reaches."""
MARGIN = 1e-3
"""Added to every bound for float32 rounding (scores of unit vectors lie in [-1, 1]; rounding is near 1e-6)."""
BOUND_BYTES_PER_ROW = 4 * (DIMENSIONS + 1)
"""What a row's bounds hold in memory: its projection and the norm of the rest, float32."""
SAMPLE_ROWS = 65_536
"""Rows the principal directions are found from, spread over the matrix."""
BLOCK_ROWS = 8_192
"""Rows converted to float32 at a time while the bounds are built."""
SMALLEST = 4 * DIMENSIONS
"""Fewer vectors than this are all scored exactly."""
BoundsWhen = Literal["open", "background", "never"]
"""When a searcher builds its bounds: as it opens, in a thread meanwhile, or never (a process that searches
once, as `lakescout ask` does, scores every row at less than a tenth of building them)."""


class ScoreBounds:
    """A matrix's rows projected onto its principal directions, each with its remaining norm beside it."""

    def __init__(self, matrix: np.ndarray) -> None:
        """Built from ``matrix`` (rows of unit vectors, float16 or float32), converted to float32
        ``BLOCK_ROWS`` at a time: the principal directions from at most ``SAMPLE_ROWS`` rows spread over it
        (any orthonormal basis keeps the bound; a sample's leaves as few rows to score), then every row's
        projection. About 1 CPU-s at 110,000 x 384."""
        sample = np.linspace(0, len(matrix) - 1, min(len(matrix), SAMPLE_ROWS)).astype(np.int64)
        covariance = np.zeros((matrix.shape[1], matrix.shape[1]), dtype=np.float64)
        for start in range(0, len(sample), BLOCK_ROWS):
            block = np.asarray(matrix[sample[start : start + BLOCK_ROWS]], dtype=np.float32)
            covariance += block.T @ block
        _, directions = np.linalg.eigh(covariance)  # ascending eigenvalues
        self.basis = np.ascontiguousarray(directions[:, ::-1][:, :DIMENSIONS], dtype=np.float32)
        self.rows = np.empty((len(matrix), DIMENSIONS + 1), dtype=np.float32)
        """Per row, its projection and (last) the norm of the rest: one product bounds every row."""
        for start in range(0, len(matrix), BLOCK_ROWS):
            block = np.asarray(matrix[start : start + BLOCK_ROWS], dtype=np.float32)
            projected = self.rows[start : start + len(block), :DIMENSIONS]
            np.matmul(block, self.basis, out=projected)
            self.rows[start : start + len(block), DIMENSIONS] = rest_norms(block, projected)

    @staticmethod
    def useful(matrix: np.ndarray) -> bool:
        return matrix.shape[0] >= SMALLEST and matrix.shape[1] > DIMENSIONS

    def upper_bounds(self, vectors: np.ndarray) -> np.ndarray:
        """Per query (row of ``vectors``), a bound that no row's score exceeds by more than ``MARGIN``, for
        every row (queries x rows)."""
        queries = np.empty((len(vectors), DIMENSIONS + 1), dtype=np.float32)
        queries[:, :DIMENSIONS] = vectors @ self.basis
        queries[:, DIMENSIONS] = rest_norms(vectors, queries[:, :DIMENSIONS])
        return (self.rows @ queries.T).T


def rest_norms(vectors: np.ndarray, projected: np.ndarray) -> np.ndarray:
    """The norm of each vector's part outside the basis (``projected`` holds its part inside)."""
    rest = np.einsum("ij,ij->i", vectors, vectors) - np.einsum("ij,ij->i", projected, projected)
    return np.sqrt(np.maximum(rest, 0.0))


def exact_scores(matrix: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Every row's score against each query (queries x rows), the rows converted to float32 ``BLOCK_ROWS`` at a
    time: what a search costs before the bounds are built. A score is its own upper bound (``top_rows``)."""
    scores = np.empty((len(vectors), len(matrix)), dtype=np.float32)
    for start in range(0, len(matrix), BLOCK_ROWS):
        block = np.asarray(matrix[start : start + BLOCK_ROWS], dtype=np.float32)
        np.matmul(vectors, block.T, out=scores[:, start : start + len(block)])
    return scores


def top_rows(matrix: np.ndarray, vector: np.ndarray, bounds: np.ndarray, k: int,
             rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The ``k`` rows of ``matrix`` (of ``rows`` only, when given; ``bounds`` then holds theirs) that score
    best against ``vector``, best first (ties by row), and their exact scores. Only rows whose upper bound
    reaches the k-th best score of the rows with the best bounds are scored."""
    probes = k * PROBES_PER_RESULT
    if len(bounds) <= probes:
        candidates = np.arange(len(bounds))
    else:
        best = np.argpartition(bounds, len(bounds) - probes)[len(bounds) - probes :]
        probe_scores = scores_of(matrix, best if rows is None else rows[best], vector)
        reached = np.partition(probe_scores, probes - k)[probes - k]
        candidates = np.flatnonzero(bounds >= reached - MARGIN)
    if rows is not None:
        candidates = rows[candidates]
    scores = scores_of(matrix, candidates, vector)
    order = np.lexsort((candidates, -scores))[:k]
    return candidates[order], scores[order]


def scores_of(matrix: np.ndarray, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``vector``'s exact scores against these rows of ``matrix``, converted to float32 first (a product of
    float16 arrays is many times slower in numpy than converting them)."""
    return np.asarray(matrix[rows], dtype=np.float32) @ vector
