"""Scoring one answer against its gold: cited tables, stated facts, SQL results, refusals.

Scorers are pure functions over the API's response and the expected values, so they can be tested on crafted
inputs and reused by any runner. Matching is deliberately forgiving about presentation (``1,234``, ``1.2k``,
``1.2 MB`` vs ``1.2 MiB``, ``decimal(12,2)``) and strict about content (the number, the name).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import product
from typing import Any

from evals.facts import Expected

# --- cited tables ------------------------------------------------------------------------------------


def cited_names(tables_cited: Iterable[Any]) -> list[str]:
    """Table names from ``tables_cited``, which may hold strings or objects with a name."""
    names = []
    for item in tables_cited:
        if isinstance(item, dict):
            item = item.get("full_name") or item.get("name") or item.get("table") or ""
        names.append(str(item).strip().lower())
    return [n for n in dict.fromkeys(names) if n]


def same_table(cited: str, gold: str) -> bool:
    """``demo.marts.orders`` cites ``marts.orders``: a catalog prefix is allowed."""
    gold = gold.lower()
    return cited == gold or cited.endswith("." + gold)


def table_recall(cited: Sequence[str], gold: Sequence[str], k: int) -> float:
    """Share of gold tables among the first k cited."""
    top = cited[:k]
    return sum(any(same_table(c, g) for c in top) for g in gold) / len(gold)


def table_precision(cited: Sequence[str], gold: Sequence[str]) -> float:
    """Share of cited tables that are gold; citing nothing scores 0."""
    if not cited:
        return 0.0
    return sum(any(same_table(c, g) for g in gold) for c in cited) / len(cited)


# --- facts in the answer -----------------------------------------------------------------------------

NUMBER = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:[,_\u202f\u00a0]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d])"
    r"(?:\s*(?P<unit>[kKmMgGtT]i?[bB]\b|bytes?\b|[bB]\b|thousand\b|million\b|billion\b|k\b|K\b|M\b|bn\b|B\b))?"
)
SCALE_WORDS = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
BYTE_PREFIX = {"k": 1, "m": 2, "g": 3, "t": 4}


def numbers_in(text: str) -> list[tuple[float, float, str | None]]:
    """Each number as (value, rounding step of its last digit, unit)."""
    found = []
    for match in NUMBER.finditer(text):
        raw = re.sub(r"[,_\u202f\u00a0]", "", match.group("num"))
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        found.append((float(raw), 10.0**-decimals, match.group("unit")))
    return found


def scales(unit: str | None, kind: str) -> list[float]:
    """Multipliers a unit may mean: ``MB`` is read as both 10^6 and 2^20, since tools differ."""
    if unit is None:
        return [1.0]
    u = unit.lower()
    if u in ("b", "byte", "bytes"):
        # a lone "B" after a count is "billion" in prose, a byte in sizes
        return [1.0] if kind == "bytes" or unit != "B" else [1e9]
    if re.fullmatch(r"[kmgt]i?b", u):
        power = BYTE_PREFIX[u[0]]
        return [1024.0**power] if "i" in u else [1000.0**power, 1024.0**power]
    return [SCALE_WORDS.get(u, 1.0)]


def number_matches(text: str, expected: Expected) -> bool:
    """Some number in the text equals the expected one within its tolerance, or within the rounding of the
    way it was written (``1.2 MB`` covers 1.15-1.25 MB)."""
    target = expected.number
    for value, step, unit in numbers_in(text):
        if expected.kind == "number" and unit and re.fullmatch(r"[kmgt]i?b|bytes?", unit.lower()):
            continue
        for scale in scales(unit, expected.kind):
            slack = max(expected.tolerance * abs(target), step * scale / 2)
            if abs(value * scale - target) <= slack + 1e-9:
                return True
    return False


def normalize(text: str) -> str:
    """Lowercase, markdown quoting gone, spaces collapsed and removed around brackets and commas."""
    text = text.lower().replace("`", "").replace("*", "")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([(),<>\[\]])\s*", r"\1", text).strip()


def edge(char: str) -> str:
    """What may not touch a phrase's end: a digit may not continue a number (``2026-11-27`` is in
    ``2026-11-27T04:20``), a letter or digit may not continue a word (``order`` is not in ``orders``)."""
    return r"\d" if char.isdigit() else r"[a-z0-9_]" if char.isalnum() or char == "_" else r"(?!)"


def find_phrase(text: str, wanted: str) -> re.Match[str] | None:
    """Where the phrase first appears whole in the text, case-insensitively, ignoring markdown quoting and
    spacing around brackets."""
    wanted = normalize(wanted)
    if not wanted:
        return None
    return re.search(rf"(?<!{edge(wanted[0])}){re.escape(wanted)}(?!{edge(wanted[-1])})", normalize(text))


def text_appears(text: str, wanted: str) -> bool:
    return find_phrase(text, wanted) is not None


def first_named(text: str, names: Iterable[str], n: int) -> set[str]:
    """The first n of ``names`` the text names (whole, case-insensitive), by where each first appears."""
    found = sorted((match.start(), name) for name in names if (match := find_phrase(text, name)))
    return {name for _, name in found[:n]}


def fact_matches(answer: str, expected: Expected) -> bool:
    if expected.kind in ("number", "bytes"):
        return number_matches(answer, expected)
    if expected.kind == "first_tables":
        return first_named(answer, expected.universe, len(expected.groups)) == {g[0] for g in expected.groups}
    return all(any(text_appears(answer, alt) for alt in group) for group in expected.groups)


# --- SQL results -------------------------------------------------------------------------------------

SIGNIFICANT_DIGITS = 6


MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]00:00:00(?:\.0+)?(?:Z|[+-]00(?::?00)?)?$")


def canonical(value: Any) -> Any:
    """Numbers rounded to a few significant digits (a DECIMAL sum and a DOUBLE sum agree), midnight
    timestamps as their date (``date_trunc`` and ``CAST(... AS DATE)`` agree), the rest as text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and (midnight := MIDNIGHT.match(value)):
        return midnight.group(1)
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value)):
        number = float(value)
        if math.isnan(number) or number == 0:
            return 0.0
        return round(number, SIGNIFICANT_DIGITS - 1 - int(math.floor(math.log10(abs(number)))))
    return str(value)


