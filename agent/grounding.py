"""The grounding check: is every content term of the question accounted for by the evidence of the answer?

Evidence is what the turn's tools returned, never the answer's own words: with a SQL draft, the tables,
columns, values, aggregates, groupings and date filters of that SQL (not its aliases, named after the question); without one,
the tables, columns, partitions, operations and listings the tools returned, and the kinds of fact each tool
gives (``describe_table`` accounts for "columns", ``table_history`` for "snapshots"). Names are split into
words and stemmed; a term also counts when a general-English synonym or a one-typo spelling of it is there.
A number the question gives ("over 100", "top 5") needs that number in the evidence (a literal, a limit, a
tool argument); a count of days or weeks, a period.

Any model's answer goes through it (a graph node, not part of a model): an answer with unaccounted terms is
labelled partial in its text and in the ``grounding`` field, and its SQL is called a draft that does not cover
them. An answer that declines is left as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from humanize import apnumber
from sqlglot import exp

from agent.grounding_words import Evidence, accounted_for, name_words, phrase_words, text_words
from agent.models.language import country_code, spelled_numbers, split_instructions, verb_forms
from agent.models.tables import NUMERIC
from agent.models.vocabulary import (
    AGGREGATE_WORDS,
    ATTRIBUTE_NOUNS,
    COMPARISON_WORDS,
    EMPTY_WORDS,
    FRAME_WORDS,
    GRAINS,
    LISTED_ROWS,
    NEGATION_WORDS,
    PARTICLES,
    PERIOD_WORDS,
    PREPOSITIONS,
    TOOL_WORDS,
)
from agent.rivals import ambiguous_terms, tables_read, unread_named_tables
from agent.semantic_view import layer_words
from agent.state import SQL_TOOLS, TurnFacts
from agent.grounding_doubts import (
    amount_counted,
    contradictory_filters,
    filtered_over_all,
    groups_unsaid,
    listing_aggregated,
    names_unshown,
    one_total_grouped,
    over_all,
    keys_grouped,
    parsed,
    values_counted,
)
from agent.twins import unsaid_measure_twins, unsaid_twins
from agent.verified_view import verified_evidence
from catalog_ingest.text import QUESTION_STOPWORDS, stem, words

DECLINES = re.compile(
    r"\b(?:i (?:cannot|can'?t|could not|couldn'?t|found no|do not|don'?t|am unable|ran out)|there is no|"
    r"there are no|has no|does not have|which table do you mean|what should the tables be about|not allowed)\b",
    re.IGNORECASE,
)
"""An answer that says what it could not do or find rather than presenting facts."""
PARTIAL = "Partial answer:"
QUALIFIED_NAME = re.compile(r"\b[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+")
"""A table written out (``finance.refunds``): its words name the table, not a measure."""
AGGREGATES = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max", exp.Median: "median"}
COMPARISONS = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
NEGATIONS = (exp.NEQ, exp.Not)
TIME_FUNCTIONS = (exp.DateTrunc, exp.TimestampTrunc, exp.CurrentDate, exp.CurrentTimestamp, exp.Interval,
                  exp.DateSub, exp.DateAdd)  # fmt: skip
ISO_DATE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?")
DATE_OR_TIME = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\b|\b\d{1,2}:\d{2}\b|\b(?:19|20)\d{2}\b")
TIME_UNIT = r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|quarters?|years?)"
NUMBER = re.compile(rf"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.]|\.\d)(\s+{TIME_UNIT}\b)?")
"""A number in a question ("over 100", "more than 3 items"), and the time unit after it ("7 days"), if any."""
YEAR = re.compile(r"(?<![\w.])(?:19|20)\d{2}(?![\w.]|\.\d)")
"""A year a question names ("in 2014", "since 2019-03-01"): the evidence must hold it, as a literal or a date."""
GROUPING = re.compile(r"\b(each|per)\b(?!\s+`?[A-Za-z_][\w-]*\.[A-Za-z_])|\b(?:for|in)\s+(every)\b", re.IGNORECASE)
""""for each year", "per country", "in every category": an aggregate the SQL does not group is not what was asked;
"per a.b" names the table it is according to."""


@dataclass
class Grounding:
    accounted: list[str] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)
    rivals: dict[str, list[str]] = field(default_factory=dict)
    """Unaccounted terms only the answer's table name covers, and the same-named tables of other namespaces
    the turn also found (``agent.rivals``): which one the question means is not known."""
    keyed: dict[str, str] = field(default_factory=dict)
    """Unaccounted things the SQL groups by the key of (``order_id`` for "order"), not by a name."""

    def as_dict(self) -> dict[str, list[str]]:
        return {"accounted": self.accounted, "unaccounted": self.unaccounted}


LOOSE_PREPOSITION = re.compile(rf"\b({'|'.join(PREPOSITIONS)})\b(?!(?:\s+[^\s\d]+){{0,2}}\s+\$?\d)", re.IGNORECASE)
"""A comparison word with no number in the next three words: a preposition ("came in over chat")."""


def question_terms(question: str) -> list[str]:
    """The words that say what a question asks about: no stop words, framing, instructions or bare numbers."""
    asked = split_instructions(question)[0]
    codes = {w.lower() for w in re.findall(r"\b[A-Z]{2,4}\b", asked)}  # "US", "IT": a code, not the common word
    loose = {m.group(1).lower() for m in LOOSE_PREPOSITION.finditer(asked)}
    terms = [w for w in words(asked) if len(w) > 1 and not w.isdigit() and w not in loose]
    terms = [w for w in terms if (w in codes or w not in QUESTION_STOPWORDS) and w not in FRAME_WORDS]
    return list(dict.fromkeys(terms))


def attribute_nouns(question: str, sql: str) -> set[str]:
    """Nouns that name the column before them ("reason code", "device type") when that column is the SQL's."""
    try:
        columns = {c.name.lower() for c in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Column)}
    except sqlglot.errors.ParseError:
        return set()
    said = words(split_instructions(question)[0])
    return {noun for before, noun in zip(said, said[1:], strict=False) if noun in ATTRIBUTE_NOUNS and before in columns}


