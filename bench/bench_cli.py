"""Wall time of `lakescout ask` from a cold process on the sample lake, against the same question through the
in-process API (FastAPI's TestClient, agent already loaded) in the same run.

The CLI figure is what a user waits for: interpreter start, imports, settings, opening the indexes, loading
the embedding model, one agent turn. The API figure is one agent turn on a warm process. Target: the CLI
answers within 3 s of the command starting.

    python -m bench.bench_cli --data-dir .lakescout     # an ingested data directory
    python -m bench.bench_cli                           # builds and ingests the sample lake in a temp dir
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_api import ensure_lake

QUESTION = "which table has refunds by region?"
RUNS = 5
TARGET_SECONDS = 3.0


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_seconds(data_dir: Path) -> tuple[float, float]:
    """One cold `lakescout ask`: wall seconds from the start of the process to its exit, and the CPU seconds
    it used (what the wall time would be on an idle machine, less waiting on the disk)."""
    command = [str(Path(sys.executable).with_name("lakescout")), "--data-dir", str(data_dir), "ask", QUESTION]
    started, cpu_before = time.perf_counter(), children_cpu_seconds()
    proc = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    elapsed, cpu = time.perf_counter() - started, children_cpu_seconds() - cpu_before
    if proc.returncode != 0 or "finance.refunds" not in proc.stdout:
        raise SystemExit(f"lakescout ask failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return elapsed, cpu


def api_seconds(data_dir: Path, runs: int) -> list[float]:
    """The same question through the API in this process, after one warm-up turn."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from catalog_ingest.settings import load_settings

    settings = load_settings(data_dir=data_dir).with_section("api", auth_enabled=False)
    timings = []
    with TestClient(create_app(settings)) as client:
        for attempt in range(runs + 1):
            started = time.perf_counter()
            response = client.post("/v1/chat", json={"message": QUESTION})
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            assert "finance.refunds" in response.json()["tables_cited"]
            if attempt:
                timings.append(elapsed)
    return timings


def load_average() -> str:
    return ", ".join(f"{load:.1f}" for load in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an ingested data directory (default: a fresh sample lake)")
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lakescout-bench-cli-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        ensure_lake(data_dir)
        runs = [cli_seconds(data_dir) for _ in range(args.runs)]
        api = api_seconds(data_dir, args.runs)
    cli = [wall for wall, _ in runs]
    cli_median, api_median = statistics.median(cli), statistics.median(api)
    cpu_median = statistics.median(cpu for _, cpu in runs)
    print(f"`lakescout ask` cold process: median {cli_median:.2f} s (min {min(cli):.2f}, max {max(cli):.2f}, "
          f"{len(cli)} runs; target under {TARGET_SECONDS:.0f} s); CPU time median {cpu_median:.2f} s")
    print(f"same question, in-process API: median {api_median * 1000:.0f} ms over {len(api)} turns")
    print(f"the CLI's start-up costs {cli_median - api_median:.2f} s of the {cli_median:.2f} s; load average {load_average()}")
    return 0 if cli_median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
