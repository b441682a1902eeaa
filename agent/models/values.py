"""Column values in a question ("archived orders", "DEBUG logs"): which words may be values, which columns a
probe reads, what the probe returned, and which words it turned into equality filters."""

from __future__ import annotations

import re
from typing import Any

from agent.models.language import content_words, country_code, grain_of, verb_forms
from agent.models.request import AGG_WORDS, FILLER, Request
from agent.models.tables import NUMERIC, Table, named_for, points_to
from agent.models.vocabulary import INCLUDING_WORDS, LINK_WORDS, NEGATING_PAIRS, NEGATORS, PARTICLES, SOURCE_PREPOSITIONS
from catalog_ingest.text import QUESTION_STOPWORDS, name_parts, stem

STRING = re.compile(r"^(string|varchar|text|char)")
FREE_TEXT = re.compile(r"(?:^|_)(?:id|name|email|phone|address|street|description|comment|message|text|body|url|title"
                       r"|notes?|path|sku|hash|token|ip|agent|key|code|zip|postal)$")  # fmt: skip
PROBE_COLUMNS = 8
PLAIN = frozenset(
    "rows records many much first last past previous since between today yesterday week month year day hour "
    "january february march april may june july august september october november december".split()
)
"""Words that are never a column value in a question."""


def value_words(request: Request, table: Table) -> list[str]:
    """Question words that may be a value of a column ("archived", "DEBUG", "paid_social"): not a column's name (a part of the
    name of a date column may be: "cancelled" besides ``cancelled_at``), not the table,
    not a group, a time word or a number."""
    taken = {w for w, _ in request.equals} | {v.lower() for _, v in request.equals}
    taken |= {d for d in request.dims if table.match(d)[1] >= 3.5  # a group a column fits; else maybe a value, as is
              and not table.is_named(request.qualifiers.get(d, ""))}  # a word before the table's rows ("email campaigns")
    taken |= {w for w in request.measure if table.match(w, NUMERIC, ids=False)[1] >= 3.5}
    found, categorical = [], set(categorical_columns(table))
    numeric = {c["name"] for c in table.columns if NUMERIC.match(c["type"].lower())}
    for word in [*content_words(" ".join(request.words), FILLER | PLAIN), *request.codes]:
        short = len(word) < 3 and word not in request.codes
        if word in taken or word in AGG_WORDS or short or table.is_about(word) or table.has(word):
            continue
        fit, score = table.match(word)
        if score >= 9.5 or (score >= 5.5 and (fit in categorical or fit in numeric)) or grain_of(word) or word in PLAIN:
            continue
        found.append(word)
    return list(dict.fromkeys(found))


def is_negated(tokens: list[str], word: str) -> bool:
    """The value word (or the first of the two words ``joined_words`` made it of) is negated: "not completed",
    "non cancelled", "except pending", "other than low", "outside the consumer segment", "leaving out mobile",
    "didn't convert"; or the verb before it is: "did not come through the web", "did not come in by email"."""
    if word not in tokens and word not in joined_words(tokens):
        return False
    i = position(tokens, word)
    before = tokens[max(0, i - 3) : i]
    if set(before[-2:]) & NEGATORS or (len(before) >= 2 and NEGATING_PAIRS.get(before[-2]) == before[-1]):
        return True
    verb_phrase = tokens[max(0, i - 6) : i]  # not, a verb, maybe a particle, then a source preposition or an article
    for j, said in enumerate(verb_phrase):
        rest = verb_phrase[j + 2 :]
        if len(rest) > 1 and rest[0] in PARTICLES and rest[1] in SOURCE_PREPOSITIONS:  # "come in by"
            rest = rest[1:]
        if said in NEGATORS and j + 1 < len(verb_phrase) and rest and all(w in LINK_WORDS for w in rest):
            return True
    return False


def is_included(tokens: list[str], word: str) -> bool:
    """The value word is kept in rather than picked out: "including cancelled ones", "including the refunded
    orders", "cancelled ones included"."""
    if word not in tokens:
        return False
    i = tokens.index(word)
    return bool(set(tokens[max(0, i - 3) : i]) & INCLUDING_WORDS) or "included" in tokens[i + 1 : i + 3]


