"""States a question names that a column of the table records, read from the question's words and the table's
own columns and comments: a column said to be empty or set ("orders with no campaign", "tickets without an
order", "logs that have a user_id"), the event of a timestamp column ("resolved tickets": ``resolved_at`` is
set; "resolved in November": the period is on ``resolved_at``; "unresolved", "never opened": it is null), the
state a column's comment says its null means ("Null while open": "open tickets"), and a yes/no flag
("sessions that converted": ``converted``; "customers who opted in to marketing": ``marketing_opt_in``).

Nothing here knows a lake: the words come from general English (`agent.models.vocabulary`), the columns and
comments from ``describe_table``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.models.request import Request
from agent.models.tables import NUMERIC, TEMPORAL, Table
from agent.models.values import is_negated
from agent.models.language import verb_forms
from agent.models.vocabulary import (
    EMPTY_WORDS,
    NEGATING_PREFIXES,
    NEGATORS,
    PARTICIPLES,
    PARTICLES,
    SET_WORDS,
    STATE_NAME_PARTS,
    UNITS,
)
from catalog_ingest.text import QUESTION_STOPWORDS, name_parts, stem, words

BOOLEAN = re.compile(r"^bool")
NULL_CLAUSE = re.compile(r"\bnull\s+(?:while|for|if|when|until|unless|as long as)\s+([^.;,()]+)", re.IGNORECASE)
"""A comment saying what a null means: "Null while open", "null for anonymous traffic"."""
ARTICLES = frozenset({"a", "an", "any", "the", "one", "its", "their"})


@dataclass
class State:
    column: str
    kind: str
    """null, set (not null), zero, nonzero, true or false."""
    words: tuple[str, ...]
    """The question's words the state accounts for."""


def core(name: str) -> list[str]:
    """The parts of a column's name that say what it records: ``resolved_at`` -> resolved, ``is_active`` ->
    active, ``campaign_id`` -> campaign, ``discount_usd`` -> discount."""
    parts = [p.lower() for p in name_parts(name)]
    return [p for p in parts if p not in STATE_NAME_PARTS and p not in UNITS] or parts


def forms(word: str) -> set[str]:
    return {f for w in (word, stem(word)) for f in verb_forms(w)}


def fits(word: str, part: str) -> bool:
    return bool(forms(word) & forms(part))


def top_level(table: Table, kind: re.Pattern[str] | None = None) -> list[str]:
    return [c["name"] for c in table.columns if "." not in c["name"] and (kind is None or kind.match(c["type"].lower()))]


def named_column(table: Table, said: list[str]) -> str | None:
    """The column one or two words name ("csat_score", "campaign", "user id"): its whole name, else the core of
    its name; the plainest of equal fits."""
    joined = "_".join(said)
    columns = top_level(table)
    for name in columns:
        if name.lower() in (joined, said[0]):
            return name
    fitting = [n for n in columns if core(n) and all(any(fits(w, p) for w in said) for p in core(n))
               and fits(said[0], core(n)[0])]  # fmt: skip
    return min(fitting, key=lambda n: len(name_parts(n)), default=None)


def negated(tokens: list[str], word: str) -> bool:
    """"not resolved", "never opened", "unresolved", "non-converted"."""
    return is_negated(tokens, word) or (word in tokens and "never" in tokens[max(0, tokens.index(word) - 2) : tokens.index(word)])


def unprefixed(word: str) -> str | None:
    """``unresolved`` -> resolved, ``inactive`` -> active: a negated participle or adjective."""
    for prefix in NEGATING_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            return word[len(prefix) :]
    return None


def said_columns(request: Request, table: Table, taken: set[str]) -> list[State]:
    """"no campaign", "without an order", "missing user_id": null; "with a campaign", "have a user_id": set."""
    tokens, found = request.words, []
    compared = {table.column(n) for c in request.comparisons for n in c.names}
    for i, marker in enumerate(tokens):
        kind = "null" if marker in EMPTY_WORDS else "set" if marker in SET_WORDS else None
        if kind is None:
            continue
        if kind == "set" and set(tokens[max(0, i - 2) : i]) & NEGATORS:
            kind = "null"  # "orders that don't have a campaign": none
        if state := said_after(request, table, i, kind, taken, compared) or said_before(table, tokens, i, compared):
            found.append(state)
    return found


