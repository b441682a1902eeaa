"""Retrieval quality on the sample lake's discovery questions: recall@5 of the gold tables.

Hybrid search (dense + BM25, fused) against each list alone, on the eval suite's discovery cases.
Target: recall@5 of at least 0.95 for the hybrid search.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from catalog_ingest.ingest import ingest
from catalog_ingest.retrieval import CANDIDATES_PER_LIST, Retriever
from catalog_ingest.settings import load_settings
from evals.loader import load_cases
from sample.build import build_sample_lake

K = 5


def first_tables(results: list[tuple[str, float, dict]], k: int) -> list[str]:
    """Distinct tables in the order their documents rank."""
    tables: list[str] = []
    for _, _, metadata in results:
        if metadata["table"] not in tables:
            tables.append(str(metadata["table"]))
    return tables[:k]


def recall(rankers: dict[str, Callable[[str], list[str]]], cases: list) -> dict[str, float]:
    found = dict.fromkeys(rankers, 0.0)
    for case in cases:
        gold = set(case.gold.tables)
        for name, rank in rankers.items():
            found[name] += len(gold & set(rank(case.questions[-1]))) / len(gold)
    return {name: total / len(cases) for name, total in found.items()}


def main(argv: list[str]) -> None:
    cases = [c for c in load_cases(subset=None) if c.category == "discovery" and c.gold.tables]
    with tempfile.TemporaryDirectory(prefix="lakescout-bench-") as tmp:
        settings = load_settings(data_dir=Path(tmp))
        build_sample_lake(settings.lake_dir)
        ingest(settings)
        retriever = Retriever(settings)
        indexes = retriever._indexes  # the same open indexes the hybrid search reads
        embed = retriever._embedder.embed_query
        rankers = {
            "hybrid (fused)": lambda q: [hit.full_name for hit in retriever.search(q, k=K)],
            "dense only": lambda q: first_tables(indexes.dense.query(embed(q), CANDIDATES_PER_LIST), K),
            "BM25 only": lambda q: first_tables(indexes.lexical.search(q, CANDIDATES_PER_LIST), K),
        }
        for name, value in recall(rankers, cases).items():
            print(f"{name:15} recall@{K} = {value:.3f} over {len(cases)} discovery questions")
        print("target: hybrid recall@5 at least 0.95")


if __name__ == "__main__":
    main(sys.argv[1:])
