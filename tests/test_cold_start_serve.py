"""`lakescout serve` imports the MCP SDK only when /mcp is first used, DuckDB's SQL gate and sqlglot only when SQL
is first checked, and pyarrow only when a table is profiled: the server gets ready (its catalog probe answered)
and searches without them, and the first MCP request then works."""

from __future__ import annotations

import json
import subprocess
import sys

SERVE_THEN_MCP = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from api.app import create_app
from catalog_ingest.settings import load_settings

settings = load_settings(data_dir=Path(sys.argv[1])).with_section("api", auth_enabled=False)
report = {}
with TestClient(create_app(settings), base_url="http://127.0.0.1:8321") as client:  # the host MCP expects
    report["readyz"] = client.get("/readyz").status_code
    report["search"] = [hit["full_name"] for hit in client.get("/v1/search", params={"q": "refunds by region"}).json()["hits"]]
    report["loaded_before"] = [name for name in ("mcp", "duckdb", "agent.sql.gate", "sqlglot", "pyarrow") if name in sys.modules]
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
                  "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    answer = client.post("/mcp", json=initialize, headers={"Accept": "application/json, text/event-stream"})
    report["mcp_status"] = answer.status_code
    report["mcp_names_lakescout"] = '"name":"lakescout"' in answer.text.replace(" ", "")
    report["mcp_after"] = "mcp" in sys.modules
print(json.dumps(report))
"""


def test_serve_is_ready_and_searches_before_importing_the_mcp_sdk_duckdb_sqlglot_or_pyarrow(sample_settings):
    command = [sys.executable, "-c", SERVE_THEN_MCP, str(sample_settings.data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["readyz"] == 200 and "finance.refunds" in report["search"]
    assert report["loaded_before"] == []
    assert (report["mcp_status"], report["mcp_names_lakescout"], report["mcp_after"]) == (200, True, True)
