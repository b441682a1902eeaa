"""Load on the API from a second process over loopback: /v1/search at 20 clients, /v1/chat at 10.

Starts ``lakescout serve`` on a free port (offline model, a throwaway key), drives it with httpx from this
process, bounded in both request count and time, and reports p50, p95, throughput and errors per endpoint.
Targets on 2 cores: search p95 under 50 ms, offline chat p95 under 500 ms, zero errors.

    python -m bench.bench_api --data-dir .lakescout        # an ingested data directory
    python -m bench.bench_api                              # builds and ingests the sample lake in a temp dir
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from api.auth import hash_api_key
from api.loopback import free_port, wait_http

SEARCHES = [
    "refunds by region", "daily revenue", "customer email", "ad spend by campaign", "support tickets",
    "orders", "subscription mrr", "fx rates", "page views by session", "pipeline runs that failed",
]
QUESTIONS = [
    "which table has refunds by region?", "where is daily revenue?", "what is the orders table partitioned by?",
    "which tables hold customer emails?", "when was the events table last updated?",
]
READY_SECONDS = 60.0
TARGET_P95_MS = {"healthz": 50.0, "search": 50.0, "chat": 500.0}
"""healthz is the floor: what this harness (httpx in one process, on the same cores) adds to any request."""


@dataclass
class Result:
    endpoint: str
    concurrency: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    throughput_rps: float
    target_p95_ms: float

    @property
    def passed(self) -> bool:
        return self.errors == 0 and self.p95_ms < self.target_p95_ms


def lakescout(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("lakescout")), *args]
    return subprocess.Popen(command, env={**os.environ, **(env or {})}, **kwargs)


def ensure_lake(data_dir: Path) -> None:
    if (data_dir / "records.sqlite").exists():
        return
    for step in (["demo-lake"], ["ingest"]):
        proc = lakescout("--data-dir", str(data_dir), *step, stdout=subprocess.DEVNULL)
        if proc.wait() != 0:
            raise SystemExit(f"lakescout {step[0]} failed")


async def drive(
    client: httpx.AsyncClient, endpoint: str, concurrency: int, total: int, seconds: float, warmup: int
) -> Result:
    """``concurrency`` clients share a budget of ``total`` requests, stopping early after ``seconds``."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0

    def request(i: int):
        if endpoint == "healthz":
            return client.get("/healthz")
        if endpoint == "search":
            return client.get("/v1/search", params={"q": SEARCHES[i % len(SEARCHES)], "k": 5})
        return client.post("/v1/chat", json={"message": QUESTIONS[i % len(QUESTIONS)]})

    # Warm every connection and server thread first: steady state is what is measured, not first use.
    for responses in [await asyncio.gather(*(request(i) for i in range(concurrency))) for _ in range(warmup)]:
        for response in responses:
            response.raise_for_status()

    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors
        while (i := next(counter)) < total and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                response = await request(i)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return Result(endpoint, concurrency, len(latencies), errors, round(cuts[49], 1), round(cuts[94], 1),
                  round(len(latencies) / elapsed, 1), TARGET_P95_MS[endpoint])


WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f\\n", summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.duration / 1e6))
end
"""
"""wrk's Lua hook: requests, errors, p50 and p95 in ms, seconds."""


def wrk_load(url: str, key: str, args: argparse.Namespace) -> list[Result]:
    """The same load from wrk, a C load generator: it costs the shared cores far less than httpx, so the
    figures are the server's. Search cycles through the same questions; chat posts one question."""
    paths = "\n".join(f'"/v1/search?q={q.replace(" ", "%20")}&k=5",' for q in SEARCHES)
    plans = {
        "healthz": (20, "", "/healthz"),
        "search": (20, f"local paths = {{{paths}}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n"
                       "  return wrk.format(nil, paths[i % #paths + 1])\nend\n", "/v1/search"),
        "chat": (10, 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                     f"wrk.body = '{json.dumps({'message': QUESTIONS[0]})}'\n", "/v1/chat"),
    }
    return [run_wrk(url + path, key, endpoint, clients, script, args.seconds / 3)
            for endpoint, (clients, script, path) in plans.items()]


