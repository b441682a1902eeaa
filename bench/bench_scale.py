"""Ingest and search at scale on generated lakes shaped like a real catalog (``bench.scale_lake``).

Per size: lake creation time; full ingest time, tables/s, documents, peak RSS; index size on disk (Chroma,
vector file, embedding memo, BM25, record store); a no-change re-ingest; a re-ingest after 1% of tables changed; opening the retriever
(cold start), the first query and single-client search p50/p95; serving (``bench/scale_serve.py``: `lakescout
serve` ready, a first `lakescout ask`, /v1/search at 1 and 20 clients); then growth ratios between sizes. Each
phase runs in its own process (``bench/scale_phases.py``). ``--baseline DIR`` runs the same phases with the
code of another checkout (e.g. ``/work/main``, today's design) on the same lake, in the same run.

    python -m bench scale                      # 2,500 and 5,000 tables
    python -m bench.bench_scale --tables 10000 30000 [--baseline /path/to/checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import scale_serve
from bench.scale_lake import LakeShape, change_tables, generate_lake
from catalog_ingest.settings import CatalogConfig, load_settings

PHASES_SCRIPT = Path(__file__).with_name("scale_phases.py")
DEFAULT_SIZES = (2500, 5000)
CHANGED_SHARE = 0.01


def run_phase(phase: str, data_dir: Path, properties: dict[str, str], code_root: Path) -> dict[str, float]:
    env = os.environ | {"PYTHONPATH": str(code_root)}
    done = subprocess.run(
        [sys.executable, str(PHASES_SCRIPT), phase, str(data_dir), json.dumps(properties)],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{phase} phase failed ({code_root}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def folder_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6 if path.exists() else 0.0


def disk_mb(data_dir: Path, properties: dict[str, str]) -> dict[str, float]:
    settings = load_settings(data_dir=data_dir, catalogs=[CatalogConfig(name="scale", properties=properties)])
    sizes = {
        "chroma_mb": folder_mb(settings.chroma_path),
        "bm25_mb": sum(folder_mb(p) for p in settings.lexical_path.parent.glob(settings.lexical_path.name + "*")),
        "store_mb": sum(folder_mb(p) for p in settings.store_path.parent.glob(settings.store_path.name + "*")),
        "vector_file_mb": folder_mb(settings.vectors_path),
        "memo_mb": folder_mb(settings.embedding_memo_path),
    }
    return sizes | {"index_mb": sum(sizes.values())}


def measure_design(data_dir: Path, lake_tables: list[str], properties: dict[str, str], code_root: Path) -> dict[str, float]:
    """Full ingest, disk, no-change re-ingest and search for one design (the 1% change comes after all
    designs ran, so each re-ingests the same changed tables)."""
    full = run_phase("ingest", data_dir, properties, code_root)
    figures = {
        "ingest_s": full["seconds"], "tables_per_s": len(lake_tables) / full["seconds"],
        "documents": full["documents"], "ingest_peak_rss_mb": full["peak_rss_mb"], "ingest_cpu_s": full["cpu_s"],
    }
    figures |= disk_mb(data_dir, properties)
    again = run_phase("ingest", data_dir, properties, code_root)
    figures |= {"no_change_s": again["seconds"], "no_change_cpu_s": again["cpu_s"]}
    search = run_phase("search", data_dir, properties, code_root)
    figures |= {f"search_{key}": value for key, value in search.items()}
    figures |= scale_serve.measure(data_dir, properties, code_root)  # serve ready, first ask, search at 1 and 20 clients
    return figures


def measure_size(root: Path, tables: int, designs: dict[str, Path]) -> dict[str, dict[str, float]]:
    lake_dir = root / f"lake-{tables}"
    lake = generate_lake(lake_dir, LakeShape(tables=tables))
    print(f"  lake: {len(lake.tables)} tables, {lake.columns:,} columns ({lake.distinct_column_names:,} distinct names), "
          f"{lake.families:,} families, {lake.namespaces} namespaces, {lake.with_data} with data; "
          f"created in {lake.seconds:.1f}s ({len(lake.tables) / lake.seconds:.0f} tables/s)", flush=True)
    results = {name: measure_design(root / f"data-{name}-{tables}", lake.tables, lake.properties, code)
               for name, code in designs.items()}
    changed = change_tables(lake.properties, lake.tables, CHANGED_SHARE)
    for name, code in designs.items():
        again = run_phase("ingest", root / f"data-{name}-{tables}", lake.properties, code)
        results[name] |= {"changed_1pct_s": again["seconds"], "changed_1pct_cpu_s": again["cpu_s"]}
        results[name]["changed_tables"] = len(changed)
    for name, figures in results.items():
        print(f"  [{name}] " + ", ".join(f"{key} {value:,.2f}" if isinstance(value, float) else f"{key} {value:,}"
                                         for key, value in figures.items()), flush=True)
    return results


def print_growth(by_size: dict[int, dict[str, dict[str, float]]]) -> None:
    sizes = sorted(by_size)
    for small, large in zip(sizes, sizes[1:]):
        for design in by_size[small]:
            a, b = by_size[small][design], by_size[large][design]
            ratios = {key: b[key] / a[key] for key in ("ingest_s", "ingest_cpu_s", "ingest_peak_rss_mb", "index_mb", "no_change_s",
                                                       "changed_1pct_s", "search_open_seconds", "search_p95_ms") if a[key]}
            print(f"growth {small} -> {large} tables (x{large / small:.1f}) [{design}]: "
                  + ", ".join(f"{key} x{ratio:.2f}" for key, ratio in ratios.items()))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--baseline", type=Path, help="a checkout whose ingest and retriever to compare with")
    parser.add_argument("--keep", type=Path, help="write lakes and indexes here (kept) instead of a temp folder")
    args = parser.parse_args(argv)
    designs = {"this": Path(__file__).resolve().parents[1]}
    if args.baseline:
        designs["baseline"] = args.baseline.resolve()
    with tempfile.TemporaryDirectory(prefix="lakescout-scale-") as tmp:
        root = args.keep or Path(tmp)
        by_size = {}
        for tables in args.tables:
            print(f"scale: {tables:,} tables", flush=True)
            started = time.monotonic()
            by_size[tables] = measure_size(root, tables, designs)
            print(f"  ({tables:,} tables took {time.monotonic() - started:.0f}s)", flush=True)
        print_growth(by_size)


if __name__ == "__main__":
    main(sys.argv[1:])
