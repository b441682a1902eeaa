"""Bounded dense search returns the exact top k: the same documents as scoring every vector."""

import numpy as np
import pytest

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


def brute_force(matrix: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The top ``k`` of ``rows`` by score against every one of them, best first (ties by row)."""
    scores = matrix[rows].astype(np.float32) @ query
    best = np.lexsort((rows, -scores))[:k]
    return [f"doc{row}" for row in rows[best]], scores[best]


@pytest.mark.parametrize("count", [300, 20_000])
def test_exact_search_finds_what_scoring_every_vector_finds(count):
    """300 vectors are scored whole (float32), 20,000 through the bounds from float16 rows: each query, with
    and without a namespace, gets the top 20 of scoring every row as held."""
    vectors, queries = lake_vectors(count)
    held = vectors._matrix
    assert held.dtype == (np.float16 if count > dense_bounds.SMALLEST else np.float32)
    namespaces = [None if i % 3 else f"ns{i % 7}" for i in range(len(queries))]
    found = vectors.query_many(queries, 20, namespaces)
    one_at_a_time = [vectors.query(query, 20, namespace) for query, namespace in zip(queries, namespaces)]
    for query, namespace, hits, alone in zip(queries, namespaces, found, one_at_a_time):
        assert [doc for doc, _, _ in alone] == [doc for doc, _, _ in hits]
        rows = np.array([i for i in range(count) if namespace in (None, f"ns{i % 7}")])
        expected_ids, expected_scores = brute_force(held, query, 20, rows)
        assert [doc for doc, _, _ in hits] == expected_ids
        assert np.allclose([score for _, score, _ in hits], expected_scores, atol=1e-5)
        assert all(metadata["namespace"] == namespace for _, _, metadata in hits if namespace)


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
        exact = matrix.astype(np.float32) @ query
        assert np.all(row_bounds >= exact - dense_bounds.MARGIN)  # a bound is never below a score
        top, scores = top_rows(matrix, query, row_bounds, 10)
        assert set(top.tolist()) == set(np.argsort(-exact)[:10].tolist())
    assert max(scored) < len(matrix) / 2


def test_float16_rows_mapped_from_a_file_are_searched_without_a_copy(tmp_path):
    vectors, queries = lake_vectors(2000)
    mapped = np.memmap(tmp_path / "rows.f16", dtype=np.float16, mode="w+", shape=vectors._matrix.shape)
    mapped[:] = vectors._matrix
    from_file = ExactVectors(vectors._ids, vectors._metadatas, mapped)
    assert np.shares_memory(from_file._matrix, mapped)
    assert from_file.query_many(queries, 10, [None] * len(queries)) == vectors.query_many(queries, 10, [None] * len(queries))