def run_wrk(url: str, key: str, endpoint: str, clients: int, script: str, seconds: float) -> Result:
    """One wrk run of ``clients`` connections for ``seconds`` against ``url``, its requests shaped by the Lua
    ``script`` (empty: GET ``url``)."""
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / f"{endpoint}.lua"
        lua.write_text(script + WRK_REPORT)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{max(1, int(seconds))}s", "--timeout", "30s", "-s", str(lua),
             "-H", f"Authorization: Bearer {key}", url],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout
    requests, errors, p50, p95, elapsed = next(line for line in out.splitlines() if line.startswith("RESULT")).split()[1:]
    return Result(endpoint, clients, int(requests), int(errors), round(float(p50), 1), round(float(p95), 1),
                  round(int(requests) / float(elapsed), 1), TARGET_P95_MS[endpoint])


async def run_load(url: str, key: str, args: argparse.Namespace) -> list[Result]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:
        return [
            await drive(client, "healthz", 20, args.search_requests, args.seconds, warmup=2),
            await drive(client, "search", 20, args.search_requests, args.seconds, warmup=3),
            await drive(client, "chat", 10, args.chat_requests, args.seconds, warmup=2),
        ]


@contextmanager
def served(
    data_dir: Path, env: dict[str, str] | None = None, workers: int = 1, timeout: float = READY_SECONDS
) -> Iterator[tuple[str, str, int]]:
    """A ``lakescout serve`` over ``data_dir`` (offline model, a throwaway key, no rate limit) on a free port,
    ready (/readyz 200) for the block: yields its URL, key and process id; stopped after."""
    key, port = secrets.token_urlsafe(24), free_port()
    env = {
        "LAKESCOUT_API__API_KEYS": json.dumps({"bench": f"user:{hash_api_key(key)}"}),
        "LAKESCOUT_API__RATE_LIMIT_PER_MINUTE": "1000000",
        "LAKESCOUT_MODEL__NAME": "offline",
        "LAKESCOUT_API__WORKERS": str(workers),
        **(env or {}),
    }
    server = lakescout("--data-dir", str(data_dir), "serve", "--port", str(port), env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(url + "/readyz", server.pid, timeout=timeout, status=200)
        except RuntimeError:
            raise SystemExit(f"the server did not become ready within {timeout:.0f} s") from None
        yield url, key, server.pid
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def bench(args: argparse.Namespace) -> list[Result]:
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lakescout-bench-"))
    ensure_lake(data_dir)
    with served(data_dir, workers=args.workers) as (url, key, _):
        if shutil.which("wrk") and not args.httpx:
            print("load generator: wrk", flush=True)
            return wrk_load(url, key, args)
        print("load generator: httpx in this process (install Debian's wrk for figures that are the server's)", flush=True)
        return asyncio.run(run_load(url, key, args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="An ingested data directory (default: build the sample lake).")
    parser.add_argument("--search-requests", type=int, default=1000)
    parser.add_argument("--chat-requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="Time bound per endpoint.")
    parser.add_argument("--workers", type=int, default=1, help="Server worker processes.")
    parser.add_argument("--json", action="store_true", help="Print results as JSON.")
    parser.add_argument("--httpx", action="store_true", help="Drive the load with httpx even when wrk is installed.")
    args = parser.parse_args(argv)
    results = bench(args)
    if args.json:
        print(json.dumps([{**asdict(r), "passed": r.passed} for r in results], indent=2))
    else:
        print(f"{'endpoint':10}{'clients':>8}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}  target")
        for r in results:
            verdict = "ok" if r.passed else "MISSED"
            print(f"{r.endpoint:10}{r.concurrency:>8}{r.requests:>10}{r.errors:>8}{r.p50_ms:>9}{r.p95_ms:>9}"
                  f"{r.throughput_rps:>9}  p95 < {r.target_p95_ms:.0f} ms, 0 errors: {verdict}")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