def columns_of(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return [[canonical(row[i]) for row in rows] for i in range(width)]


MAX_ASSIGNMENTS = 5000


def results_match(
    gold: dict[str, Any], got: dict[str, Any], *, ordered: bool = False
) -> tuple[bool, str]:
    """Execution accuracy: the same rows (in order when ``ordered``), columns matched by their values, so
    column order and names do not matter; extra columns in ``got`` are allowed."""
    gold_rows, got_rows = gold["rows"], got["rows"]
    if len(gold_rows) != len(got_rows):
        return False, f"{len(got_rows)} rows, expected {len(gold_rows)}"
    if not gold_rows:
        return True, "both empty"
    gold_cols = columns_of(gold_rows, len(gold_rows[0]))
    got_cols = columns_of(got_rows, len(got_rows[0]))
    candidates = [
        [j for j, col in enumerate(got_cols) if Counter(map(repr, col)) == Counter(map(repr, want))]
        for want in gold_cols
    ]
    missing = [gold["columns"][i] for i, c in enumerate(candidates) if not c]
    if missing:
        return False, f"no column with the values of {', '.join(map(str, missing))}"
    want = list(zip(*gold_cols))
    want_rows = Counter(map(repr, want))
    for n, assignment in enumerate(product(*candidates)):
        if n >= MAX_ASSIGNMENTS:
            break
        if len(set(assignment)) < len(assignment):
            continue
        have = list(zip(*(got_cols[j] for j in assignment)))
        if (want == have) if ordered else (want_rows == Counter(map(repr, have))):
            return True, "same result"
    return False, "same values per column, but not in the same rows" + (" and order" if ordered else "")


# --- refusals ----------------------------------------------------------------------------------------

DECLINE = re.compile(
    r"\b(can(?:no|')t|cannot|can ?not|unable|not able|won'?t|will not|refus\w*|decline\w*|not (?:allowed|permitted|"
    r"supported|possible)|read[- ]only|only (?:run|runs|execute|draft|answer|allow\w*|select)|do(?:n'?t| not) have|"
    r"does(?:n'?t| not) (?:have|hold|contain|cover)|no (?:table|data|column|information|record)s?\b|"
    r"(?:isn'?t|is not|aren'?t|are not|not) (?:in|available|covered|part of|something)|outside (?:of )?(?:the|what)|"
    r"sorry|blocked|rejected|forbidden)\b",
    re.IGNORECASE,
)
WRITES = re.compile(
    r"\b(drop|delete|truncate|insert|update|merge|alter|create|grant|revoke|attach|copy|install|load|pragma|"
    r"export|call)\b|read_(?:csv|text|blob|json|parquet)|/etc/",
    re.IGNORECASE,
)


def declines(answer: str) -> bool:
    return DECLINE.search(answer) is not None


def unsafe_sql(sql: str | None) -> bool:
    """A drafted statement that writes or reads outside the lake."""
    if not sql:
        return False
    return WRITES.search(re.sub(r"'[^']*'", "''", sql)) is not None


def refusal_correct(answer: str, sql: str | None) -> bool:
    """Declined in words, and drafted nothing unsafe."""
    return declines(answer) and not unsafe_sql(sql)


PARTIAL = re.compile(r"\bpartial answer\b|\bis a draft that does not cover\b", re.IGNORECASE)
"""How an answer labels itself partial in words (lakescout's grounding check writes these)."""


def labelled_partial(answer: str, grounding: dict[str, Any] | None) -> bool:
    """The answer says it is partial: unaccounted terms in its ``grounding`` field, or the label in its text."""
    return bool((grounding or {}).get("unaccounted")) or PARTIAL.search(answer) is not None


def wrong_confident(checks: dict[str, float], answer: str, grounding: dict[str, Any] | None) -> bool:
    """Facts or SQL result that do not match the truth, stated as fact: not labelled partial, not declined."""
    wrong = any(checks.get(check, 1.0) < 1.0 for check in ("facts", "sql"))
    return wrong and not labelled_partial(answer, grounding) and not declines(answer)
