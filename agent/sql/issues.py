"""What validation finds: each issue with its code, sentence, identifier, suggestions and position in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the server imports these types for its SQL routes; sqlglot loads with the first query checked
    from sqlglot import exp


IssueCode = Literal[
    "unknown_table", "unknown_column", "missing_partition_filter", "unsafe_sql", "parse_error", "unresolved_names",
    "too_complex", "unknown_value",
]
Severity = Literal["error", "warning"]


@dataclass
class ValidationIssue:
    code: IssueCode
    message: str
    """The whole finding in one sentence, suggestions included."""
    identifier: str | None = None
    """The name at fault as the query wrote it (``sales.evnts``, ``emial``, ``address.cty``)."""
    suggestions: list[str] = field(default_factory=list)
    """Real names that could replace ``identifier``, best first."""
    line: int | None = None
    """1-based line of ``identifier`` (or of the problem) in the submitted SQL; None when unknown."""
    column: int | None = None
    """1-based column on ``line``."""
    severity: Severity = "error"


@dataclass
class ValidationResult:
    issues: list[ValidationIssue] = field(default_factory=list)
    """Errors and warnings, in the order found."""
    tables: list[str] = field(default_factory=list)
    """Catalog names (``namespace.table``) of the tables the query reads."""
    columns: list[str] = field(default_factory=list)
    """``namespace.table.column`` for every catalog column the query touches."""
    sql: str | None = None
    """The checked query as it would run (a family keeps its name: ``families`` says what it reads); None when
    the guard refused it."""
    families: list[dict[str, object]] = field(default_factory=list)
    """Per family the query names (``web.events_*``): how many members it reads, the first and last, of what."""

    @property
    def ok(self) -> bool:
        return not self.error_issues

    @property
    def error_issues(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warning_issues(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def errors(self) -> list[str]:
        return [i.message for i in self.error_issues]

    @property
    def warnings(self) -> list[str]:
        return [i.message for i in self.warning_issues]

    def summary(self) -> dict[str, object]:
        """What the agent's ``validate_sql`` tool shows: the sentences, not the positions."""
        summary = {"ok": self.ok, "errors": self.errors, "warnings": self.warnings, "tables": self.tables,
                   "columns": self.columns, "sql": self.sql}  # fmt: skip
        return summary | ({"families": self.families} if self.families else {})


def position(sql: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line_start = sql.rfind("\n", 0, offset) + 1
    return sql.count("\n", 0, offset) + 1, offset - line_start + 1


def node_position(sql: str, node: exp.Expression | None) -> tuple[int | None, int | None]:
    """Where the parser found ``node`` (an identifier, or the first identifier under it) in ``sql``."""
    if node is None:
        return None, None
    from sqlglot import exp

    identifiers = [node] if isinstance(node, exp.Identifier) else list(node.find_all(exp.Identifier))
    starts = [i.meta["start"] for i in identifiers if isinstance(i.meta.get("start"), int)]
    return position(sql, min(starts)) if starts else (None, None)


def as_written(sql: str, node: exp.Expression | None, name: str) -> str:
    """``name`` spelled as in the query text (qualifying folds case: ``Emial`` becomes ``emial``)."""
    from sqlglot import exp

    meta = node.meta if isinstance(node, exp.Identifier) else {}
    start, end = meta.get("start"), meta.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return name
    written = sql[start : end + 1].strip('"')
    return written if written.lower() == name.lower() else name


def text_position(sql: str, identifier: str | None) -> tuple[int | None, int | None]:
    """The first occurrence of ``identifier`` in ``sql`` as a whole name (any case, quoted or not, or its last
    part); for findings the parser kept no position of."""
    if not identifier:
        return None, None
    parts = identifier.split(".")
    variants = [r"\.".join(rf'"?{re.escape(p)}"?' for p in parts), rf'"?{re.escape(parts[-1])}"?']
    for variant in variants:
        if match := re.search(rf"(?<![\w$.]){variant}(?![\w$])", sql, re.IGNORECASE):
            return position(sql, match.start())
    return None, None
