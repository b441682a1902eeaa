"""Serving at scale on any ingested data directory: `lakescout serve` until /readyz answers 200, a first cold
`lakescout ask` (wall, from the process starting to its exit), and /v1/search latency p50/p95 with 1 and 20
concurrent clients over real HTTP against a running `lakescout serve`.

Targets (issue 14 item 5, at 10,000 tables): ready and first answer within 3 s, search p95 within 50 ms at
20 clients. Each cold figure is the median of ``--runs`` cold processes, in wall and CPU seconds (on a shared
machine wall time is mostly waiting for a core; the load average is printed with the figures). Search load
comes from wrk (Debian's ``wrk``, a C load generator, so the client costs the shared cores little) cycling
through thousands of distinct queries, more than the server's query-embedding cache holds, so every request
embeds its query as a new question would; each client count gets its own queries. The server's CPU seconds
per request are read from /proc, summed over its worker processes (``--workers``: uvicorn's, each with its own
copy of the index in memory and its own GIL).

    python -m bench.scale_serve DATA_DIR                          # a data dir over the sample lake
    python -m bench.scale_serve DATA_DIR --catalog-properties '{"type": "sql", "uri": "sqlite:///...", ...}'
    python -m bench.scale_serve DATA_DIR --code ../main           # the same with another checkout's sources
    python -m bench.scale_serve DATA_DIR --workers 2              # search served by two worker processes

A data directory is written to (a serving process registers its reader in the record store): copy one that
must stay as it is. The checkout's packages are byte-compiled first, as an install does (``bench_cli.compile_sources``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
from pathlib import Path

from bench.bench_api import run_wrk, served
from bench.bench_cli import cli_seconds, compile_sources, server_ready_seconds
from bench.scale_lake import properties_argument

QUESTION = "which table has the order amount by customer?"
TARGET_COLD_SECONDS = 3.0
TARGET_P95_MS = 50.0
CLIENTS = (1, 20)
THINK_MS = 250
"""The paced run's pause of each of its 20 clients between a response and its next request (wrk's ``delay``
hook): 20 people searching at about four requests a second each, short of the two cores' throughput, where
the closed-loop runs keep every client's next request waiting and so measure queueing at saturation."""
QUERIES_PER_RUN = 2500
"""Distinct queries each client count cycles through: past the 1,024 entries of the query-embedding cache,
so a cycle never finds its query cached."""
WARMUP_SECONDS = 2
READY_TIMEOUT_SECONDS = 900.0
"""Today's design opened a 10,000-table index in minutes."""
WORDS = (
    "order", "orders", "customer", "refund", "amount", "revenue", "daily", "monthly", "session", "event", "user",
    "country", "region", "store", "product", "price", "discount", "invoice", "tax", "payment", "fee", "currency",
    "shipment", "delivery", "status", "date", "campaign", "click", "impression", "spend", "device", "browser",
    "platform", "ticket", "reason", "agent", "subscription", "plan", "churn", "balance", "loan", "rate", "claim",
    "patient", "cost", "vehicle", "sensor", "temperature", "video", "views", "likes", "repo", "commit", "page",
    "url", "query", "traffic", "source", "medium", "email", "address", "phone", "account", "signup", "login",
    "warehouse", "inventory", "stock", "supplier", "employee", "salary", "department", "budget", "forecast",
    "latency", "error", "duration", "count", "total", "average", "created", "updated", "timestamp", "id",
)
TEMPLATES = ("{a} {b}", "{a} by {b}", "{a} {b} per {c}", "total {a} by {b} and {c}", "which table has {a} {b}",
             "{a} {b} {c}", "{a} of each {b}")


def distinct_queries(count: int, seed: int = 14) -> list[str]:
    """``count`` different search phrases in a lake's everyday words, the same for the same seed."""
    rng = random.Random(seed)
    queries: dict[str, None] = {}
    while len(queries) < count:
        a, b, c = rng.sample(WORDS, 3)
        queries[rng.choice(TEMPLATES).format(a=a, b=b, c=c)] = None
    return list(queries)


def cycling_script(queries: list[str], k: int = 10, think_ms: int = 0) -> str:
    """wrk's Lua: each request the next of ``queries`` as GET /v1/search, after a pause of ``think_ms`` (wrk
    times a request from when it is sent, so the pause is not counted in its latency)."""
    paths = ",\n".join(f'"/v1/search?q={query.replace(" ", "%20")}&k={k}"' for query in queries)
    pause = f"delay = function()\n  return {think_ms}\nend\n" if think_ms else ""
    return (f"local paths = {{{paths}}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n"
            "  return wrk.format(nil, paths[(i - 1) % #paths + 1])\nend\n" + pause)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a running process and of every process below it (Linux /proc), so a
    server's worker processes count too."""
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while being listed
            continue
        process = int(stat.parent.name)
        parents[process] = int(fields[1])
        seconds[process] = (int(fields[11]) + int(fields[12])) / ticks
    tree = {pid}
    while grown := {child for child, parent in parents.items() if parent in tree} - tree:
        tree |= grown
    return sum(seconds.get(member, 0.0) for member in tree)


def catalog_env(properties: dict[str, str] | None) -> dict[str, str]:
    """The environment that points lakescout at the lake's catalog (none: the sample lake in the data dir)."""
    if not properties:
        return {}
    return {"LAKESCOUT_CATALOGS": json.dumps([{"name": "scale", "properties": properties}])}


