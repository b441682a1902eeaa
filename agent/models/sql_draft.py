"""Simple SQL drafts from a question and the described tables: filters, counts/sums/averages by group,
top-N over one table, and joins along obvious key columns (``user_id`` in both, or ``user_id`` -> ``users.id``).

Two steps, each small: ``parse_request`` reads what is asked (measure, groups, time grain, period, top N,
equality filters) from the words alone; ``draft_sql`` maps those words onto real columns of the tables
``describe_table`` returned and writes DuckDB SQL. ``repair`` applies a validator's "did you mean" hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from agent.models.language import (
    Period,
    content_words,
    grain_of,
    layer_rank,
    period_of,
    related,
    stem,
    strip_grain,
)

NUMERIC = re.compile(r"^(tinyint|smallint|int|integer|long|bigint|hugeint|float|double|real|decimal|numeric)")
TEMPORAL = re.compile(r"^(date|timestamp)")
END = r"(?=\s+(?:by|per|for|in|where|over|across|of|from|during|since|last|this|between|grouped|and)\b|\s*[^\w\s]|$)"
MEASURES = [
    ("avg", re.compile(rf"\b(?:average|avg|mean)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("min", re.compile(rf"\b(?:min|minimum|lowest|smallest)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("max", re.compile(rf"\b(?:max|maximum|highest|largest|biggest)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("total", re.compile(rf"\b(?:sum|total)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("distinct", re.compile(rf"\b((?:unique|distinct|active)\s+[a-z_]+){END}")),
    ("count", re.compile(rf"\b(?:count|number)\s+(?:of\s+)?(?:the\s+)?(?:all\s+)?([a-z_ ]+?){END}")),
    ("count", re.compile(rf"\bhow many\s+([a-z_ ]+?){END}")),
]
TOP = re.compile(r"\btop\s*(\d+)?\s+([a-z_]+)(?:\s+by\s+([a-z_ ]+?))?" + END)
GROUP = re.compile(r"\b(?:by|per|for each|grouped by|group by|across)\s+([a-z_, ]+?)" + END.replace("|and)", ")"))
RUN_WORDS = re.compile(r"--run\b|\b(?:and\s+)?(?:run|execute)(?:\s+(?:it|that|this|the query))?\b")
EQUALS = re.compile(r"\bwhere\s+([a-z_][\w.]*)\s*(?:=|==|is|equals)\s*(?:'([^']*)'|\"([^\"]*)\"|([\w\-.]+))")
AGGREGATES = {"count": "COUNT", "distinct": "COUNT", "total": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX"}
FILLER = frozenset({"sql", "query", "write", "draft", "run", "execute", "it", "number", "count", "result", "results"})


@dataclass
class Request:
    agg: str = "count"
    """count, distinct, total (a sum, or a count when nothing numeric matches), avg, min, max, rows."""
    measure: list[str] = field(default_factory=list)
    dims: list[str] = field(default_factory=list)
    grain: str | None = None
    period: Period | None = None
    top: int | None = None
    equals: list[tuple[str, str]] = field(default_factory=list)

    @property
    def alias(self) -> str:
        phrase = "_".join(self.measure) or "rows"
        prefix = {"total": "total_", "avg": "avg_", "min": "min_", "max": "max_"}.get(self.agg, "")
        return re.sub(r"\W+", "_", prefix + phrase)[:40]


def parse_request(question: str, today: date) -> Request:
    text = RUN_WORDS.sub(" ", question.lower())
    request = Request(grain=grain_of(text), period=period_of(text, today))
    text = strip_grain(text)
    request.equals = [(m.group(1), next(g for g in m.groups()[1:] if g is not None)) for m in EQUALS.finditer(text)]
    text = EQUALS.sub(" ", text)
    if top := TOP.search(text):
        request.top = int(top.group(1) or 10)
        subject, ranked_by = top.group(2), top.group(3)
        request.dims = [subject]
        request.agg, request.measure = ("total", content_words(ranked_by)) if ranked_by else ("count", [subject])
        return request
    for agg, pattern in MEASURES:
        if match := pattern.search(text):
            request.agg, request.measure = agg, content_words(match.group(1), FILLER)
            text = text[: match.start()] + " " + text[match.end() :]
            break
    for match in GROUP.finditer(text):
        for part in re.split(r",|\band\b", match.group(1)):
            request.dims += [w for w in content_words(part, FILLER) if w not in request.dims]
    if not request.measure:
        request.measure = content_words(text, FILLER)[:1]
    return request


# Tables as describe_table returned them ----------------------------------------------------------------


@dataclass
class Table:
    name: str
    columns: list[dict[str, Any]]
    partition_sources: list[str]
    comments: dict[str, str]

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> Table:
        comments = described.get("metadata_untrusted", {}).get("column_comments", {})
        sources = [f["source_column"] for f in described.get("partition_fields", [])]
        return cls(described["table"], described.get("columns", []), sources, comments)

    @property
    def short(self) -> str:
        return self.name.rpartition(".")[2]

    def has(self, name: str) -> bool:
        return any(c["name"] == name for c in self.columns)

    def column(self, word: str, kind: re.Pattern[str] | None = None, ids: bool = True) -> str | None:
        return self.match(word, kind, ids)[0]

    def match(self, word: str, kind: re.Pattern[str] | None = None, ids: bool = True) -> tuple[str | None, float]:
        """The column that best fits a word, with how well: by name (10), a name part (6), a synonym (4),
        its comment (2)."""
        terms, base = related(word), stem(word)
        best, best_score = None, 0.0
        for col in self.columns:
            name = col["name"]
            if kind is not None and not kind.match(col["type"].lower()):
                continue
            if not ids and (name.endswith("_id") or name == "id"):
                continue
            parts = [stem(p) for p in re.split(r"[_.]", name.lower()) if p]
            score = (
                10 if stem(name.lower()) == base
                else 6 if base in parts
                else 4 if terms & set(parts)
                else 2 if base in self.comments.get(name, "").lower()
                else 0
            )  # fmt: skip
            score -= len(parts) * 0.1  # the plainest of equal matches
            if score > best_score:
                best, best_score = name, score
        return best, best_score

    def time_column(self) -> str | None:
        temporal = [c["name"] for c in self.columns if TEMPORAL.match(c["type"].lower())]
        preferred = [c for c in self.partition_sources if c in temporal]
        return (preferred or temporal or [None])[0]

    def is_about(self, word: str) -> bool:
        return stem(self.short.lower()) in related(word) or stem(word) in [stem(p) for p in self.short.split("_")]


def join_keys(main: Table, other: Table) -> tuple[str, str] | None:
    """``x_id`` in both tables, or ``x_id`` in one and ``id`` in a table named ``x``/``xs``."""
    for col in main.columns:
        name = col["name"]
        if name.endswith("_id") and other.has(name):
            return name, name
    for a, b, flip in ((main, other, False), (other, main, True)):
        key = f"{stem(b.short)}_id"
        if a.has(key) and b.has("id"):
            return (key, "id") if not flip else ("id", key)
    return None


# Drafting -----------------------------------------------------------------------------------------------


@dataclass
class Draft:
    sql: str
    explanation: str
    missing: list[str] = field(default_factory=list)


def quote(name: str) -> str:
    return ".".join(p if re.fullmatch(r"[a-z_][a-z0-9_]*", p) else f'"{p}"' for p in name.split("."))


def measure_expr(request: Request, table: Table, alias: str) -> tuple[str, str] | None:
    """The aggregate over ``table``, with words explaining it; None when no column fits the measure."""
    word = request.measure[-1] if request.measure else ""
    if request.agg in ("total", "avg", "min", "max"):
        column = next((c for w in request.measure if (c := table.column(w, NUMERIC, ids=False))), None)
        if column:
            fn = AGGREGATES[request.agg]
            return f"{fn}({alias}.{quote(column)})", f"{ {'AVG': 'average', 'SUM': 'sum'}.get(fn, fn.lower())} of {column}"
        if request.agg != "total":
            return None
    if not word or table.is_about(word):
        return "COUNT(*)", f"count of rows in {table.name}"
    key = table.column(f"{stem(word)}_id") if table.has(f"{stem(word)}_id") else None
    key = key or (table.column(word) if request.agg == "distinct" else None)
    if key:
        return f"COUNT(DISTINCT {alias}.{quote(key)})", f"count of distinct {key}"
    return "COUNT(*)", f"count of rows in {table.name}"


def coverage(request: Request, table: Table, tables: list[Table]) -> int:
    """How much of the request a table answers as the main one; counting distinct X favours activity tables
    that carry ``x_id`` over the table of X itself."""
    joinable = [t for t in tables if t is not table and join_keys(table, t)]
    found = sum(table.column(d) is not None or any(t.column(d) for t in joinable) for d in request.dims)
    found += measure_expr(request, table, "t") is not None
    entity = request.measure[-1] if request.measure else ""
    found += bool(entity) and (table.is_about(entity) or table.has(f"{stem(entity)}_id"))
    found += 2 * (request.agg == "distinct" and table.has(f"{stem(entity)}_id") and not table.is_about(entity))
    found += bool((request.grain or request.period) and table.time_column())
    if request.agg in ("total", "avg", "min", "max"):
        found += max(table.match(w, NUMERIC, ids=False)[1] for w in request.measure or [""]) >= 6
    return found


def draft_sql(request: Request, tables: list[Table]) -> Draft | None:
    """The query over the best-covering table, joined to others for groups it lacks; None without tables."""
    if not tables:
        return None
    main = max(tables, key=lambda t: (coverage(request, t, tables), layer_rank(t.name), -tables.index(t)))
    aliases = {main.name: "t"}
    joins: list[str] = []
    select: list[str] = []
    notes: list[str] = []
    missing: list[str] = []
    time_col = main.time_column()
    if request.grain:
        if time_col:
            select.append(f"date_trunc('{request.grain}', t.{quote(time_col)}) AS {request.grain}")
            notes.append(f"per {request.grain} of {time_col}")
        else:
            missing.append(f"a date or timestamp column for '{request.grain}' in {main.name}")
    for dim in request.dims:
        owner, column = locate(dim, main, tables, aliases, joins)
        if column is None:
            missing.append(f"a column for '{dim}'")
            continue
        select.append(f"{aliases[owner.name]}.{quote(column)}")
        notes.append(f"by {column}" + ("" if owner is main else f" from {owner.name}"))
    measure = measure_expr(request, main, "t")
    if measure is None:
        missing.append(f"a numeric column for '{' '.join(request.measure)}' in {main.name}")
        measure = ("COUNT(*)", f"count of rows in {main.name}")
    where = filters(request, main, time_col, missing)
    groups = len(select)
    lines = ["SELECT " + ", ".join([*select, f"{measure[0]} AS {request.alias}"]), f"FROM {main.name} AS t", *joins]
    if where:
        lines.append("WHERE " + " AND ".join(where))
    if groups:
        lines.append("GROUP BY " + ", ".join(str(i) for i in range(1, groups + 1)))
    if request.top:
        lines += [f"ORDER BY {request.alias} DESC", f"LIMIT {request.top}"]
    elif groups:
        lines.append("ORDER BY " + ("1" if request.grain else f"{request.alias} DESC"))
    explanation = " ".join([measure[1][0].upper() + measure[1][1:], *notes])
    if request.period:
        explanation += f", for {request.period.label}"
    return Draft("\n".join(lines), explanation, missing)


def locate(dim: str, main: Table, tables: list[Table], aliases: dict[str, str], joins: list[str]):
    """Find a group column in the main table, else in a table that joins to it along a key column."""
    if column := main.column(dim):
        return main, column
    for other in tables:
        if other is main or (column := other.column(dim)) is None or (keys := join_keys(main, other)) is None:
            continue
        if other.name not in aliases:
            alias = next(a for a in (other.short[0], f"{other.short[0]}2", "j") if a not in aliases.values())
            aliases[other.name] = alias
            joins.append(f"JOIN {other.name} AS {alias} ON t.{quote(keys[0])} = {alias}.{quote(keys[1])}")
        return other, column
    return main, None


def filters(request: Request, main: Table, time_col: str | None, missing: list[str]) -> list[str]:
    where = []
    if request.period:
        if time_col:
            end = request.period.end + timedelta(days=1)
            where.append(f"t.{quote(time_col)} >= DATE '{request.period.start}'")
            where.append(f"t.{quote(time_col)} < DATE '{end}'")
        else:
            missing.append(f"a date column to filter on {request.period.label}")
    for word, value in request.equals:
        column = main.column(word)
        if column is None:
            missing.append(f"a column for '{word}'")
            continue
        literal = value if re.fullmatch(r"-?\d+(\.\d+)?", value) else "'" + value.replace("'", "''") + "'"
        where.append(f"t.{quote(column)} = {literal}")
    return where


HINT = re.compile(r"unknown (?:column|table) ([\w.\"]+)[^;]*; did you mean ([\w.\"]+)")


def repair(sql: str, errors: list[str]) -> str | None:
    """Apply each error's first "did you mean" suggestion; None when no error offers one."""
    fixed = sql
    for error in errors:
        if match := HINT.search(error):
            wrong, right = match.group(1).strip('"'), match.group(2).strip('",?')
            fixed = re.sub(rf"(?<!\w){re.escape(wrong)}(?!\w)", right, fixed)
    return fixed if fixed != sql else None


def topic_words(question: str) -> list[str]:
    """What to search for: the question's content words without SQL and time vocabulary."""
    return [w for w in content_words(strip_grain(question.lower()), FILLER) if w not in {"top", "last", "this"}]

