"""How a question's terms meet the words of an answer's evidence (the grounding check's matching).

A term is accounted for by the words of the tables, columns and values the evidence holds (its stem, a
general-English synonym either way, a verb form or a one-typo spelling), by the words of its clauses
(aggregates, groupings, periods: the word itself only) or by a table's name (as written, never a synonym).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.models.language import related, similar, singular, verb_forms
from agent.models.vocabulary import NEGATING_PREFIXES
from catalog_ingest.text import identifier_parts, stem, words


def name_words(name: str) -> set[str]:
    """``finance.refund_amount`` -> finance, refund, amount (and the stems)."""
    pieces = name.lower().split(".")
    parts = {p for piece in re.split(r"[^A-Za-z0-9]+", name) for p in identifier_parts(piece)} | {name.lower(), *pieces}
    return {form for p in parts if p for form in (p, stem(p))}


def text_words(text: str) -> set[str]:
    return {stem(w) for w in words(text)}


def phrase_words(phrases: str) -> set[str]:
    return {stem(w) for w in phrases.split()}


@dataclass
class Evidence:
    names: set[str] = field(default_factory=set)
    """Words of the tables, columns and values the evidence holds: a synonym of a term counts here."""
    clauses: set[str] = field(default_factory=set)
    """Words of the aggregates, groupings, periods and kinds of fact it gives: only the word itself (or a typo
    of it) counts, so "revenue" is not covered by any SUM because "total" is among its synonyms."""
    tables: set[str] = field(default_factory=set)
    """Words of the names of the tables the answer is about: they cover a term as it is written (or a typo of
    it), never through a synonym, so ``sales.orders`` does not cover "amount"."""
    unused_measures: set[str] = field(default_factory=set)
    """Names of the numeric columns of the SQL's tables that the SQL does not use: a question word such a
    column is named with ("spend" and ``spend_usd``) is a measure, which the table's name does not cover."""

    def __ior__(self, other: Evidence) -> Evidence:
        self.names |= other.names
        self.clauses |= other.clauses
        self.tables |= other.tables
        self.unused_measures |= other.unused_measures
        return self


def names_measure(term: str, found: Evidence) -> bool:
    """The term names a numeric column the SQL leaves out ("mrr" and ``mrr_usd``) and nothing but a table's name
    covers it: the table counted is not the measure asked for."""
    base = stem(term)
    columns = [c for c in found.unused_measures if related(term) & {stem(p) for p in identifier_parts(c)}]
    if not columns or base not in found.tables:
        return False
    return not accounted_for(term, Evidence(found.names, found.clauses), measures=False)


def accounted_for(term: str, found: Evidence, measures: bool = True) -> bool:
    """The term, a synonym either way of a name (``revenue`` ~ ``amount``, ``nation`` ~ ``country``), or a typo;
    not a measure word only a table's name covers (``names_measure``)."""
    if measures and names_measure(term, found):
        return False
    base, names, every = stem(term), found.names, found.names | found.clauses | found.tables
    if base in every or related(term) & names or any(base in related(word) for word in names) or singular(term) & every:
        return True
    if verb_forms(term) & {form for word in names for form in verb_forms(word)}:
        return True  # "opted" and opt_in, "clicked" and click, "manually" and 'manual'
    for prefix in NEGATING_PREFIXES:  # "unresolved": resolved_at IS NULL; "inactive": NOT is_active
        if term.startswith(prefix) and len(term) - len(prefix) >= 4 and stem("not") in found.clauses:
            return accounted_for(term[len(prefix) :], found, measures)
    return len(term) >= 5 and any(similar(form, word) for form in (term, base) for word in every if len(word) >= 5)
