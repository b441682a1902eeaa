"""Wrong-but-confident as its own eval metric: scored per case, counted per run, held by the gate."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from evals import gate, scorers
from evals.report import write_reports
from evals.results import CaseResult, EvalResults, summarize

WRONG = {"facts": 0.0}
RIGHT = {"facts": 1.0, "sql": 1.0}


def test_a_wrong_answer_is_confident_unless_labelled_partial_or_declined():
    assert scorers.wrong_confident(WRONG, "`a.b` has 12 rows.", None)
    assert scorers.wrong_confident({"sql": 0.0}, "Here is the query.", {"accounted": ["orders"], "unaccounted": []})
    assert not scorers.wrong_confident(WRONG, "`a.b` has 12 rows.", {"accounted": [], "unaccounted": ["failed"]})
    assert not scorers.wrong_confident(WRONG, "Partial answer: I could not map 'failed' to a filter.", None)
    assert not scorers.wrong_confident(WRONG, "There is no table `a.x`. The closest: `a.b`.", None)
    assert not scorers.wrong_confident(RIGHT, "`a.b` has 12 rows.", None)
    assert not scorers.wrong_confident({"recall": 0.0}, "`a.c` holds refunds.", None)


def results(*cases: tuple[str, dict[str, float], bool]) -> EvalResults:
    rows = [CaseResult(id=case_id, category="stats", difficulty="easy", questions=["q?"], checks=checks,
                       wrong_confident=confident).finish() for case_id, checks, confident in cases]  # fmt: skip
    now = datetime.now(timezone.utc)
    return EvalResults(started_at=now, finished_at=now, api_url="in-process", cases_glob="*", model="offline",
                       summary=summarize(rows), cases=rows)


def test_the_run_counts_them_in_results_and_reports(tmp_path: Path):
    run = results(("stats-a", WRONG, True), ("stats-b", WRONG, False), ("stats-c", RIGHT, False), ("stats-d", RIGHT, False))
    assert (run.summary.wrong_confident, run.summary.wrong_confident_rate) == (1, 0.25)
    paths = write_reports(run, tmp_path)
    assert EvalResults.load(paths["json"]).summary.wrong_confident == 1
    assert "| wrong but confident | 1 (25.0%) |" in paths["markdown"].read_text()
    assert "wrong but confident" in paths["html"].read_text()


def test_the_gate_fails_on_any_increase_and_update_never_raises_it_silently():
    recorded = gate.Thresholds(margin=0.05, overall=0.0, categories={"stats": 0.0}, wrong_confident=1)
    same = results(("stats-a", WRONG, True), ("stats-b", RIGHT, False)).summary
    more = results(("stats-a", WRONG, True), ("stats-b", WRONG, True)).summary
    fewer = results(("stats-a", RIGHT, False), ("stats-b", RIGHT, False)).summary
    assert gate.check(same, recorded) == []
    assert gate.check(more, recorded) == ["wrong-confident: 2 > 1 recorded"]
    kept, notes = gate.merge(recorded, gate.measured(more, 0.05), allow_lower=False)
    assert kept.wrong_confident == 1 and any("wrong-confident" in n for n in notes)
    assert gate.merge(recorded, gate.measured(fewer, 0.05), allow_lower=False)[0].wrong_confident == 0