def question_numbers(question: str) -> list[tuple[str, bool]]:
    """The numbers a question gives (a threshold, a top N, a count of days), each with whether it counts a time
    span ("the last 7 days"); dates, times and years are periods, not numbers."""
    asked = DATE_OR_TIME.sub(" ", split_instructions(question)[0])
    return list(dict.fromkeys((m.group(1), bool(m.group(2))) for m in NUMBER.finditer(asked)))


def sql_evidence(sql: str) -> Evidence:
    """What a query covers: its tables, columns and values, its aggregates, groups, order and time filters. Not
    its aliases (nor so its result's column names): those are named after the question, and cover nothing."""
    found: set[str] = set()
    clauses: set[str] = set()
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return Evidence(text_words(sql))
    tables: set[str] = set()
    for table in tree.find_all(exp.Table):
        tables |= name_words(".".join(p for p in (table.db, table.name) if p))
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    for col in tree.find_all(exp.Column):
        if not col.table and col.name.lower() in aliases:
            continue  # ORDER BY an output name: named after the question, as the alias is
        found |= name_words(col.sql(dialect="duckdb").replace('"', ""))
    dated = False
    for literal in tree.find_all(exp.Literal):
        if not literal.is_string:
            found.add(str(literal.this))
        if literal.is_string:
            found |= text_words(literal.this) | name_words(literal.this)
            dated = dated or bool(ISO_DATE.match(literal.this))
            if literal.this.lower() in set(GRAINS.values()):
                clauses |= phrase_words(" ".join(k for k, v in GRAINS.items() if v == literal.this.lower()))
    for kind, name in AGGREGATES.items():
        if tree.find(kind):
            clauses |= phrase_words(AGGREGATE_WORDS[name])
            if kind is exp.Count and tree.find(exp.Distinct):
                clauses |= phrase_words(AGGREGATE_WORDS["distinct"])
    if isinstance(tree, exp.Select) and tree.args.get("distinct"):  # SELECT DISTINCT: the different values
        clauses |= phrase_words(AGGREGATE_WORDS["distinct"])
    if tree.find(exp.Filter) and tree.find(exp.Div):
        clauses |= phrase_words(AGGREGATE_WORDS["share"])
    if any(tree.find(kind) for kind in COMPARISONS):
        clauses |= phrase_words(COMPARISON_WORDS)
    if any(tree.find(kind) for kind in NEGATIONS):
        clauses |= phrase_words(NEGATION_WORDS)
    nothing = [eq for eq in tree.find_all(exp.EQ) if isinstance(eq.expression, exp.Literal) and eq.expression.this == "0"]
    unmatched = any(isinstance(found.parent, exp.Not) for found in tree.find_all(exp.Exists))  # NOT EXISTS
    if nothing or unmatched or any(isinstance(test.expression, exp.Null) and not isinstance(test.parent, exp.Not)
                                   for test in tree.find_all(exp.Is)):  # fmt: skip
        clauses |= {stem(w) for w in EMPTY_WORDS} | phrase_words(NEGATION_WORDS)  # "no campaign", "never opened"
    if tree.find(exp.Group):
        clauses |= phrase_words(AGGREGATE_WORDS["group"])
    if tree.find(exp.Order) or tree.find(exp.Limit):
        clauses |= phrase_words(AGGREGATE_WORDS["order"])
    if (limit := tree.find(exp.Limit)) and isinstance(limit.expression, exp.Literal):
        clauses.add(apnumber(int(limit.expression.this)))
        if tree.find(exp.AggFunc) is None:
            clauses |= {stem(w) for w in LISTED_ROWS}  # "the five slowest log lines": the rows, listed
    if dated or any(tree.find(kind) for kind in TIME_FUNCTIONS):
        clauses |= {stem(w) for w in PERIOD_WORDS}
    return Evidence(found, clauses, tables)


