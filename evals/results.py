"""Results of a run: per case what was asked, expected and answered, and the aggregates reports and the gate use.

Kept as pydantic models so ``results.json`` round-trips: a later run compares against it, and users can diff
two runs of different models or prompts.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from statistics import fmean
from typing import Any

from pydantic import BaseModel, Field

SCORE_CHECKS = ("recall", "facts", "sql", "refusal")
"""Checks that make up a case's score; precision is reported but does not fail a case."""


class CaseResult(BaseModel):
    id: str
    category: str
    difficulty: str
    file: str = ""
    gate: bool = False
    questions: list[str]
    expected: dict[str, Any] = Field(default_factory=dict)
    """tables, facts (as text), sql, refuse: what the gold asked for, with facts resolved."""
    answer: str = ""
    sql: str | None = None
    tables_cited: list[str] = Field(default_factory=list)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    """The last turn's tool trace: name, args, summary."""
    answers: list[str] = Field(default_factory=list)
    """Every turn's answer (multi-turn cases)."""
    checks: dict[str, float] = Field(default_factory=dict)
    """recall, precision, facts, sql, refusal: whichever the gold has, each in [0, 1]."""
    failures: list[str] = Field(default_factory=list)
    """What did not match, in words."""
    grounding: dict[str, Any] | None = None
    """The answer's ``grounding`` (accounted and unaccounted terms), when the API returns one."""
    wrong_confident: bool = False
    """Facts or SQL result wrong, and the answer neither labelled partial nor declined."""
    score: float = 0.0
    passed: bool = False
    error: str | None = None
    """The case could not be run or its gold not computed (an HTTP error, an unknown gold table)."""
    latency_s: float = 0.0
    n_tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def finish(self) -> CaseResult:
        """Score is the mean of the case's checks; a case passes when every check is perfect."""
        parts = [v for k, v in self.checks.items() if k in SCORE_CHECKS]
        self.score = 0.0 if self.error or not parts else fmean(parts)
        self.passed = self.error is None and bool(parts) and all(v >= 1.0 for v in parts)
        return self


class CategorySummary(BaseModel):
    n: int
    score: float
    pass_rate: float


class Summary(BaseModel):
    n: int
    score: float
    pass_rate: float
    errors: int
    categories: dict[str, CategorySummary]
    metrics: dict[str, float | None]
    wrong_confident: int = 0
    """Cases answered wrongly and stated as fact (not labelled partial, not declined)."""
    wrong_confident_rate: float = 0.0
    """recall@k, precision, facts, sql, refusal (means over the cases that have them), latency percentiles,
    tool calls and tokens per case."""


class EvalResults(BaseModel):
    started_at: datetime
    finished_at: datetime
    api_url: str
    cases_glob: str
    subset: str | None = None
    model: str | None = None
    summary: Summary
    cases: list[CaseResult]

    def save(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2))

    @classmethod
    def load(cls, path: Path) -> EvalResults:
        return cls.model_validate_json(path.read_text())


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def mean_or_none(values: list[float]) -> float | None:
    return round(fmean(values), 4) if values else None


def summarize(cases: list[CaseResult]) -> Summary:
    by_category: dict[str, list[CaseResult]] = {}
    for case in cases:
        by_category.setdefault(case.category, []).append(case)
    latencies = [c.latency_s for c in cases if c.error is None]
    metrics: dict[str, float | None] = {
        check: mean_or_none([c.checks[check] for c in cases if check in c.checks])
        for check in ("recall", "precision", "facts", "sql", "refusal")
    }
    metrics |= {
        "latency_p50_s": percentile(latencies, 0.5),
        "latency_p95_s": percentile(latencies, 0.95),
        "tool_calls_per_case": mean_or_none([float(c.n_tool_calls) for c in cases]),
        "tokens_per_case": mean_or_none([float(c.total_tokens) for c in cases]),
        "tokens_total": float(sum(c.total_tokens for c in cases)),
    }
    return Summary(
        n=len(cases),
        score=mean_or_none([c.score for c in cases]) or 0.0,
        pass_rate=mean_or_none([float(c.passed) for c in cases]) or 0.0,
        errors=sum(c.error is not None for c in cases),
        categories={
            name: CategorySummary(
                n=len(group),
                score=mean_or_none([c.score for c in group]) or 0.0,
                pass_rate=mean_or_none([float(c.passed) for c in group]) or 0.0,
            )
            for name, group in sorted(by_category.items())
        },
        metrics=metrics,
        wrong_confident=sum(c.wrong_confident for c in cases),
        wrong_confident_rate=round(sum(c.wrong_confident for c in cases) / len(cases), 4) if cases else 0.0,
    )
