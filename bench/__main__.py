"""`python -m bench [--scale GB] [NAME ...]`: run the benchmarks (all by default) and print their figures.

The lake-build step keeps its scaled lake for the SQL benchmark, so the 1 GB lake is built once. `scale`
(ingest and search on generated lakes of ``--tables`` sizes, 2,500 and 5,000 by default) takes an hour or more
on 2 cores and runs only when named, as do `pooled` and `text2sql` (public text-to-SQL benchmarks).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def ingest(args: argparse.Namespace) -> None:
    from bench import bench_ingest

    bench_ingest.main([])


def retrieval(args: argparse.Namespace) -> None:
    from bench import bench_retrieval

    bench_retrieval.main([])


def discovery(args: argparse.Namespace) -> None:
    from bench import bench_discovery

    bench_discovery.main([])


def pooled(args: argparse.Namespace) -> None:
    from bench import bench_pooled

    bench_pooled.main([])


def text2sql(args: argparse.Namespace) -> None:
    from bench import bench_text2sql

    bench_text2sql.main([])


def prompt(args: argparse.Namespace) -> None:
    from bench import bench_prompt

    bench_prompt.main([])


def lake_and_sql(args: argparse.Namespace) -> None:
    from bench import bench_lake_build, bench_sql

    with tempfile.TemporaryDirectory(prefix="lakescout-bench-") as tmp:
        bench_lake_build.print_header()
        bench_lake_build.print_result(bench_lake_build.timed_build(0.0))
        lake_dir = Path(tmp) / "lake"
        bench_lake_build.print_result(bench_lake_build.timed_build(args.scale, lake_dir))
        bench_sql.main([str(lake_dir)])


def scale(args: argparse.Namespace) -> None:
    from bench import bench_scale

    bench_scale.main(["--tables", *map(str, args.tables)])


def api(args: argparse.Namespace) -> None:
    from bench import bench_api

    bench_api.main([])


def cli(args: argparse.Namespace) -> None:
    from bench import bench_cli

    bench_cli.main([])


BENCHMARKS: dict[str, Callable[[argparse.Namespace], None]] = {
    "ingest": ingest,
    "retrieval": retrieval,
    "discovery": discovery,
    "pooled": pooled,
    "text2sql": text2sql,
    "prompt": prompt,
    "lake_and_sql": lake_and_sql,
    "api": api,
    "cli": cli,
    "scale": scale,
}
ON_REQUEST = {"scale", "pooled", "text2sql"}
"""Benchmarks left out of a run that names none."""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--scale", type=float, default=1.0, help="GB of Parquet for the scaled lake")
    parser.add_argument("--tables", type=int, nargs="+", default=[2500, 5000], help="lake sizes for `scale`")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in args.names or [name for name in BENCHMARKS if name not in ON_REQUEST]:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        BENCHMARKS[name](args)
        print(f"({name} took {time.monotonic() - started:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