def emptiness(table: Table, name: str, kind: str) -> str | None:
    """What "no X" (``kind`` null) or "with an X" (set) means for the column: null or not for any column but a
    measure; for a measure, null or not when its profile shows nulls, zero or not when it shows none ("orders
    with a discount"), and nothing said when there is no profile to tell."""
    col = next(c for c in table.columns if c["name"] == name)
    if not NUMERIC.match(col["type"].lower()) or name.endswith("_id") or name == "id":
        return kind
    nulls = (col.get("profile") or {}).get("nulls")
    if nulls is None:
        return None
    return kind if nulls else {"null": "zero", "set": "nonzero"}[kind]


def said_after(request: Request, table: Table, i: int, kind: str, taken: set[str], compared: set[str | None]) -> State | None:
    """The column named after the marker at ``i``: "no campaign", "with a user_id"."""
    tokens, j = request.words, i + 1
    while j < len(tokens) and tokens[j] in ARTICLES:
        j += 1
    said = [w for w in tokens[j : j + 2] if w not in QUESTION_STOPWORDS]
    if not said or said[0] in taken | EMPTY_WORDS or table.is_about(said[0]) or said[0] in request.dims:
        return None
    for n in (2, 1):
        if len(said) >= n and (column := named_column(table, said[:n])):
            if own_key(table, column):
                return None  # "subscriptions never invoiced" in the invoices table: its rows' key is never null
            if kind == "set" and (column in table.values or column in compared):
                return None  # "with status cancelled", "with a csat_score of at least 4": the filter says more
            meant = emptiness(table, column, kind)
            return State(column, meant, (tokens[i], *said[:n])) if meant else None
    return None


def own_key(table: Table, name: str) -> bool:
    """The key of the table's own rows (``invoice_id`` in invoices): set in every row, so no state of it."""
    return (name.lower() == "id" or name.lower().endswith("_id")) and any(table.is_about(part) for part in core(name))


def said_before(table: Table, tokens: list[str], i: int, compared: set[str | None]) -> State | None:
    """The column named before "is (not) null" / "are missing" at ``i``: "where csat_score is null"."""
    if tokens[i] not in EMPTY_WORDS:
        return None
    no = i >= 1 and tokens[i - 1] == "not"
    j = i - 1 - no
    if j < 1 or tokens[j] not in ("is", "are", "was", "were") or tokens[j - 1] in QUESTION_STOPWORDS:
        return None
    word = tokens[j - 1]
    column = None if table.is_about(word) else named_column(table, [word])
    kind = "set" if no else "null"
    meant = kind if tokens[i] == "null" else emptiness(table, column, kind) if column else None  # "is null": outright
    if column is None or column in compared or meant is None:
        return None
    return State(column, meant, tuple(tokens[j - 1 : i + 1]))


def is_verb(word: str) -> bool:
    """A past participle: "resolved", "sent" (not a noun like "sales", which a ``sales_date`` is also named after)."""
    return word.endswith("ed") or word in PARTICIPLES or any(f in PARTICIPLES for f in forms(word))


