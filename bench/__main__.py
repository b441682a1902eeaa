"""`python -m bench [NAME ...]`: run the benchmarks (all by default) and print their figures."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = ["bench_ingest", "bench_retrieval", "bench_lake_build", "bench_sql", "bench_prompt", "bench_api"]


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names or BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        importlib.import_module(f"bench.{name}").main([])
        print(f"({name} took {time.monotonic() - started:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
