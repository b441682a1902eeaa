"""A cold `lakescout ask` loads only what the question needs: no Chroma client (the vector file serves
the search) and no SQL engine for a question that runs no SQL."""

from __future__ import annotations

import json
import subprocess
import sys

ASK_AND_LIST_MODULES = """
import json, runpy, sys
sys.argv = ["lakescout", "--data-dir", sys.argv[1], "ask", "--json", "which table has refunds by region?"]
try:
    runpy.run_module("lakescout", run_name="__main__")
except SystemExit as done:
    code = done.code
else:
    code = 0
heavy = ("chromadb", "duckdb", "agent.sql.engines")
print(json.dumps({"code": code, "loaded": [name for name in heavy if name in sys.modules]}), file=sys.stderr)
"""


def test_a_cold_ask_imports_neither_chroma_nor_the_sql_engines(sample_settings):
    command = [sys.executable, "-c", ASK_AND_LIST_MODULES, str(sample_settings.data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert any(table.endswith("finance.refunds") for table in answer["tables_cited"])

