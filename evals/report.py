"""Reports of a run: results.json, a Markdown summary, and a self-contained HTML page with charts.

Regressions against a previous run come first in both reports, because they are what a reviewer of a model,
prompt or metadata change needs to see. Charts are inline SVG so the page works offline and in CI artifacts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from evals.results import CaseResult, EvalResults

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Change:
    id: str
    category: str
    before: float
    after: float


@dataclass
class Comparison:
    previous: str
    regressions: list[Change] = field(default_factory=list)
    improvements: list[Change] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    category_delta: dict[str, float] = field(default_factory=dict)
    score_delta: float = 0.0


def compare(current: EvalResults, previous: EvalResults, label: str) -> Comparison:
    """Per case score changes (a case that stopped passing is a regression even if its score barely moved)."""
    before = {c.id: c for c in previous.cases}
    after = {c.id: c for c in current.cases}
    comparison = Comparison(previous=label, score_delta=current.summary.score - previous.summary.score)
    for case_id, now in after.items():
        then = before.get(case_id)
        if then is None:
            comparison.new.append(case_id)
        elif now.score < then.score or (then.passed and not now.passed):
            comparison.regressions.append(Change(case_id, now.category, then.score, now.score))
        elif now.score > then.score:
            comparison.improvements.append(Change(case_id, now.category, then.score, now.score))
    comparison.removed = sorted(set(before) - set(after))
    comparison.regressions.sort(key=lambda c: c.after - c.before)
    for name, summary in current.summary.categories.items():
        if name in previous.summary.categories:
            comparison.category_delta[name] = summary.score - previous.summary.categories[name].score
    return comparison


# --- charts ------------------------------------------------------------------------------------------


def bar_chart(items: list[tuple[str, float]], *, width: int = 560, bar_height: int = 22) -> Markup:
    """Horizontal bars of scores in [0, 1], labelled with the percentage."""
    label_width, gap = 110, 6
    height = len(items) * (bar_height + gap) + gap
    scale = width - label_width - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="score per category">']
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar_height + gap)
        hue = round(120 * max(0.0, min(1.0, value)))
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(1.0, value * scale):.1f}" height="{bar_height}" '
            f'fill="hsl({hue},55%,50%)"><title>{escape(label)}: {value:.1%}</title></rect>'
            f'<text x="{label_width + value * scale + 6:.1f}" y="{y + bar_height * 0.7:.1f}">{value:.0%}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram(values: list[float], *, bins: int = 12, width: int = 560, height: int = 180) -> Markup:
    """Latency distribution: counts per equal-width bin, axis labelled in seconds."""
    if not values:
        return Markup("<p>no latencies</p>")
    low, high = min(values), max(values)
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / step))] += 1
    plot_h, bottom, pad = height - 40, height - 22, 30  # pad: room for the first and last axis labels
    bar_w = (width - 2 * pad) / bins
    top = max(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="latency histogram">']
    for i, count in enumerate(counts):
        h = plot_h * count / top
        x = pad + i * bar_w
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{bottom - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="#4a7fb5">'
            f'<title>{low + i * step:.2f}-{low + (i + 1) * step:.2f} s: {count}</title></rect>'
        )
        if count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{bottom - h - 3:.1f}" text-anchor="middle">{count}</text>')
    for i in range(0, bins + 1, max(1, bins // 4)):
        x = pad + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{low + i * step:.2f}s</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --- writing -----------------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def failures_first(cases: list[CaseResult], comparison: Comparison | None) -> list[CaseResult]:
    """Failed cases, regressions before the rest, then by category."""
    regressed = {c.id for c in comparison.regressions} if comparison else set()
    failed = [c for c in cases if not c.passed]
    return sorted(failed, key=lambda c: (c.id not in regressed, c.category, c.id))


def environment() -> Environment:
    """Autoescape on for every HTML template (``report.html.j2``): answers, questions and failures carry
    catalog text. Only our own charts go in raw, as ``Markup``; Markdown templates are not HTML-escaped."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = pct
    return env


def write_reports(results: EvalResults, out_dir: Path, comparison: Comparison | None = None) -> dict[str, Path]:
    """results.json, summary.md and report.html in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "results.json", "markdown": out_dir / "summary.md", "html": out_dir / "report.html"}
    results.save(paths["json"])
    env = environment()
    context = {
        "r": results,
        "s": results.summary,
        "comparison": comparison,
        "failures": failures_first(results.cases, comparison),
    }
    paths["markdown"].write_text(env.get_template("summary.md.j2").render(**context))
    charts = {
        "categories": bar_chart([(name, c.score) for name, c in results.summary.categories.items()]),
        "latency": histogram([c.latency_s for c in results.cases if c.error is None]),
    }
    paths["html"].write_text(env.get_template("report.html.j2").render(**context, charts=charts))
    return paths
