"""The quality gate: the fast subset of cases, held to per-category thresholds in ``thresholds.yaml``.

Thresholds are measured scores minus a small margin. ``--update`` re-measures and raises thresholds that the
current scores beat; lowering one needs ``--allow-lower``, so a worse model or prompt is never accepted
silently: the lowered values show up in the diff of thresholds.yaml. The count of wrong answers stated as fact
(``wrong_confident``) is held the other way: any increase over the recorded count fails the gate.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from catalog_ingest.settings import Settings, load_settings
from evals.results import Summary

THRESHOLDS = Path(__file__).parent / "thresholds.yaml"
SUBSET = "fast"


class Thresholds(BaseModel):
    margin: float = Field(default=0.05, ge=0, le=0.5)
    overall: float = Field(ge=0, le=1)
    categories: dict[str, float]
    wrong_confident: int = Field(default=0, ge=0)
    """Wrong answers stated as fact recorded for the subset: any increase fails the gate."""


def load_thresholds(path: Path = THRESHOLDS) -> Thresholds:
    return Thresholds.model_validate(yaml.safe_load(path.read_text()))


def check(summary: Summary, thresholds: Thresholds) -> list[str]:
    """Every category (and the overall score) below its threshold, in words; empty when the gate passes."""
    failures = []
    if summary.score < thresholds.overall:
        failures.append(f"overall: {summary.score:.3f} < {thresholds.overall:.3f}")
    for name, minimum in thresholds.categories.items():
        found = summary.categories.get(name)
        if found is None:
            failures.append(f"{name}: no cases ran (threshold {minimum:.3f})")
        elif found.score < minimum:
            failures.append(f"{name}: {found.score:.3f} < {minimum:.3f}")
    if summary.wrong_confident > thresholds.wrong_confident:
        failures.append(f"wrong-confident: {summary.wrong_confident} > {thresholds.wrong_confident} recorded")
    return failures


def floor2(value: float) -> float:
    return max(0.0, math.floor(round(value * 100, 6)) / 100)


def measured(summary: Summary, margin: float) -> Thresholds:
    return Thresholds(
        margin=margin,
        overall=floor2(summary.score - margin),
        categories={name: floor2(c.score - margin) for name, c in summary.categories.items()},
        wrong_confident=summary.wrong_confident,
    )


def merge(current: Thresholds, fresh: Thresholds, *, allow_lower: bool) -> tuple[Thresholds, list[str]]:
    """Fresh thresholds, keeping each current one that would go down unless lowering is allowed."""
    kept = []
    categories = dict(fresh.categories)
    for name, old in current.categories.items():
        if name in categories and categories[name] < old and not allow_lower:
            kept.append(f"{name}: kept {old:.2f} (measured {categories[name] + fresh.margin:.2f})")
            categories[name] = old
    overall = fresh.overall
    if overall < current.overall and not allow_lower:
        kept.append(f"overall: kept {current.overall:.2f} (measured {overall + fresh.margin:.2f})")
        overall = current.overall
    wrong_confident = fresh.wrong_confident
    if wrong_confident > current.wrong_confident and not allow_lower:
        kept.append(f"wrong-confident: kept {current.wrong_confident} (measured {wrong_confident})")
        wrong_confident = current.wrong_confident
    return Thresholds(margin=fresh.margin, overall=overall, categories=categories,
                      wrong_confident=wrong_confident), kept


def write_thresholds(thresholds: Thresholds, path: Path, model: str) -> None:
    header = (
        f"# Quality gate for the '{SUBSET}' subset (cases with `gate: true`), model '{model}'.\n"
        f"# Each value is the measured score minus the margin; `python -m evals.gate --update` re-measures,\n"
        f"# raising values freely and lowering them only with --allow-lower; wrong_confident (wrong answers stated as\n"
        f"# fact) fails the gate on any increase.\n"
    )
    path.write_text(header + yaml.safe_dump(thresholds.model_dump(), sort_keys=False))


def run_gate(settings: Settings, thresholds: Thresholds) -> tuple[Summary, list[str]]:
    """The fast subset against the in-process API; the summary and the thresholds it misses."""
    from evals.runner import run_eval

    results = run_eval(settings=settings, subset=SUBSET)
    return results.summary, check(results.summary, thresholds)


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    from evals.cli import prepare_sample_index

    parser = argparse.ArgumentParser(prog="python -m evals.gate", description="Run the eval gate.")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--thresholds", type=Path, default=THRESHOLDS)
    parser.add_argument("--update", action="store_true", help="re-measure and write the thresholds")
    parser.add_argument("--allow-lower", action="store_true", help="with --update: let thresholds go down")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    settings = load_settings(data_dir=args.data_dir)
    prepare_sample_index(settings, console)
    current = load_thresholds(args.thresholds)
    summary, failures = run_gate(settings, current)
    for name, c in summary.categories.items():
        console.print(f"{name:12} {c.score:.3f} (threshold {current.categories.get(name, 0):.2f})")
    if args.update:
        fresh, kept = merge(current, measured(summary, current.margin), allow_lower=args.allow_lower)
        write_thresholds(fresh, args.thresholds, settings.model.name)
        for line in kept:
            console.print(f"[yellow]{line}[/yellow]; pass --allow-lower to lower it")
        return 0
    for line in failures:
        console.print(f"[red]below threshold:[/red] {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
