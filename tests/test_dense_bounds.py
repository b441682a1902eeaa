"""Bounded dense search returns the exact top k: the same documents as scoring every vector."""

import numpy as np

from catalog_ingest import dense_bounds
from catalog_ingest.dense_bounds import ScoreBounds, top_rows
from catalog_ingest.index import ExactVectors


def unit_rows(rng: np.random.Generator, count: int, directions: np.ndarray) -> np.ndarray:
    """Rows mostly within a few directions (a lake's documents are far from uniform), normalised."""
    rows = rng.standard_normal((count, len(directions))) @ directions + 0.01 * rng.standard_normal((count, directions.shape[1]))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def lake_vectors(count: int = 3000, dim: int = 384) -> tuple[ExactVectors, np.ndarray]:
    rng = np.random.default_rng(14)
    directions = rng.standard_normal((48, dim)) / np.sqrt(dim)
    matrix = unit_rows(rng, count, directions)
    metadatas = [{"table_key": f"c.ns{i % 7}.t{i // 10}", "namespace": f"ns{i % 7}", "kind": "column"} for i in range(count)]
    queries = unit_rows(rng, 40, directions)
    return ExactVectors([f"doc{i}" for i in range(count)], metadatas, matrix), queries


def test_bounded_search_finds_what_scoring_every_vector_finds():
    vectors, queries = lake_vectors()
    namespaces = [None if i % 3 else f"ns{i % 7}" for i in range(len(queries))]
    full = [vectors.query(query, 20, namespace) for query, namespace in zip(queries, namespaces)]
    vectors.build_bounds()
    assert vectors._bounds is not None
    bounded = vectors.query_many(queries, 20, namespaces)
    for expected, found, namespace in zip(full, bounded, namespaces):
        assert [doc for doc, _, _ in found] == [doc for doc, _, _ in expected]
        assert np.allclose([score for _, score, _ in found], [score for _, score, _ in expected], atol=1e-5)
        assert all(metadata["namespace"] == namespace for _, _, metadata in found if namespace)


def test_the_bounds_leave_few_vectors_to_score(monkeypatch):
    vectors, queries = lake_vectors()
    matrix = vectors._matrix
    bounds = ScoreBounds(matrix)
    scored: list[int] = []
    real_lexsort = np.lexsort

    def counting_lexsort(keys):
        scored.append(len(keys[0]))
        return real_lexsort(keys)

    monkeypatch.setattr(dense_bounds.np, "lexsort", counting_lexsort)
    for query, row_bounds in zip(queries, bounds.upper_bounds(queries)):
        exact = matrix @ query
        assert np.all(row_bounds >= exact - dense_bounds.MARGIN)  # a bound is never below a score
        top, scores = top_rows(matrix, query, row_bounds, 10)
        assert set(top.tolist()) == set(np.argsort(-exact)[:10].tolist())
    assert max(scored) < len(matrix) / 2
