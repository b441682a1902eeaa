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
    split_instructions,
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
    ("distinct", re.compile(r"\b(?:unique|distinct|different)\s+([a-z_]+)")),
    ("distinct", re.compile(rf"\b(active\s+[a-z_]+){END}")),
    ("count", re.compile(rf"\b(?:count|number)\s+(?:of\s+)?(?:the\s+)?(?:all\s+)?([a-z_ ]+?){END}")),
    ("count", re.compile(rf"\bhow many\s+([a-z_ ]+?){END}")),
]
RANKED_BY = r"((?:(?:the\s+)?(?:number|count|sum|total|average|avg)\s+of\s+)?[a-z_ ]+?)"
TOPS = [
    (re.compile(r"\btop\s*(\d+)?\s+([a-z_]+)(?:\s+by\s+" + RANKED_BY + ")?" + END), "most"),
    (re.compile(r"\b(\d+)\s+([a-z_]+)\b[^.?]*?\b(most|highest|largest|biggest|greatest|least|lowest|fewest|smallest)"
                r"\s+" + RANKED_BY + END), None),
]  # fmt: skip
ASCENDING = frozenset({"least", "lowest", "fewest", "smallest"})
ALSO = re.compile(r"^\s*(?:,|and|,\s*and)\s+(?:the\s+)?(?:(sum|total|average|avg|mean|count|number|min|max)\s+(?:of\s+)?)?([a-z_]+)")
UNITS = {"usd": "usd", "dollar": "usd", "dollars": "usd", "eur": "eur", "euro": "eur", "euros": "eur", "gbp": "gbp",
         "cents": "cents", "local": "local", "seconds": "seconds", "ms": "ms", "minutes": "minutes", "bytes": "bytes"}