def event_words(request: Request, table: Table, taken: set[str]) -> list[tuple[str, str, bool]]:
    """(temporal column, word, negated) for each word that says the column's event happened: by the column's
    name (``resolved_at`` for "resolved", ``signup_at`` for "signed up") or its comment ("Opened (UTC)")."""
    tokens, found = request.words, []
    temporal = top_level(table, TEMPORAL)
    for i, word in enumerate(tokens):
        if word in taken or word in QUESTION_STOPWORDS or table.is_about(word) or word in request.dims:
            continue
        plain = unprefixed(word)
        candidates = [w for w in (word, plain) if w and is_verb(w)]  # "resolved", "sent"; not the noun "sales"
        if i + 1 < len(tokens) and tokens[i + 1] in PARTICLES:
            candidates += [f + tokens[i + 1] for f in forms(word)]  # "signed up" -> signup
        for said in candidates:
            column = next((c for c in temporal if any(fits(said, p) for p in core(c))), None)
            if column is None and said.endswith("ed"):
                column = next((c for c in temporal if any(fits(said, w) for w in words(table.comments.get(c, ""))
                                                          if not table.is_about(w))), None)  # fmt: skip
            if column:
                found.append((column, word, said == plain or negated(tokens, word)))
                break
    return found


def named_time(request: Request, table: Table, taken: set[str]) -> str | None:
    """The temporal column a word of the question names by the core of its name ("due" and ``due_date``, "end"
    and ``end_date``): the column a period is on ("invoices due this month"), when no event word said one."""
    temporal = top_level(table, TEMPORAL)
    for word in request.words:
        if word in taken or word in QUESTION_STOPWORDS or table.is_about(word) or word in request.dims:
            continue
        if column := next((c for c in temporal if core(c) != name_parts(c) and fits(word, core(c)[0])), None):
            return column
    return None


def comment_states(request: Request, table: Table, taken: set[str]) -> list[State]:
    """A state the comment of a column says its null means ("Null while open": "still open tickets")."""
    found = []
    for name in top_level(table):
        match = NULL_CLAUSE.search(table.comments.get(name, ""))
        if not match:
            continue
        phrase = [w for w in words(match.group(1)) if w not in QUESTION_STOPWORDS and not table.is_about(w)]
        needs_negation = any(w in NEGATORS or w == "never" for w in phrase)
        phrase = [w for w in phrase if w not in NEGATORS and w != "never"]
        said = [w for w in request.words if w not in taken and any(fits(w, p) for p in phrase)]
        if phrase and len(said) == len(phrase) and all(negated(request.words, w) == needs_negation for w in said):
            found.append(State(name, "null", tuple(said)))
    return found


def flag_states(request: Request, table: Table, taken: set[str]) -> list[State]:
    """A yes/no column every part of whose name the question says ("converted", "opted in to marketing")."""
    found = []
    for name in top_level(table, BOOLEAN):
        parts = core(name)
        said = [w for w in request.words if w not in taken and w not in request.dims
                and any(fits(w, p) or fits(unprefixed(w) or "", p) for p in parts)]  # fmt: skip
        if not all(any(fits(w, p) or fits(unprefixed(w) or "", p) for w in said) for p in parts):
            continue
        no = any(negated(request.words, w) or unprefixed(w) for w in said)
        found.append(State(name, "false" if no else "true", tuple(said)))
    return found


def column_states(request: Request, table: Table, taken: set[str]) -> tuple[list[State], str | None]:
    """The states the question names over ``table`` (none for words ``taken`` as values), and the timestamp
    column whose event the question's period is about, if any."""
    states = said_columns(request, table, taken)
    claimed = taken | {w for s in states for w in s.words}
    period_column = None
    for column, word, no in event_words(request, table, claimed - taken):
        if word in taken:  # "cancelled in November": a status value, and the period on cancelled_at
            period_column = period_column or (column if request.period and not no else None)
            continue
        if no:
            states.append(State(column, "null", (word,)))
        elif request.period and period_column is None:
            period_column = column
        elif not request.period:
            states.append(State(column, "set", (word,)))
        claimed.add(word)
    if request.period and period_column is None:
        period_column = named_time(request, table, claimed)
    states += comment_states(request, table, claimed)
    claimed |= {w for s in states for w in s.words}
    states += flag_states(request, table, claimed)
    seen: dict[tuple[str, str], State] = {}
    for state in states:
        seen.setdefault((state.column, state.kind), state)
    return list(seen.values()), period_column