def search_latency(data_dir: Path, env: dict[str, str], seconds: float, workers: int = 1) -> dict[str, float]:
    """/v1/search p50/p95, throughput, errors and server CPU per request, for each of ``CLIENTS`` back to back
    and for ``max(CLIENTS)`` paced by ``THINK_MS`` (figures ``search_paced_*``)."""
    runs = [(f"c{clients}", clients, 0) for clients in CLIENTS] + [("paced", max(CLIENTS), THINK_MS)]
    queries = distinct_queries(QUERIES_PER_RUN * (len(runs) + 1))
    figures: dict[str, float] = {}
    with served(data_dir, env, workers, timeout=READY_TIMEOUT_SECONDS) as (url, key, pid):
        run_wrk(url + "/v1/search", key, "search", max(CLIENTS), cycling_script(queries[-QUERIES_PER_RUN:]), WARMUP_SECONDS)
        for n, (name, clients, think_ms) in enumerate(runs):
            cpu_before = process_cpu_seconds(pid)
            own = queries[n * QUERIES_PER_RUN : (n + 1) * QUERIES_PER_RUN]
            result = run_wrk(url + "/v1/search", key, "search", clients, cycling_script(own, think_ms=think_ms), seconds)
            cpu = process_cpu_seconds(pid) - cpu_before
            figures |= {
                f"search_{name}_p50_ms": result.p50_ms, f"search_{name}_p95_ms": result.p95_ms,
                f"search_{name}_rps": result.throughput_rps, f"search_{name}_errors": result.errors,
                f"search_{name}_requests": result.requests,
                f"search_{name}_server_cpu_ms": 1000 * cpu / max(result.requests, 1),
            }
    return figures


def measure(data_dir: Path, properties: dict[str, str] | None = None, code: Path | None = None,
            runs: int = 3, seconds: float = 15.0, workers: int = 1) -> dict[str, float]:
    """Every figure for one data directory, with ``code``'s sources when given (else this checkout's), search
    served by ``workers`` processes (the cold figures are one process's: a single-worker server's and the CLI's)."""
    if not shutil.which("wrk"):
        raise SystemExit("the search phase needs wrk (apt-get install wrk)")
    env = catalog_env(properties) | ({"PYTHONPATH": str(code.resolve())} if code else {})
    compile_sources(code.resolve() if code else Path(__file__).resolve().parents[1])
    readies, asks = [], []
    for _ in range(runs):  # in turn, so both see the same load
        readies.append(server_ready_seconds(data_dir, env, READY_TIMEOUT_SECONDS))
        asks.append(cli_seconds(data_dir, env, QUESTION, expect=None))
    figures = {
        "serve_ready_s": statistics.median(wall for wall, _ in readies),
        "serve_ready_cpu_s": statistics.median(cpu for _, cpu in readies),
        "first_ask_s": statistics.median(wall for wall, _ in asks),
        "first_ask_cpu_s": statistics.median(cpu for _, cpu in asks),
    }
    figures |= search_latency(data_dir, env, seconds, workers)
    return figures | {"workers": workers, "load_average": os.getloadavg()[0]}


def report(figures: dict[str, float]) -> str:
    """The figures against the targets, one line each."""
    lines = [
        f"`lakescout serve` until /readyz 200: {figures['serve_ready_s']:.2f} s wall, {figures['serve_ready_cpu_s']:.2f} s CPU "
        f"(target {TARGET_COLD_SECONDS:.0f} s)",
        f"first `lakescout ask`: {figures['first_ask_s']:.2f} s wall, {figures['first_ask_cpu_s']:.2f} s CPU "
        f"(target {TARGET_COLD_SECONDS:.0f} s)",
    ]
    runs = [(f"c{clients}", f"{clients} client(s)") for clients in CLIENTS]
    for name, label in runs + [("paced", f"{max(CLIENTS)} clients pausing {THINK_MS} ms")]:
        f = {key.removeprefix(f"search_{name}_"): value for key, value in figures.items() if key.startswith(f"search_{name}_")}
        lines.append(f"/v1/search, {label}: p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms, "
                     f"{f['rps']:.0f} req/s, {f['requests']:.0f} requests, {f['errors']:.0f} errors, "
                     f"server {f['server_cpu_ms']:.1f} ms CPU per request (target p95 {TARGET_P95_MS:.0f} ms at 20)")
    lines.append(f"{figures['workers']:.0f} worker process(es); load average {figures['load_average']:.1f} on {os.cpu_count()} cores")
    return "\n".join(lines)


def met(figures: dict[str, float]) -> bool:
    return (max(figures["serve_ready_s"], figures["first_ask_s"]) <= TARGET_COLD_SECONDS
            and figures[f"search_c{max(CLIENTS)}_p95_ms"] <= TARGET_P95_MS)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_serve", description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="an ingested data directory (it is written to: copy one to keep)")
    parser.add_argument("--catalog-properties", type=properties_argument,
                        help="the lake's catalog properties: a JSON object, or a JSON file holding one")
    parser.add_argument("--code", type=Path, help="another checkout whose sources serve and answer")
    parser.add_argument("--runs", type=int, default=3, help="cold processes per cold figure")
    parser.add_argument("--seconds", type=float, default=15.0, help="wrk run per client count")
    parser.add_argument("--workers", type=int, default=1, help="worker processes serving the search runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = measure(args.data_dir, args.catalog_properties, args.code, args.runs, args.seconds, args.workers)
    print(json.dumps(figures) if args.json else report(figures))
    return 0 if met(figures) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
