"""Cold start on the sample lake: `lakescout ask` from a cold process and `lakescout serve` until /readyz
says ready, against the same question through the in-process API (agent already loaded) in the same run.

The CLI figure is what a user waits for: interpreter start, imports, settings, opening the indexes, loading
the embedding model, one agent turn. The server figure is from the process starting to the first /readyz
200 (index opened and complete, catalogs answering). The API figure is one agent turn on a warm process.
Targets: the CLI answers, and the server is ready, within 3 s of the command starting. Each cold figure is
also given in CPU seconds: on a loaded machine the wall time is mostly waiting for a core. With
``--baseline-src`` the cold figures are also taken, run for run in turn with ours, with another checkout's
sources (PYTHONPATH), so a change is compared with what it replaces under the same load. Each checkout's
packages are byte-compiled first, as installing them does (``compile_sources``).

    python -m bench.bench_cli --data-dir .lakescout     # an ingested data directory
    python -m bench.bench_cli                           # builds and ingests the sample lake in a temp dir
    python -m bench.bench_cli --baseline-src ../main    # and the same cold starts from ../main's sources
    python -m bench.bench_cli --scale-lake DIR          # also /readyz's catalog probe on a bench/scale_lake.py lake
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api.loopback import free_port
from bench.bench_api import ensure_lake, lakescout

QUESTION = "which table has refunds by region?"
PACKAGES = ("lakescout", "catalog_ingest", "agent", "api", "mcp_server", "evals", "prompts", "sample")
RUNS = 5
TARGET_SECONDS = 3.0
READY_TIMEOUT_SECONDS = 120.0
READY_POLL_SECONDS = 0.05


def compile_sources(checkout: Path) -> None:
    """Byte-compile a checkout's packages (``__pycache__``, as ``make`` and a wheel install do): an editable
    checkout under PYTHONDONTWRITEBYTECODE, as on the benchmark machine, is otherwise compiled again by every
    process, which no installed lakescout pays."""
    for package in PACKAGES:
        compileall.compile_dir(checkout / package, quiet=1)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_seconds(data_dir: Path, env: dict[str, str], question: str = QUESTION, expect: str | None = "finance.refunds") -> tuple[float, float]:
    """One cold `lakescout ask`: wall seconds from the start of the process to its exit, and the CPU seconds
    it used (what the wall time would be on an idle machine, less waiting on the disk). The answer must
    succeed and, when ``expect`` is given, name it."""
    command = [str(Path(sys.executable).with_name("lakescout")), "--data-dir", str(data_dir), "ask", question]
    started, cpu_before = time.perf_counter(), children_cpu_seconds()
    proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    elapsed, cpu = time.perf_counter() - started, children_cpu_seconds() - cpu_before
    if proc.returncode != 0 or (expect is not None and expect not in proc.stdout):
        raise SystemExit(f"lakescout ask failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return elapsed, cpu


def server_ready_seconds(data_dir: Path, env: dict[str, str], timeout: float = READY_TIMEOUT_SECONDS) -> tuple[float, float]:
    """One cold `lakescout serve` (auth off, offline model): wall seconds from the start of the process to the
    first /readyz 200, and the CPU seconds the server used by then and in shutting down."""
    env = {**env, "LAKESCOUT_API__AUTH_ENABLED": "false", "LAKESCOUT_MODEL__NAME": "offline"}
    port = free_port()
    started, cpu_before = time.perf_counter(), children_cpu_seconds()
    server = lakescout("--data-dir", str(data_dir), "serve", "--port", str(port), env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < timeout:
            if server.poll() is not None:
                raise SystemExit(f"lakescout serve exited ({server.returncode}) before it was ready")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1.0).status_code == 200:
                    return time.perf_counter() - started, cpu_since(cpu_before, server)
            except httpx.HTTPError:
                pass
            time.sleep(READY_POLL_SECONDS)
        raise SystemExit(f"the server was not ready within {timeout:.0f} s")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


def cpu_since(cpu_before: float, server: subprocess.Popen) -> float:
    """The stopped server's CPU seconds (children's usage is counted once they have been waited for)."""
    server.terminate()
    server.wait(timeout=30)
    return children_cpu_seconds() - cpu_before


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


def probe_seconds(lake: Path) -> None:
    """The catalog half of /readyz on a big lake (``bench/scale_lake.py``'s catalog): one reachability request
    against the table listing the probe used to make (the listing loads every table's metadata)."""
    from catalog_ingest.crawlers import crawler_for
    from catalog_ingest.settings import CatalogConfig

    properties = {"type": "sql", "uri": f"sqlite:///{lake.resolve()}/catalog.db",
                  "warehouse": f"file://{lake.resolve()}/warehouse"}  # fmt: skip
    crawler = crawler_for(CatalogConfig(name="scale", properties=properties), retries=0)
    try:
        crawler.check_reachable()  # the catalog object is built and the SQL engine connected once, before timing
        for what, probe in (("reachability request", crawler.check_reachable), ("table listing", crawler.list_tables)):
            started, cpu_before = time.perf_counter(), time.process_time()
            answer = probe()
            tables = f", {len(answer)} tables" if answer is not None else ""
            print(f"catalog probe, {what}: {time.perf_counter() - started:.3f} s wall, "
                  f"{time.process_time() - cpu_before:.3f} s CPU{tables}")
    finally:
        crawler.close()


def load_average() -> str:
    return ", ".join(f"{load:.1f}" for load in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an ingested data directory (default: a fresh sample lake)")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--baseline-src", type=Path, help="another checkout whose sources to time as the baseline")
    parser.add_argument("--scale-lake", type=Path, help="a bench/scale_lake.py lake to time the catalog probe on")
    args = parser.parse_args(argv)
    if args.scale_lake:
        probe_seconds(args.scale_lake)
    sources = {"this checkout": {}}
    compile_sources(Path(__file__).resolve().parents[1])
    if args.baseline_src:
        sources["baseline " + str(args.baseline_src)] = {"PYTHONPATH": str(args.baseline_src.resolve())}
        compile_sources(args.baseline_src.resolve())
    with tempfile.TemporaryDirectory(prefix="lakescout-bench-cli-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        ensure_lake(data_dir)
        asks = {name: [] for name in sources}
        servers = {name: [] for name in sources}
        for _ in range(args.runs):  # in turn, so both see the same load
            for name, env in sources.items():
                asks[name].append(cli_seconds(data_dir, env))
                servers[name].append(server_ready_seconds(data_dir, env))
        api = api_seconds(data_dir, args.runs)
    for name in sources:
        print(f"{name}:")
        print_cold("  `lakescout ask` answered", asks[name])
        print_cold("  `lakescout serve` /readyz ok", servers[name])
    cli_median = statistics.median(wall for wall, _ in asks["this checkout"])
    server_median = statistics.median(wall for wall, _ in servers["this checkout"])
    api_median = statistics.median(api)
    print(f"same question, in-process API: median {api_median * 1000:.0f} ms over {len(api)} turns")
    print(f"the CLI's start-up costs {cli_median - api_median:.2f} s of the {cli_median:.2f} s; load average {load_average()}")
    return 0 if max(cli_median, server_median) < TARGET_SECONDS else 1


def print_cold(what: str, runs: list[tuple[float, float]]) -> None:
    """Print the median wall and CPU seconds of cold runs against the target."""
    walls = [wall for wall, _ in runs]
    wall_median, cpu_median = statistics.median(walls), statistics.median(cpu for _, cpu in runs)
    print(f"{what}, cold process: median {wall_median:.2f} s (min {min(walls):.2f}, max {max(walls):.2f}, "
          f"{len(walls)} runs; target under {TARGET_SECONDS:.0f} s); CPU time median {cpu_median:.2f} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