def categorical_columns(table: Table) -> list[str]:
    """The columns worth probing for values: short top-level strings that are not free text or personal data (a
    struct's field, ``address.city``, is not a column the probe's union can name)."""
    return [c["name"] for c in table.columns
            if STRING.match(c["type"].lower()) and not c.get("pii") and not FREE_TEXT.search(c["name"].lower())
            and "." not in c["name"]][:PROBE_COLUMNS]  # fmt: skip


def read_probe(result: dict[str, Any]) -> dict[str, list[str]]:
    """column -> the distinct values a probe (``sql_writer.probe_sql``) returned for it."""
    values: dict[str, list[str]] = {}
    if result.get("columns") != ["column_name", "value"]:
        return values
    for column, value in result.get("rows", []):
        if isinstance(value, str):
            values.setdefault(column, []).append(value)
    return values


def joined_words(tokens: list[str]) -> list[str]:
    """Two words in a row as a value may write them: "in transit" -> in_transit, "checkout api" -> checkout_api."""
    return [f"{a}_{b}" if a.isalpha() and b.isalpha() else "" for a, b in zip(tokens, tokens[1:], strict=False)]


def position(tokens: list[str], word: str) -> int:
    """Where the word, or the first of the two words ``joined_words`` made it of, stands in the question."""
    if word in tokens:
        return tokens.index(word)
    return next(i for i, pair in enumerate(joined_words(tokens)) if pair == word)


def value_said(value: str, word: str) -> bool:
    """The word is the value: the same, in the plural, another inflection ("manually": manual, "fail":
    failed), two words of it (``checkout-api``), or the country it is the code of ("germany": ``DE``)."""
    value = re.sub(r"[\s-]+", "_", value.lower())
    if len(value) == 2 and country_code(word) == value:
        return True
    return value == word or stem(value) == stem(word) or (len(value) >= 4 and value in verb_forms(word)) or (
        len(word) >= 4 and word in verb_forms(value))


def value_filters(request: Request, table: Table) -> list[tuple[str, str, str]]:
    """(column, value, word) for each question word that is a value of a probed column and reads as a filter:
    next to the column's name ("status archived", "DEBUG level") or before a noun ("expired items"), not after
    another column's name ("customer_id placed orders" is a verb)."""
    if not table.values:
        return []
    tokens, matched = request.words, []
    for word in [*value_words(request, table), *filter(None, joined_words(tokens))]:
        for column, values in table.values.items():
            value = next((v for v in values if value_said(v, word)), None)
            if value is None:
                continue
            i = position(tokens, word)
            near = {stem(t) for t in tokens[max(0, i - 3) : i + 2]}
            named = bool(near & {stem(p) for p in name_parts(column)})
            before = tokens[i - 1] if i > 0 and tokens[i - 1] not in QUESTION_STOPWORDS else ""  # "in Japan": no column
            after_column = bool(before) and table.match(before)[1] >= 5.5 and not table.is_about(before)
            if named or not after_column:
                matched.append((column, value, word))
                break
    return matched


def next_names(tokens: list[str], word: str, column: str) -> bool:
    """The word after the value names its column ("billing team": ``team``)."""
    i = position(tokens, word) if word in tokens or word in joined_words(tokens) else -1
    return 0 <= i < len(tokens) - 1 and named_for(column, tokens[i + 1])


def joined_filters(
    request: Request, main: Table, tables: list[Table], matched: list[tuple[str, str, str]]
) -> list[tuple[Table, str, str, str]]:
    """(table, column, value, word) for value words of a probed table that joins the main one ("enterprise
    customers"): words the main table's values do not hold, or hold only where the word after names the joined
    table's column instead ("handled by the billing team": the agents' team, not the tickets' category)."""
    held = {word: column for column, _, word in matched}
    found: list[tuple[Table, str, str, str]] = []
    for other in [t for t in tables if t is not main and t.values and points_to(main, t)]:
        for column, value, word in value_filters(request, other):
            named_here = next_names(request.words, word, column) and not next_names(request.words, word, held.get(word, ""))
            if word not in {f[3] for f in found} and (word not in held or named_here):
                found.append((other, column, value, word))
    return found