def filtered_columns(sql: str) -> set[str]:
    """Columns the query tests for null or compares with a date: their comments say what the test means
    ("Null while open", "When the refund was issued")."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return set()
    tested = {c.name.lower() for test in tree.find_all(exp.Is) for c in test.find_all(exp.Column)}
    for compared in tree.find_all(*COMPARISONS):
        if any(lit.is_string and ISO_DATE.match(lit.this) for lit in compared.find_all(exp.Literal)):
            tested |= {c.name.lower() for c in compared.find_all(exp.Column)}
    return tested


def comment_evidence(facts: TurnFacts, sql: str) -> set[str]:
    """The words of the comments of the columns ``filtered_columns`` finds, in the described tables."""
    tested, found = filtered_columns(sql), set()
    for result in facts.results:
        if tested and result.ok and result.name == "describe_table":
            comments = (result.data.get("metadata_untrusted") or {}).get("column_comments") or {}
            found |= {w for name, said in comments.items() if name.lower() in tested for w in text_words(str(said or ""))}
    return found


def unused_measures(facts: TurnFacts, sql: str) -> set[str]:
    """The numeric, non-key columns of the described tables the SQL reads from that it does not use."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return set()
    read = tables_read(tree)
    used = {c.name.lower() for c in tree.find_all(exp.Column)}
    unused = set()
    for result in facts.results:
        if result.ok and result.name == "describe_table" and str(result.data.get("table", "")).lower() in read:
            unused |= {str(c["name"]).lower() for c in listed(result.data, "columns")
                       if NUMERIC.match(str(c.get("type", "")).lower()) and str(c["name"]).lower() not in used
                       and not str(c["name"]).lower().endswith("id")}  # fmt: skip
    return unused


