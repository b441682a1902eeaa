"""Wrong-but-confident on public text-to-SQL questions, executed: Spider 1.0 dev and BIRD mini-dev over a real lake.

Usage: python -m bench.bench_text2sql [DATA_DIR] [--cache DIR] [--limit N] [--tuning-only] [--json] [--show N]
       [--save FILE]

The pooled catalog of ``bench.bench_pooled`` (every table of both benchmarks, one namespace per database, one
pyiceberg SQL catalog), with seeded synthetic rows in the tables of the databases that have questions
(``bench.text2sql_lake``) and some of those databases left out entirely, ingested by lakescout's own ingest.
Every question is asked with ``run=true`` and no database, through ``LakeAgent.ask`` with the configured
model (offline by default): the path of ``POST /v1/ask`` and ``lakescout ask --run --json``.

Each answer is declined, partial (its grounding has unaccounted terms, or it says it is partial) or
confident; a confident answer without result rows (a table listing) is counted apart, as ``no_result``. A
confident answer with rows is right when its result rows are the gold SQL's rows (run in DuckDB over the
same rows, transpiled from SQLite with sqlglot): the same multiset of rows of values, column names ignored,
in order only when the gold SQL orders. Any other is wrong-but-confident, and so is every
result given to a question whose database is not in the lake. Questions are split by a hash of their id
(``bench_pooled.Question.held_back``, 30%): tune on the tuning part only; ``--show`` prints tuning-part
wrong-but-confident answers, never held-back ones. The catalog and its ingest are cached under ``--cache``,
keyed by the data and by this generator's source.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from pydantic_core import to_jsonable_python

from agent.context import AgentContext
from agent.service import LakeAgent
from bench import text2sql_lake
from bench.bench_pooled import BENCHMARKS, REPO, Question, build_catalog, default_data_dir, iceberg_schema
from bench.bench_pooled import ingested_settings, load_questions
from bench.text2sql_lake import SyntheticLake, gold_duckdb
from evals.scorers import declines, labelled_partial, results_match

OUTCOMES = ("correct", "wrong_confident", "no_result", "partial", "declined")
"""``no_result``: neither declined nor partial, but no rows either (a list of tables for a question about data)."""
CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)


@dataclass
class Outcome:
    question: Question
    answerable: bool
    outcome: str
    """One of ``OUTCOMES``."""
    why: str = ""
    answer: str = ""
    sql: str | None = None


def generator_key() -> str:
    """The cache folder's name: a hash of the row generator's source, so a change to it rebuilds the lake."""
    return hashlib.sha256(Path(text2sql_lake.__file__).read_bytes()).hexdigest()[:12]


def gold_database(lake: SyntheticLake) -> duckdb.DuckDBPyConnection:
    """The lake's rows in an in-memory DuckDB, one schema per database; SQLite's loose typing allowed."""
    connection = duckdb.connect()
    connection.execute("SET old_implicit_casting = true")
    for namespace, database in lake.databases.items():
        connection.execute(f'CREATE SCHEMA "{namespace}"')
        for table in database.tables.values():
            rows = database.rows(table, iceberg_schema(table))
            connection.register("incoming", rows)
            connection.execute(f'CREATE TABLE "{namespace}"."{table["table"]}" AS SELECT * FROM incoming')
            connection.unregister("incoming")
    return connection


def gold_result(connection: duckdb.DuckDBPyConnection, lake: SyntheticLake, question: Question) -> tuple[dict, bool]:
    """The gold SQL's columns and rows (JSON values, as an answer's), and whether they are ordered."""
    columns = {c for names in lake.databases[question.namespace].columns().values() for c in names}
    sql, ordered = gold_duckdb(question.gold_sql, columns)
    connection.execute(f'USE "{question.namespace}"')
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    return {"columns": names, "rows": to_jsonable_python(cursor.fetchall())}, ordered


def stance(answer: str, grounding: dict[str, Any] | None) -> str:
    """partial, declined or confident; a decline is read in the text outside its SQL blocks."""
    if labelled_partial(answer, grounding):
        return "partial"
    return "declined" if declines(CODE_BLOCK.sub(" ", answer)) else "confident"


def judge(answer: dict[str, Any], gold: tuple[dict, bool] | None) -> tuple[str, str]:
    """(outcome, why) of one answer (``AgentAnswer`` as JSON); ``gold`` is None when the lake cannot answer."""
    said = stance(answer["answer"], answer.get("grounding"))
    if said != "confident":
        return said, ""
    result = answer.get("result")
    if not result or "rows" not in result:
        return "no_result", ""
    if gold is None:
        return "wrong_confident", "a result, but its database is not in the lake"
    same, why = results_match(gold[0], {"columns": result.get("columns", []), "rows": result["rows"]}, ordered=gold[1])
    return ("correct", why) if same else ("wrong_confident", why)


def ask_all(agent: LakeAgent, questions: list[Question], lake: SyntheticLake,
            save: Path | None = None) -> tuple[list[Outcome], int]:
    """Every question's outcome, and how many were skipped because their gold SQL does not run; with ``save``,
    each tuning-part outcome is written to that file (JSON lines) as it comes."""
    connection = gold_database(lake)
    outcomes, skipped = [], 0
    for n, question in enumerate(questions, start=1):
        answerable = question.namespace not in lake.left_out
        gold = None
        if answerable:
            try:
                gold = gold_result(connection, lake, question)
            except Exception:  # noqa: BLE001 - a gold query SQLite runs that DuckDB does not: not scored
                skipped += 1
                continue
        answer = agent.ask(question.text, run=True).model_dump(mode="json")
        outcome, why = judge(answer, gold)
        outcomes.append(Outcome(question, answerable, outcome, why, answer["answer"], answer.get("sql")))
        if save is not None and not question.held_back:
            with save.open("a", encoding="utf-8") as saved:
                saved.write(json.dumps({"benchmark": question.benchmark, "id": question.id, "question": question.text,
                                        "gold_sql": question.gold_sql, "answerable": answerable, "outcome": outcome,
                                        "why": why, "sql": answer.get("sql"), "answer": answer["answer"],
                                        "grounding": answer.get("grounding")}) + "\n")
        if n % 100 == 0:
            print(f"  {n} of {len(questions)} asked", file=sys.stderr, flush=True)
    return outcomes, skipped


def figures(outcomes: list[Outcome]) -> dict[str, Any]:
    counts = Counter(o.outcome for o in outcomes)
    total = len(outcomes)
    return {"n": total, **{k: counts[k] for k in OUTCOMES},
            **{f"{k}_pct": round(100 * counts[k] / total, 1) if total else 0.0 for k in OUTCOMES}}  # fmt: skip


def report(outcomes: list[Outcome], parts: tuple[bool, ...]) -> dict[str, dict[str, Any]]:
    """Figures per set (each benchmark's answerable questions, the unanswerable ones, all) and part."""
    sets = {
        **{b: lambda o, b=b: o.answerable and o.question.benchmark == b for b in BENCHMARKS},
        "unanswerable": lambda o: not o.answerable,
        "all": lambda o: True,
    }
    table = {}
    for held_back in parts:
        part = "held_back" if held_back else "tuning"
        for name, member in sets.items():
            table[f"{part}/{name}"] = figures([o for o in outcomes if o.question.held_back == held_back and member(o)])
    return table


def print_table(table: dict[str, dict[str, Any]]) -> None:
    print(f"{'part/set':24} {'n':>5} " + " ".join(f"{k.replace('_', '-'):>15}" for k in OUTCOMES))
    for name, row in table.items():
        cells = " ".join(f"{row[k]:>5} ({row[k + '_pct']:5.1f}%)" for k in OUTCOMES)
        print(f"{name:24} {row['n']:>5} {cells}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_text2sql", description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=default_data_dir())
    parser.add_argument("--cache", type=Path, default=REPO / ".lakescout" / "bench-text2sql")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions of each part (0: all)")
    parser.add_argument("--tuning-only", action="store_true", help="ask the tuning part only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show", type=int, default=0, help="print this many tuning-part wrong-but-confident answers")
    parser.add_argument("--save", type=Path, help="write each tuning-part answer and its outcome to this JSON-lines file")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not (args.data_dir / BENCHMARKS[0] / "questions.jsonl").is_file():
        sys.exit(f"no benchmark data at {args.data_dir}: pass the folder holding {' and '.join(BENCHMARKS)}")

    lake = SyntheticLake.of(args.data_dir)

    def build(data_dir: Path, lake_dir: Path) -> None:
        build_catalog(data_dir, lake_dir, rows=lake.table_rows, left_out=lake.left_out)

    settings = ingested_settings(args.data_dir, args.cache / generator_key(), build)
    parts = (False,) if args.tuning_only else (False, True)
    questions, every_question = [], load_questions(args.data_dir)
    for held_back in parts:
        part = [q for q in every_question if q.held_back == held_back]
        questions += part[: args.limit] if args.limit else part
    started, cpu = time.monotonic(), time.process_time()
    with tempfile.TemporaryDirectory() as threads:
        agent = LakeAgent(AgentContext.from_settings(settings), checkpointer=Path(threads) / "threads.sqlite")
        outcomes, skipped = ask_all(agent, questions, lake, args.save)
        agent.close()
    table = report(outcomes, parts)
    if args.json:
        print(json.dumps({"figures": table, "gold_not_run": skipped, "left_out": sorted(lake.left_out)}, indent=2))
    else:
        print(f"{len(outcomes)} questions asked with run=true, no database given ({skipped} skipped: their gold SQL "
              f"does not run in DuckDB); left out of the lake: {', '.join(sorted(lake.left_out))}")
        print_table(table)
        print(f"{time.monotonic() - started:.0f} s wall, {time.process_time() - cpu:.0f} CPU-s")
    shown = [o for o in outcomes if o.outcome == "wrong_confident" and not o.question.held_back]
    for o in shown[: args.show]:
        print(f"\n--- {o.question.benchmark} {o.question.id} ({o.why}) {o.question.text}\n"
              f"gold: {o.question.gold_sql}\nsql:  {o.sql}\n{o.answer[:600]}")


if __name__ == "__main__":
    main()
