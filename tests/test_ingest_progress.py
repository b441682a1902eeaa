"""`lakescout ingest` with stderr a pipe: progress lines every few seconds with tables, rate, ETA and documents."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog

PROGRESS_LINE = re.compile(
    r"^ingest: (?P<done>[\d,]+)/(?P<total>[\d,]+) tables \(\d+%\), (?P<rate>[\d.]+) tables/s, "
    r"ETA (?P<eta>\S+), (?P<documents>[\d,]+) documents embedded(, embedding [\d,]+/[\d,]+ texts)?$"
)
TABLES = 24


def wide_catalog(root: Path) -> dict[str, str]:
    """A catalog of ``TABLES`` tables of 40 described columns each: enough embedding for several lines."""
    root.mkdir()
    properties = {"type": "sql", "uri": f"sqlite:///{root / 'catalog.db'}", "warehouse": f"file://{root / 'wh'}"}
    catalog = SqlCatalog("wide", **properties)
    catalog.create_namespace("events")
    for t in range(TABLES):
        fields = [pa.field(f"measure_{t}_{c}", pa.float64(), metadata={"doc": f"measure {c} of table {t}"}) for c in range(40)]
        catalog.create_table(f"events.table_{t}", schema=pa.schema(fields))
    return properties


def int_of(text: str) -> int:
    return int(text.replace(",", ""))


def test_ingest_without_a_terminal_prints_progress_lines(tmp_path):
    properties = wide_catalog(tmp_path / "lake")
    env = os.environ | {
        "LAKESCOUT_CATALOGS": json.dumps([{"name": "wide", "properties": properties}]),
        "LAKESCOUT_INGEST__PROGRESS_SECONDS": "0.05",
    }
    command = [sys.executable, "-m", "lakescout", "--data-dir", str(tmp_path / "data"), "ingest"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("ingest: ")]
    matches = [PROGRESS_LINE.match(line) for line in lines if not line.startswith("ingest: listing")]
    assert len(matches) >= 3 and all(matches), lines
    counts = [int_of(m["done"]) for m in matches]
    assert counts == sorted(counts) and {int_of(m["total"]) for m in matches} == {TABLES}
    last = matches[-1]
    assert counts[-1] == TABLES and last["eta"] == "0s" and float(last["rate"]) > 0
    embedded = re.search(r"(\d+) documents embedded in", done.stdout)
    assert embedded and int_of(last["documents"]) == int(embedded[1]) > TABLES * 40
    assert any(", embedding " in line for line in lines), "the lines move while a group is embedded"
