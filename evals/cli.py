"""``lakescout eval`` (and ``python -m evals``): run the suite, write the reports, compare with the last run.

Exit codes: 0 the suite ran (scores are measurements; the gate is what fails on them), 1 it could not run
(bad case files, no server, no index, a catalog that cannot be opened), 2 bad configuration; the reason is
one ``error:`` line on stderr, as from every other lakescout command.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from rich.console import Console
from rich.table import Table

from catalog_ingest.crawlers.base import CatalogUnreachable
from catalog_ingest.settings import ConfigError, Settings, load_settings
from evals import report
from evals.loader import CaseError
from evals.results import EvalResults
from evals.runner import EvalError, run_eval

PREVIOUS = "previous-results.json"


def prepare_sample_index(settings: Settings, console: Console) -> None:
    """Without an index, build and ingest the sample lake when it is the configured catalog, so
    ``make eval`` works on a fresh clone; any other catalog must be ingested by its owner."""
    from catalog_ingest.store import RecordStore

    if RecordStore.published_at(settings.store_location) is not None:
        return
    if settings.catalogs:
        raise EvalError(f"no index in {settings.data_dir}; run `lakescout ingest` first")
    from catalog_ingest.ingest import ingest
    from sample.build import build_sample_lake
    from sample.layer import install_sample_layer

    if not (settings.lake_dir / "catalog.db").exists():
        console.print(f"building the sample lake in {settings.lake_dir}")
        build_sample_lake(settings.lake_dir)
        install_sample_layer(settings.data_dir)
    console.print("ingesting the sample lake")
    ingest(settings)


def failed(console: Console, error: Exception, code: int) -> int:
    """Say why the suite could not run, as the ``lakescout`` command does: ``error: ...``, unwrapped."""
    console.print(f"error: {error}", markup=False, highlight=False, soft_wrap=True)
    return code


def print_summary(results: EvalResults, console: Console) -> None:
    table = Table(title=f"eval: {results.summary.score:.1%} over {results.summary.n} cases")
    for column in ("category", "cases", "score", "passed"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, c in results.summary.categories.items():
        table.add_row(name, str(c.n), f"{c.score:.1%}", f"{c.pass_rate:.1%}")
    console.print(table)


def run(
    api: str | None = None,
    api_key: str | None = None,
    cases: str | None = None,
    concurrency: int = 4,
    out: Path | None = None,
    compare: Path | None = None,
    *,
    subset: str | None = None,
    settings: Settings | None = None,
    console: Console | None = None,
) -> int:
    """Run the suite and write results.json, summary.md and report.html to ``out`` (default
    DATA_DIR/eval). Compares with ``compare`` (a results.json), else with the previous results in ``out``."""
    console = console or Console(stderr=True)
    try:
        settings = settings or load_settings()
        if api is None:
            prepare_sample_index(settings, console)
        results = run_eval(api, api_key, cases, concurrency, settings=settings, subset=subset, console=console)
    except ConfigError as exc:
        return failed(console, exc, 2)
    except (CaseError, EvalError, CatalogUnreachable) as exc:
        return failed(console, exc, 1)
    out = out or settings.data_dir / "eval"
    out.mkdir(parents=True, exist_ok=True)
    if compare is None and (out / "results.json").exists():
        shutil.copyfile(out / "results.json", out / PREVIOUS)
        compare = out / PREVIOUS
    comparison = None
    if compare is not None:
        try:
            comparison = report.compare(results, EvalResults.load(compare), str(compare))
        except (OSError, ValueError) as exc:
            console.print(f"[yellow]not compared:[/yellow] {compare}: {exc}", highlight=False)
    paths = report.write_reports(results, out, comparison)
    print_summary(results, console)
    if comparison and comparison.regressions:
        console.print(f"[red]{len(comparison.regressions)} regression(s)[/red] against {compare}")
    console.print(f"reports: {paths['markdown']}, {paths['html']}, {paths['json']}", highlight=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Score lakescout's answers.")
    parser.add_argument("--api", help="URL of a running lakescout API (default: start one in-process)")
    parser.add_argument("--api-key", help="Bearer key for --api")
    parser.add_argument("--cases", help="glob of case files (default: the bundled cases)")
    parser.add_argument("--subset", choices=["fast"], help="only the fast gate cases")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--out", type=Path, help="report folder (default DATA_DIR/eval)")
    parser.add_argument("--compare", type=Path, help="a previous results.json")
    parser.add_argument("--data-dir", type=Path, help="lakescout data directory (lake, index)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(data_dir=args.data_dir)
    except ConfigError as exc:
        return failed(Console(stderr=True), exc, 2)
    return run(args.api, args.api_key, args.cases, args.concurrency, args.out, args.compare, subset=args.subset,
               settings=settings)
