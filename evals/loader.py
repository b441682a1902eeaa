"""Eval cases: YAML files parsed into validated models.

A mistake in a case file must be found before a run spends minutes on a server, and the message must say
which file and which case to fix; so every file is validated whole and all problems are reported at once.
The format is documented in ``evals/README.md``.
"""

from __future__ import annotations

import glob as globlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evals.facts import FACT_ARGUMENTS
from evals.teaching import TeachPair

CASES_DIR = Path(__file__).parent / "cases"
DEFAULT_GLOB = str(CASES_DIR / "*.yaml")

Category = Literal["discovery", "schema", "partitions", "stats", "history", "sql", "refusals", "multi-turn"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
Difficulty = Literal["easy", "medium", "hard"]


class CaseError(ValueError):
    """One or more cases are malformed; the message names each file and case id."""


FACT_FIELDS = ("table", "column", "which", "start", "end", "namespace", "tag", "by", "n", "days")
"""The arguments a fact may take, in the order labels show them."""


class Fact(BaseModel):
    """Something the answer must state: a literal (``text``, ``any_of``, ``number``) or a fact resolved from the
    catalog when the suite runs (``fact`` plus its arguments)."""

    model_config = ConfigDict(extra="forbid")

    fact: str | None = None
    table: str | None = None
    column: str | None = None
    which: Literal["current", "first"] | None = None
    start: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    end: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    """Inclusive day range of partition facts."""
    namespace: str | None = None
    tag: str | None = None
    by: Literal["rows", "bytes", "files", "snapshots", "columns"] | None = None
    """What ``largest_tables``/``smallest_tables`` rank by."""
    n: int | None = Field(default=None, ge=1)
    """How many tables a ranking names (default 1)."""
    days: int | None = Field(default=None, ge=0)
    """Days before today (UTC, the day the suite runs): 1 is yesterday."""
    text: str | None = None
    any_of: list[str] | None = None
    number: float | None = None
    tolerance: float | None = Field(default=None, ge=0)
    """Relative tolerance for numbers (default 1%)."""

    @model_validator(mode="after")
    def _one_kind(self) -> Fact:
        literals = [k for k in ("text", "any_of", "number") if getattr(self, k) is not None]
        if self.fact is None:
            if len(literals) != 1:
                raise ValueError("a fact needs exactly one of: fact, text, any_of, number")
            return self
        if literals:
            raise ValueError(f"'fact: {self.fact}' cannot also have {', '.join(literals)}")
        if self.fact not in FACT_ARGUMENTS:
            raise ValueError(f"unknown fact {self.fact!r}; known: {', '.join(sorted(FACT_ARGUMENTS))}")
        missing = [arg for arg in FACT_ARGUMENTS[self.fact] if getattr(self, arg) is None]
        if missing:
            raise ValueError(f"fact {self.fact!r} needs {', '.join(missing)}")
        return self

    def label(self) -> str:
        if self.fact is None:
            return f"literal {self.text or self.any_of or self.number}"
        args = ", ".join(f"{k}={v}" for k in FACT_FIELDS if (v := getattr(self, k)) is not None)
        return f"{self.fact}({args})"


class Gold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[str] = Field(default_factory=list)
    """Tables the answer should cite, as namespace.table."""
    facts: list[Fact] = Field(default_factory=list)
    sql: str | None = None
    """Gold SQL: its result is compared with the result of the SQL the answer drafted."""
    ordered: bool = False
    """Compare SQL results row by row in order (when the question asks for an order)."""
    refuse: bool = False
    """The request must be declined (unsafe, or not answerable from the lake)."""

    @model_validator(mode="after")
    def _something_to_check(self) -> Gold:
        if not (self.tables or self.facts or self.sql or self.refuse):
            raise ValueError("gold needs at least one of: tables, facts, sql, refuse")
        if self.refuse and (self.facts or self.sql):
            raise ValueError("a refusal case checks the refusal only: drop facts/sql")
        bad = [t for t in self.tables if not re.fullmatch(r"[\w\-]+(\.[\w\-]+)+", t)]
        if bad:
            raise ValueError(f"tables must be namespace.table: {', '.join(bad)}")
        return self


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    category: Category
    difficulty: Difficulty = "medium"
    question: str | None = None
    turns: list[str] | None = None
    """A conversation in one thread; the gold applies to the answer to the last turn."""
    gold: Gold
    k: int = Field(default=5, ge=1)
    """Recall is measured over the first k cited tables."""
    semantic_layer: bool = True
    """``semantic_layer: off`` asks with the lake's semantic layer switched off (the "before" of a teaching case)."""
    gate: bool = False
    """Part of the fast subset that runs with the tests (see thresholds.yaml)."""
    tags: list[str] = Field(default_factory=list)
    teach: list[TeachPair] = Field(default_factory=list)
    """Verified question->SQL pairs posted before the question and removed after it (evals.teaching)."""
    file: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _question_or_turns(self) -> Case:
        if (self.question is None) == (self.turns is None):
            raise ValueError("a case needs exactly one of: question, turns")
        if self.turns is not None and (len(self.turns) < 2 or not all(t.strip() for t in self.turns)):
            raise ValueError("turns needs at least two non-empty questions")
        if self.category == "multi-turn" and self.turns is None:
            raise ValueError("a multi-turn case needs turns")
        if self.category == "refusals" and not self.gold.refuse:
            raise ValueError("a refusals case needs gold.refuse: true")
        if self.category == "sql" and not self.gold.sql:
            raise ValueError("an sql case needs gold.sql")
        return self

    @property
    def questions(self) -> list[str]:
        return self.turns if self.turns is not None else [self.question or ""]


def parse_file(path: Path) -> tuple[list[Case], list[str]]:
    """Cases of one file, and the problems found (each naming the file and case)."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return [], [f"{path}: not valid YAML: {exc}"]
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        return [], [f"{path}: expected a mapping with a 'cases' list"]
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        return [], [f"{path}: 'defaults' must be a mapping"]
    cases, problems = [], []
    for position, raw in enumerate(data["cases"], start=1):
        where = f"{path}: case #{position}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        if "id" in raw:
            where = f"{path}: case {raw['id']!r}"
        try:
            cases.append(Case.model_validate({**defaults, **raw, "file": str(path)}))
        except ValidationError as exc:
            problems.extend(f"{where}: {describe_error(err)}" for err in exc.errors())
    return cases, problems


def describe_error(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def load_cases(pattern: str | None = None, *, subset: str | None = None) -> list[Case]:
    """Every case matching the glob (default: the bundled cases), validated; ``subset="fast"`` keeps the
    fast gate cases only. Raises ``CaseError`` listing every problem, duplicate ids across files included."""
    paths = sorted(Path(p) for p in globlib.glob(pattern or DEFAULT_GLOB, recursive=True))
    if not paths:
        raise CaseError(f"no case files match {pattern or DEFAULT_GLOB}")
    cases: list[Case] = []
    problems: list[str] = []
    for path in paths:
        found, bad = parse_file(path)
        cases.extend(found)
        problems.extend(bad)
    seen: dict[str, str] = {}
    for case in cases:
        if case.id in seen:
            problems.append(f"{case.file}: case {case.id!r}: id already used in {seen[case.id]}")
        seen.setdefault(case.id, case.file)
    if problems:
        raise CaseError(f"{len(problems)} problem(s) in eval cases:\n  " + "\n  ".join(problems))
    if subset == "fast":
        cases = [c for c in cases if c.gate]
    elif subset is not None:
        raise CaseError(f"unknown subset {subset!r}; known: fast")
    return cases