"""Unit words in a question that pick among columns of the same measure (``amount`` vs ``amount_usd``)."""
GROUP = re.compile(r"\b(?:by|per|for each|grouped by|group by|across)\s+([a-z_, ]+?)" + END.replace("|and)", ")"))
RUN_WORDS = re.compile(r"--run\b|\b(?:and\s+)?(?:run|execute)(?:\s+(?:it|that|this|the query))?\b")
EQUALS = re.compile(r"\bwhere\s+([a-z_][\w.]*)\s*(?:=|==|is|equals)\s*(?:'([^']*)'|\"([^\"]*)\"|([\w\-.]+))")
AGGREGATES = {"count": "COUNT", "distinct": "COUNT", "total": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX"}
AGG_WORDS = {"sum": "total", "total": "total", "average": "avg", "avg": "avg", "mean": "avg", "count": "count",
             "number": "count", "min": "min", "max": "max"}
FILLER = frozenset({"sql", "query", "write", "draft", "run", "execute", "it", "number", "count", "result", "results",
                    "instead", "give", "show", "first", "most", "highest", "lowest", "least", "fewest"})


@dataclass
class Request:
    agg: str = "count"
    """count, distinct, total (a sum, or a count when nothing numeric matches), avg, min, max."""
    measure: list[str] = field(default_factory=list)
    dims: list[str] = field(default_factory=list)
    grain: str | None = None
    period: Period | None = None
    top: int | None = None
    ascending: bool = False
    equals: list[tuple[str, str]] = field(default_factory=list)
    also: list[tuple[str, list[str]]] = field(default_factory=list)
    """Further aggregates asked for with "and" ("impressions and clicks")."""
    implicit: bool = False
    """No aggregate word: a sum when the measure is a numeric column ("revenue by day"), else a count."""
    owners: dict[str, str] = field(default_factory=dict)
    """Group words qualified by the table they belong to ("region of their store")."""
    units: set[str] = field(default_factory=set)
    words: list[str] = field(default_factory=list)
    """The question's words in order, for matching column values."""

    @property
    def alias(self) -> str:
        return alias_for(self.agg, self.measure)


def alias_for(agg: str, measure: list[str]) -> str:
    phrase = "_".join(measure) or "rows"
    prefix = {"total": "total_", "avg": "avg_", "min": "min_", "max": "max_"}.get(agg, "")
    return re.sub(r"\W+", "_", prefix + phrase)[:40]


def parse_measure(phrase: str, default: str) -> tuple[str, list[str], bool]:
    """An aggregate and its words from a phrase ("number of orders", "total amount", "revenue")."""
    for agg, pattern in MEASURES:
        if match := pattern.search(phrase):
            return agg, content_words(match.group(1), FILLER), False
    return default, content_words(phrase, FILLER), True


def parse_request(question: str, today: date) -> Request:
    text = RUN_WORDS.sub(" ", split_instructions(question)[0].lower())
    request = Request(grain=grain_of(text), period=period_of(text, today), words=re.findall(r"[a-z0-9_]+", DOTTED.sub(" ", text)))
    request.units = {UNITS[w] for w in request.words if w in UNITS}
    text = strip_grain(text)
    request.equals = [(m.group(1), next(g for g in m.groups()[1:] if g is not None)) for m in EQUALS.finditer(text)]
    text = EQUALS.sub(" ", text)
    for pattern, direction in TOPS:
        if top := pattern.search(text):
            request.top = int(top.group(1) or 10)
            subject, *rest = top.groups()[1:]
            request.ascending = (direction or rest[0]) in ASCENDING
            ranked_by = rest[-1]
            request.dims = [subject]
            if ranked_by:
                request.agg, request.measure, request.implicit = parse_measure(ranked_by, "total")
            else:
                request.agg, request.measure = "count", [subject]
            return request
    found = [(m.start(), i, agg, m) for i, (agg, pattern) in enumerate(MEASURES) if (m := pattern.search(text))]
    if found:  # the aggregate said first; "how many"/"count" only when nothing more specific is asked
        _, _, agg, match = min(found, key=lambda f: (f[2] == "count", *f[:2]))
        request.agg, request.measure = agg, content_words(match.group(1), FILLER)
        while also := ALSO.match(text[match.end() :]):
            request.also.append((AGG_WORDS.get(also.group(1) or "", agg), content_words(also.group(2), FILLER)))
            text = text[: match.end()] + " " + text[match.end() + also.end() :]
        text = text[: match.start()] + " " + text[match.end() :]
    for match in GROUP.finditer(text):
        parts = [w for part in re.split(r",|\band\b", match.group(1)) for w in content_words(part, FILLER)]
        request.dims += [w for w in parts if w not in request.dims]
        if parts and (owner := OWNER.match(text[match.end() :])):
            request.owners[parts[-1]] = owner.group(1)
    if not request.measure:
        request.measure = content_words(text, FILLER)[:1]
        request.implicit = True
    return request


DOTTED = re.compile(r"\b[a-z_][\w-]*(?:\.[a-z_][\w-]*)+")
"""Qualified table names, whose parts are never column values."""
OWNER = re.compile(r"^\s+of\s+(?:the\s+|their\s+|its\s+|each\s+)?([a-z_]+)")


def has_groups(text: str) -> bool:
    return GROUP.search(text.lower()) is not None


def strip_groups(text: str) -> str:
    """The text without its "by X" groupings, for a follow-up that replaces them."""
    return GROUP.sub(" ", text.lower())


# Tables as describe_table returned them ----------------------------------------------------------------


@dataclass
class Table:
    name: str
    columns: list[dict[str, Any]]
    partition_sources: list[str]
    comments: dict[str, str]
    values: dict[str, list[str]] = field(default_factory=dict)
    """Distinct values of categorical columns, when a probe read them."""

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

    def column(self, word: str, kind: re.Pattern[str] | None = None, ids: bool = True, units: set[str] = frozenset()) -> str | None:
        return self.match(word, kind, ids, units)[0]

    def match(
        self, word: str, kind: re.Pattern[str] | None = None, ids: bool = True, units: set[str] = frozenset()
    ) -> tuple[str | None, float]:
        """The column that best fits a word, with how well: by name (10), a name part (6), a synonym (4),
        its comment (2); among columns named with one of ``units`` (``amount_usd`` for "in USD") when any fits."""
        if units:
            in_unit = [c for c in self.columns if units & set(re.split(r"[_.]", c["name"].lower()))]
            best = Table(self.name, in_unit, self.partition_sources, self.comments).match(word, kind, ids)
            if best[0] is not None:
                return best
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

    def is_named(self, word: str) -> bool:
        """The table's whole name is the word (``products`` for "products"), not just a part of it."""
        return stem(self.short.lower()) == stem(word)


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
    table: str = ""
    whole_table_count: bool = False
    """A plain count of all rows: the catalog's row count answers it without running anything."""


def quote(name: str) -> str:
    return ".".join(p if re.fullmatch(r"[a-z_][a-z0-9_]*", p) else f'"{p}"' for p in name.split("."))


def measure_expr(agg: str, measure: list[str], table: Table, alias: str, request: Request) -> tuple[str, str] | None:
    """The aggregate over ``table``, with words explaining it; None when no column fits the measure."""
    word = measure[-1] if measure else ""
    numeric = agg in ("total", "avg", "min", "max") or (request.implicit and word and not table.is_about(word))
    if numeric:
        column = next((c for w in measure if (c := table.column(w, NUMERIC, ids=False, units=request.units))), None)
        if column and (agg != "count" or table.match(word, NUMERIC, ids=False)[1] >= 3.5):
            fn = AGGREGATES["total" if agg == "count" else agg]
            return f"{fn}({alias}.{quote(column)})", f"{ {'AVG': 'average', 'SUM': 'sum'}.get(fn, fn.lower())} of {column}"
        if agg not in ("total", "count"):
            return None
    if not word or table.is_about(word):
        return "COUNT(*)", f"count of rows in {table.name}"
    key = table.column(f"{stem(word)}_id") if table.has(f"{stem(word)}_id") else None
    key = key or (table.column(word) if agg == "distinct" else None)
    if key:
        return f"COUNT(DISTINCT {alias}.{quote(key)})", f"count of distinct {key}"
    return "COUNT(*)", f"count of rows in {table.name}"


def coverage(request: Request, table: Table, tables: list[Table]) -> int:
    """How much of the request a table answers as the main one; counting distinct X favours activity tables
    that carry ``x_id`` over the table of X itself."""
    joinable = [t for t in tables if t is not table and join_keys(table, t)]
    found = sum(table.column(d) is not None or any(t.column(d) for t in joinable) for d in request.dims)
    found += measure_expr(request.agg, request.measure, table, "t", request) is not None
    entity = request.measure[-1] if request.measure else ""
    found += bool(entity) and (table.is_about(entity) or table.has(f"{stem(entity)}_id"))
    found += bool(entity) and table.is_named(entity)
    found += 2 * (request.agg == "distinct" and table.has(f"{stem(entity)}_id") and not table.is_about(entity))
    found += bool((request.grain or request.period) and table.time_column())
    if request.agg in ("total", "avg", "min", "max"):
        found += max(table.match(w, NUMERIC, ids=False)[1] for w in request.measure or [""]) >= 6
    return found


def choose_main(request: Request, tables: list[Table], named: list[str] = ()) -> Table | None:
    """The table the query is over: the first one the question names, else the best-covering one."""
    forced = [t for n in named for t in tables if t.name == n]
    if forced:
        return forced[0]
    if not tables:
        return None
    return max(tables, key=lambda t: (coverage(request, t, tables), layer_rank(t.name), -tables.index(t)))


def draft_sql(request: Request, tables: list[Table], main: Table | None = None) -> Draft | None:
    """The query over the main table, joined to others for groups it lacks; None without tables."""
    main = main or choose_main(request, tables)
    if main is None:
        return None
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
        owner, column = locate(dim, main, tables, aliases, joins, request.owners.get(dim))
        if column is None:
            missing.append(f"a column for '{dim}'")
            continue
        select.append(f"{aliases[owner.name]}.{quote(column)}")
        notes.append(f"by {column}" + ("" if owner is main else f" from {owner.name}"))
    groups = len(select)
    matched = value_filters(request, main)
    agg = "count" if request.agg == "distinct" and any(w in request.measure for _, _, w in matched) else request.agg
    measures = []
    for n, (m_agg, words) in enumerate([(agg, request.measure), *request.also]):
        expr = measure_expr(m_agg, words, main, "t", request)
        if expr is None:
            missing.append(f"a numeric column for '{' '.join(words)}' in {main.name}")
            expr = ("COUNT(*)", f"count of rows in {main.name}")
        name = alias_for(m_agg, words) if n else request.alias
        measures.append((f"{expr[0]} AS {name}", expr[1], name))
    where = filters(request, main, time_col, missing)
    where += [f"t.{quote(column)} = {literal(value)}" for column, value, _ in matched]
    notes += [f"where {column} is {value}" for column, value, _ in matched]
    first = measures[0][2]
    lines = ["SELECT " + ", ".join([*select, *(m[0] for m in measures)]), f"FROM {main.name} AS t", *joins]
    if where:
        lines.append("WHERE " + " AND ".join(where))
    if groups:
        lines.append("GROUP BY " + ", ".join(str(i) for i in range(1, groups + 1)))
    if request.top:
        lines += [f"ORDER BY {first} {'ASC' if request.ascending else 'DESC'}", f"LIMIT {request.top}"]
    elif groups:
        lines.append("ORDER BY " + ("1" if request.grain else f"{first} DESC"))
    said = " and ".join(m[1] for m in measures)
    explanation = " ".join([said[0].upper() + said[1:], *notes])
    if request.period:
        explanation += f", for {request.period.label}"
    whole = not (groups or where or request.also) and measures[0][0].startswith("COUNT(*)")
    return Draft("\n".join(lines), explanation, missing, main.name, whole)


def literal(value: str) -> str:
    return value if re.fullmatch(r"-?\d+(\.\d+)?", value) else "'" + value.replace("'", "''") + "'"


def locate(dim: str, main: Table, tables: list[Table], aliases: dict[str, str], joins: list[str], owner: str | None = None):
    """Find a group column in the main table, else in a table that joins to it along a key column; a group
    qualified by its owner ("region of their store") looks in the table about that owner first."""
    if (column := main.column(dim)) and not (owner and not main.is_about(owner)):
        return main, column
    others = sorted(tables, key=lambda t: not (owner and t.is_about(owner)))
    for other in others:
        if other is main or (column := other.column(dim)) is None or (keys := join_keys(main, other)) is None:
            continue
        if other.name not in aliases:
            alias = next(a for a in (other.short[0], f"{other.short[0]}2", "j") if a not in aliases.values())
            aliases[other.name] = alias
            joins.append(f"JOIN {other.name} AS {alias} ON t.{quote(keys[0])} = {alias}.{quote(keys[1])}")
        return other, column
    return (main, column) if column else (main, None)


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
        where.append(f"t.{quote(column)} = {literal(value)}")
    return where


# Column values -------------------------------------------------------------------------------------------

STRING = re.compile(r"^(string|varchar|text|char)")
FREE_TEXT = re.compile(r"(?:^|_)(?:id|name|email|phone|address|street|description|comment|message|text|body|url|title"
                       r"|notes?|path|sku|hash|token|ip|agent|key|code|zip|postal)$")  # fmt: skip
PROBE_COLUMNS = 8
PROBE_VALUES = 40
PLAIN = frozenset(
    "rows records many much first last past previous since between today yesterday week month year day hour "
    "january february march april may june july august september october november december".split()
)
"""Words that are never a column value in a question."""


def value_words(request: Request, table: Table) -> list[str]:
    """Question words that may be a value of a column ("archived", "DEBUG"): not a column, not the table,
    not a group, a time word or a number."""
    taken = {w for w, _ in request.equals} | {v.lower() for _, v in request.equals} | set(request.dims)
    taken |= {w for w in request.measure if table.match(w, NUMERIC, ids=False)[1] >= 3.5}
    found = []
    for word in content_words(" ".join(request.words), FILLER | PLAIN):
        if word in taken or word in AGG_WORDS or len(word) < 3 or table.is_about(word) or "_" in word:
            continue
        if table.match(word)[1] >= 5.5 or grain_of(word) or word in PLAIN:
            continue
        found.append(word)
    return list(dict.fromkeys(found))


def categorical_columns(table: Table) -> list[str]:
    return [c["name"] for c in table.columns
            if STRING.match(c["type"].lower()) and not c.get("pii") and not FREE_TEXT.search(c["name"].lower())
            ][:PROBE_COLUMNS]  # fmt: skip


def probe_sql(request: Request, table: Table) -> str | None:
    """One query reading a few distinct values of each categorical column, when the question has words that
    may be such values; None when there is nothing to look up."""
    columns = categorical_columns(table)
    if not columns or not value_words(request, table):
        return None
    parts = [f"SELECT '{c}' AS column_name, CAST({quote(c)} AS VARCHAR) AS value "
             f"FROM (SELECT DISTINCT {quote(c)} FROM {table.name} LIMIT {PROBE_VALUES}) AS d{i}"
             for i, c in enumerate(columns)]  # fmt: skip
    return "\nUNION ALL\n".join(parts)


def read_probe(result: dict[str, Any]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    if result.get("columns") != ["column_name", "value"]:
        return values
    for column, value in result.get("rows", []):
        if isinstance(value, str):
            values.setdefault(column, []).append(value)
    return values


def value_filters(request: Request, table: Table) -> list[tuple[str, str, str]]:
    """(column, value, word) for each question word that is a value of a probed column and reads as a filter:
    next to the column's name ("status archived", "DEBUG level") or before a noun ("expired items"), not after
    another column's name ("customer_id placed orders" is a verb)."""
    if not table.values:
        return []
    tokens, matched = request.words, []
    for word in value_words(request, table):
        for column, values in table.values.items():
            value = next((v for v in values if v.lower() == word or stem(v.lower()) == stem(word)), None)
            if value is None:
                continue
            i = tokens.index(word)
            near = {stem(t) for t in tokens[max(0, i - 3) : i + 2]}
            named = bool(near & {stem(p) for p in re.split(r"[_.]", column.lower())})
            after_column = i > 0 and table.match(tokens[i - 1])[1] >= 5.5 and not table.is_about(tokens[i - 1])
            if named or not after_column:
                matched.append((column, value, word))
                break
    return matched


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