def listed(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The rows under ``key`` when it holds a list of objects (``partitions`` may also be a count)."""
    value = data.get(key)
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def tool_evidence(name: str, args: dict[str, Any], data: dict[str, Any], cited: set[str]) -> Evidence:
    """What one non-SQL tool result covers: the names and values it returned and the kind of facts it gives."""
    found: set[str] = set()
    clauses = phrase_words(TOOL_WORDS.get(name, ""))
    for key, value in args.items():
        if key == "query":  # what was searched for is not evidence that it was found
            continue
        if isinstance(value, str):
            found |= name_words(value)
        elif value is True:  # a filter asked for (pii=true): its name is what was filtered on
            found |= name_words(key)
        elif isinstance(value, int) and not isinstance(value, bool):
            clauses |= name_words(key) | {apnumber(value), str(value)}
    if name == "search_tables":
        for hit in data.get("tables", []):
            if hit["table"] in cited:
                found |= name_words(hit["table"])
                found |= {w for c in hit.get("matched_columns") or [] for w in name_words(c)}
                found |= text_words((hit.get("metadata_untrusted") or {}).get("comment") or "")
        return Evidence(found, clauses)
    if data.get("table"):
        found |= name_words(data["table"])
    meta = data.get("metadata_untrusted") or {}
    found |= text_words(" ".join([meta.get("owner") or "", *meta.get("tags", [])]))
    found |= {w for c in listed(data, "columns") for w in name_words(str(c.get("name", "")))}
    found |= {w for p in listed(data, "partitions") for w in name_words(str(p.get("partition", "")))}
    found |= {w for op in data.get("operations") or {} for w in name_words(str(op))}
    found |= {w for row in listed(data, "tables") for w in name_words(str(row.get("table", "")))}
    if args.get("filter") and ".." in str(args["filter"]) or data.get("period"):
        clauses |= {stem(w) for w in PERIOD_WORDS}
    return Evidence(found, clauses)


def evidence(facts: TurnFacts, cited: set[str]) -> Evidence:
    """The stemmed words the answer's evidence covers: the SQL draft's when there is one, else the tools'."""
    taught = layer_words(facts.results, cited)  # phrases a semantic-layer entry matched, for a cited table
    found = Evidence(set(taught), set(taught), {w for table in cited for w in name_words(table)})
    if facts.sql:
        found |= sql_evidence(facts.sql)
        found.names |= comment_evidence(facts, facts.sql)
        found.unused_measures = unused_measures(facts, facts.sql)
        verified = text_words(verified_evidence(facts))  # a verified query's SQL accounts for its own question
        found |= Evidence(verified, verified)
        return found
    for result in facts.results:
        if result.ok and result.name not in SQL_TOOLS:
            found |= tool_evidence(result.name, result.args, result.data, cited)
    return found


def ground(question: str, facts: TurnFacts, cited: set[str], inherited: list[str] = ()) -> Grounding:
    """Each content term of the question, accounted for by the evidence or not; a number written in words is a
    number ("more than five": 5 in the SQL). ``inherited``: the words a follow-up's thread could not account for
    in its previous answer over the same tables ("usd" in "how much did we refund in USD?"), unaccounted still
    unless this answer's evidence covers them ("and in September?" asks the same, with the same gap)."""
    question = spelled_numbers(question)
    found = evidence(facts, cited)
    grounding = Grounding()
    outside_names = set(words(QUALIFIED_NAME.sub(" ", question)))  # "refunds" in finance.refunds names the table
    terms = question_terms(question)
    paired = phrasal_verbs(question, found) | country_names(question, found) | (attribute_nouns(question, facts.sql) if facts.sql else set())
    totalled = over_all(question) if facts.sql and aggregates_ungrouped(facts.sql) else set()
    for term in terms:  # "across all regions" with one total: the regions are all in it
        covered = term in paired or term in totalled or accounted_for(term, found, measures=term in outside_names)
        (grounding.accounted if covered else grounding.unaccounted).append(term)
    every = found.names | found.clauses | found.tables
    for number, spans_time in question_numbers(question):  # a threshold the SQL has no literal for was dropped
        covered = number in every or (spans_time and stem("day") in found.clauses)
        (grounding.accounted if covered else grounding.unaccounted).append(number)
    for year in dict.fromkeys(YEAR.findall(split_instructions(question)[0])):  # a year the SQL does not filter on
        (grounding.accounted if year in every else grounding.unaccounted).append(year)
    if facts.sql and aggregates_ungrouped(facts.sql):
        said = [m.group(m.lastindex) for m in GROUPING.finditer(question.lower())]
        grounding.unaccounted += [w for w in dict.fromkeys(said) if w not in grounding.unaccounted]
    if facts.sql:
        taught = layer_words(facts.results, cited)  # the lake owner's metric says which of two twins it means
        tree = parsed(facts.sql)  # one tree for every doubt
        grounding.keyed = keys_grouped(question, tree)
        doubts = [*one_total_grouped(question, tree), *names_unshown(question, tree), *grounding.keyed,
                  *listing_aggregated(question, tree), *amount_counted(question, tree), *values_counted(question, tree),
                  *contradictory_filters(tree), *groups_unsaid(question, tree), *filtered_over_all(question, tree),
                  *unsaid_twins(question, facts, facts.sql),
                  *(w for w in unsaid_measure_twins(question, facts, facts.sql) if stem(w) not in taught)]  # fmt: skip
        grounding.accounted = [t for t in grounding.accounted if t not in doubts]
        grounding.unaccounted += [w for w in doubts if w not in grounding.unaccounted]
    if facts.sql:
        grounding.rivals = ambiguous_terms(grounding.accounted, found, facts, facts.sql)
        elsewhere = [*grounding.rivals, *unread_named_tables(grounding.accounted, found, facts, facts.sql)]
        grounding.accounted = [t for t in grounding.accounted if t not in elsewhere]
        grounding.unaccounted += list(dict.fromkeys(elsewhere))
    grounding.unaccounted += [t for t in inherited if t.isalpha() and t not in grounding.unaccounted and not accounted_for(t, found)]
    return grounding


def aggregates_ungrouped(sql: str) -> bool:
    """The query aggregates and groups by nothing (one row for the whole table)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return False
    return tree.find(exp.AggFunc) is not None and tree.find(exp.Group) is None and tree.find(exp.Window) is None


def phrasal_verbs(question: str, found: Evidence) -> set[str]:
    """A verb and its particle a name of the evidence joins ("signed up" and ``signup_at``): both accounted for."""
    said, covered = words(split_instructions(question)[0]), set()
    for verb, particle in zip(said, said[1:], strict=False):
        if particle in PARTICLES and any(form + particle in found.names for form in verb_forms(verb)):
            covered |= {verb, particle}
    return covered


def country_names(question: str, found: Evidence) -> set[str]:
    """The words of a country ("Germany", "United Kingdom") whose code (``DE``, ``GB``) the evidence holds."""
    said, covered = words(split_instructions(question)[0]), set()
    for before, word in zip(["", *said], said, strict=False):
        pair = country_code(f"{before}_{word}") if before else None
        if (code := pair or country_code(word)) and code in found.names:
            covered |= {word, before} if pair else {word}
    return covered


def declines(answer: str) -> bool:
    return DECLINES.search(answer) is not None


def partial_label(grounding: Grounding, has_sql: bool) -> str:
    """The first line of a partial answer: what it does not cover, and that its SQL is only a draft."""
    terms = ", ".join(f"'{t}'" for t in grounding.unaccounted)
    if has_sql and grounding.rivals:
        held = ", ".join(f"'{t}'" for t in grounding.rivals)
        tables = ", ".join(f"`{t}`" for t in next(iter(grounding.rivals.values())))
        unmapped = [f"'{t}'" for t in grounding.unaccounted if t not in grounding.rivals]
        rest = f"; nor could I map {', '.join(unmapped)} to a table, column, value or period" if unmapped else ""
        return (f"{PARTIAL} the SQL below is a draft that does not cover {terms}: other tables found hold {held} "
                f"too ({tables}) and I could not tell which table the question means{rest}, so it does not answer "
                "the question as asked.")  # fmt: skip
    if has_sql and grounding.keyed and set(grounding.unaccounted) <= set(grounding.keyed):
        keys = ", ".join(f"`{key}`" for key in dict.fromkeys(grounding.keyed.values()))
        return (f"{PARTIAL} the SQL below is a draft that does not cover {terms} by name: it groups by the key "
                f"{keys}, not by a name, as no name column of a table the key points to was found.")  # fmt: skip
    if has_sql:
        return (f"{PARTIAL} the SQL below is a draft that does not cover {terms}: I could not map "
                f"{'it' if len(grounding.unaccounted) == 1 else 'them'} to a table, column, value or period, "
                "so it does not answer the question as asked.")  # fmt: skip
    return (f"{PARTIAL} I could not map {terms} to anything in the catalog facts I found; "
            "what follows covers the rest of the question only.")  # fmt: skip
