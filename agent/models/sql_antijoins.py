"""Rows with no match in another table: "how many customers have never had a refund?" counts the customers for
which no refund row holds their key (``NOT EXISTS``), once the table of the thing said to be missing is described."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from agent.models.request import Request
from agent.models.sql_expressions import column, render_draft, table_as
from agent.models.sql_listing import conditions
from agent.models.tables import Table, points_to
from agent.models.vocabulary import EMPTY_WORDS
from catalog_ingest.text import QUESTION_STOPWORDS

MISSING_MARKERS = EMPTY_WORDS | frozenset("don doesn didn haven hasn hadn".split())
"""Words before the thing a row lacks: "never had a refund", "no email sends", "don't have any subscription"."""
PASSED_OVER = frozenset("t have has had any a an the been ever yet got get received made single".split())
"""Words between the marker and the thing: auxiliaries, articles, verbs of having."""
NOUNS_LOOKED_AT = 2


def missing_phrase(request: Request) -> list[str]:
    """The words after the first word saying something is missing ("email sends" in "no email sends")."""
    for i, word in enumerate(request.words):
        if word in MISSING_MARKERS:
            after = [w for w in request.words[i + 1 :] if w not in PASSED_OVER and w not in QUESTION_STOPWORDS]
            return after[:NOUNS_LOOKED_AT]
    return []


def missing_things(request: Request, main: Table) -> list[str]:
    """The nouns said to be missing from the rows ("refund" in "never had a refund"), when the rows counted are
    the main table's and it has no column for them: another table may hold them."""
    counted = request.measure[0] if request.measure else ""
    if request.agg != "count" or not main.is_about(counted):
        return []
    return [w for w in missing_phrase(request) if main.match(w)[1] < 5.5]  # "never ordered": the orders table


def anti_join(request: Request, main: Table, tables: list[Table]) -> tuple[str, str, list[str]] | None:
    """The count of the main table's rows that no row of a described table about the missing thing points to."""
    said = missing_things(request, main)
    for word in said:
        for other in tables:
            if other is main or not other.is_about(word) or (keys := points_to(other, main)) is None:
                continue
            missing: list[str] = []
            notes: list[str] = []
            matched = exp.select(exp.Literal.number(1)).from_(table_as(other.name, "o"))
            matched = matched.where(column(keys[0], "o").eq(column(keys[1], "t")))
            phrase = missing_phrase(request)
            phrase = phrase[: phrase.index(word) + 1]  # "no email sends": neither word is a value filter
            rest = replace(request, words=["" if w in phrase else w for w in request.words])
            where = [exp.Not(this=exp.Exists(this=matched)), *conditions(rest, main, main.time_column(), missing, notes)]
            query = exp.select(exp.alias_(exp.Count(this=exp.Star()), main.short)).from_(table_as(main.name, "t")).where(*where)
            said = f"Count of rows in {main.name} whose {keys[1]} no row of {other.name} holds (as {keys[0]})"
            return render_draft(query), " ".join([said, *notes]), missing
    return None
