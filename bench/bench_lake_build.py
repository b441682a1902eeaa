"""Time building the default sample lake and a scaled one: ``python bench/bench_lake_build.py [SCALE_GB]``.

The default build runs in every test session, the scaled one feeds the crawl and query benchmarks, so both
numbers matter: seconds, Parquet bytes and write throughput.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sample.build import build_sample_lake


def timed_build(scale: float, lake_dir: Path | None = None) -> dict[str, float]:
    """Build into ``lake_dir`` (kept, for the query benchmark) or into a temporary folder."""
    if lake_dir is None:
        with tempfile.TemporaryDirectory(prefix="lakescout-bench-") as tmp:
            return timed_build(scale, Path(tmp) / "lake")
    started = time.perf_counter()
    lake = build_sample_lake(lake_dir, scale=scale)
    seconds = time.perf_counter() - started
    return {"scale_gb": scale, "seconds": seconds, "bytes": lake.total_bytes,
            "mb_per_s": lake.total_bytes / 1e6 / seconds}


def print_header() -> None:
    print(f"{'scale GB':>9} {'seconds':>8} {'MB':>9} {'MB/s':>7}")


def print_result(result: dict[str, float]) -> None:
    print(f"{result['scale_gb']:>9.2f} {result['seconds']:>8.1f} {result['bytes'] / 1e6:>9.1f} "
          f"{result['mb_per_s']:>7.1f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    scale = float(args[0]) if args else 1.0
    print_header()
    for result in map(timed_build, (0.0, scale)):
        print_result(result)


if __name__ == "__main__":
    main()
