"""A cold `lakescout ask` loads only what the question needs: no Chroma client (the vector file serves
the search), no SQL engine for a question that runs no SQL, no score bounds for its one search, and one
OpenBLAS thread. A searcher that builds its bounds later, or never, finds what one that built them as it
opened finds."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from test_dense_bounds import lake_vectors

from catalog_ingest.index import ExactVectors

ASK_AND_LIST_MODULES = """
import json, os, runpy, sys
from catalog_ingest import dense_bounds

os.environ.pop("OPENBLAS_NUM_THREADS", None)

dense_bounds.SMALLEST = 0  # the sample lake's few hundred vectors count as a lake big enough for bounds
built = []
build = dense_bounds.ScoreBounds.__init__
dense_bounds.ScoreBounds.__init__ = lambda self, matrix: built.append(len(matrix)) or build(self, matrix)
sys.argv = ["lakescout", "--data-dir", sys.argv[1], "ask", "--json", "which table has refunds by region?"]
try:
    runpy.run_module("lakescout", run_name="__main__")
except SystemExit as done:
    code = done.code
else:
    code = 0
heavy = ("chromadb", "duckdb", "agent.sql.engines")
loaded = [name for name in heavy if name in sys.modules]
blas = os.environ.get("OPENBLAS_NUM_THREADS")
print(json.dumps({"code": code, "loaded": loaded, "bounds_built": built, "blas_threads": blas}), file=sys.stderr)
"""


def test_a_cold_ask_imports_neither_chroma_nor_the_sql_engines_and_builds_no_bounds(sample_settings):
    command = [sys.executable, "-c", ASK_AND_LIST_MODULES, str(sample_settings.data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": [], "bounds_built": [], "blas_threads": "1"}, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert any(table.endswith("finance.refunds") for table in answer["tables_cited"])



@pytest.mark.parametrize("bounds", ["never", "background"])
def test_search_before_or_without_the_bounds_finds_what_the_bounds_find(bounds):
    built, queries = lake_vectors(20_000)
    later = ExactVectors(built._ids, built._metadatas, built._matrix, bounds)
    assert built._bounds is not None and (later._bounds is None or bounds == "background")
    namespaces = [None if i % 3 else f"ns{i % 7}" for i in range(len(queries))]
    expected = built.query_many(queries, 20, namespaces)
    assert [[doc for doc, _, _ in hits] for hits in later.query_many(queries, 20, namespaces)] == [
        [doc for doc, _, _ in hits] for hits in expected
    ]
    if bounds == "background":
        deadline = time.monotonic() + 60
        while later._bounds is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert later._bounds is not None
        assert later.query_many(queries, 20, namespaces) == expected
    else:
        assert later._bounds is None

