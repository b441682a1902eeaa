"""The offline model's use of verified queries: a close paraphrase of a verified question gets its SQL.

``search_tables`` lists the verified pairs whose questions are close to the user's (``verified_queries``).
One is used only when the question neither adds nor changes a filter, table or measure: every content term
of the question is accounted for (the grounding check's own test) by the verified SQL or its question, every
filter value and number of the verified question is still asked for, and both name the same period. Then
the verified SQL goes through the usual checks (validate, estimate, run when asked) and the answer says
which verified query it is based on and from when.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from agent.inert import inert
from agent.models.language import period_of
from agent.models.offline.compose import run_line
from agent.models.offline.conversation import Conversation
from agent.verified_view import VERIFIED_KEY

NUMBER = re.compile(r"\b\d+\b")
MIN_PARAPHRASE_SIMILARITY = 0.7
"""Question embeddings closer than this are candidates; the term checks decide."""


def same_request(question: str, verified: str, sql: str, today: date) -> bool:
    """``question`` asks what ``verified`` asked, as far as the verified SQL can tell."""
    # imported here: the grounding module imports the language helpers, whose package imports this model
    from agent.grounding import Evidence, accounted_for, question_terms, sql_evidence, text_words

    evidence = sql_evidence(sql)
    evidence |= Evidence(text_words(verified), text_words(verified))
    if not all(accounted_for(term, evidence) for term in question_terms(question)):
        return False  # the question names something the verified query does not cover
    asked = Evidence(text_words(question), text_words(question))
    filters = {w.lower() for w in re.findall(r"'([^']*)'", sql)}
    if any(term in filters and not accounted_for(term, asked) for term in question_terms(verified)):
        return False  # the verified query filters on a value this question does not ask for
    if set(NUMBER.findall(question)) != set(NUMBER.findall(verified)):
        return False
    period, verified_period = period_of(question, today), period_of(verified, today)
    return (period and period.label) == (verified_period and verified_period.label)


def verified_match(search: dict[str, Any], convo: Conversation) -> dict[str, Any] | None:
    """The first listed verified pair this question is a paraphrase of."""
    return next((example for example in search.get(VERIFIED_KEY, [])
                 if example.get("similarity", 0) >= MIN_PARAPHRASE_SIMILARITY
                 and same_request(convo.question, example["question"], example["sql"], convo.today)), None)  # fmt: skip


def answer_from_verified(
    search: dict[str, Any], convo: Conversation, check: Callable[[str, Conversation], list[Any] | None]
) -> list[Any] | str | None:
    """The next tool calls for the verified SQL, or the answer text once checked; None when no pair fits."""
    example = verified_match(search, convo)
    if example is None:
        return None
    sql = example["sql"]
    validation = convo.result("validate_sql", sql=sql)
    if validation is not None and not validation.ok:
        return None  # the served catalog no longer takes it: draft as usual
    calls = check(sql, convo)
    if calls:
        return calls
    lines = [f"Based on a verified query from {example['verified_on']} ({inert(example['question'])}):",
             f"```sql\n{sql}\n```"]  # fmt: skip
    return "\n\n".join(line for line in [*lines, run_line(sql, convo)] if line)
