"""Reading the conversation for the offline model: the question this turn answers, its tool results so far.

A follow-up ("and by month?", "run it") is merged with the question before it, a phrase or period it says
("and from France?", "and the month before that?") takes the place of the previous one's, "it" is the table the
previous answer was about, and the SQL draft is the one last checked by a tool.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agent.models.language import (content_words, grain_of, month_start, period_of, spelled_numbers, split_instructions,
                                   strip_grain)
from agent.models.offline.intents import INTENT_WORDS, TABLE_NAME, detect_intent
from agent.models.request import has_groups, strip_groups
from agent.state import SQL_TOOLS, ToolResult, text_payload
from catalog_ingest.text import stem, words

FOLLOW_UP = re.compile(r"^\s*(?:and|also|what about|how about|now|same|then|instead|but|only|just)\b[\s,]*")
RUN = re.compile(r"\b(?:run|execute)\b|--run\b")
RUN_ONLY = re.compile(r"^\s*(?:please\s+)?(?:now\s+)?(?:run|execute)(?:\s+(?:it|that|this|the (?:query|sql)))?(?:\s+please)?\s*[.!?]*\s*$")
REPLACES = re.compile(r"\binstead\b|^\s*(?:now|rather)\b")
REFERS_BACK = re.compile(
    r"\b(?:it|its|it's|that|this|those|these|them|they|their|one|ones|same|above|previous|former|latter)\b"
    r"|(?<!\bare )(?<!\bwere )\bthere\b(?!\s+(?:been|be)\b)"  # not "how many are there?" (but "is there one for it?")
    r"|\bthe (?:table|dataset|query|sql|result|draft)\b"
)
"""Words by which a question refers to the previous answer; without one (or a follow-up marker) it stands alone."""
SAME = re.compile(r"^\s*(?:do\s+|show\s+|give\s+me\s+)?(?:the\s+)?same(?:\s+(?:thing|query|again))?"
                  r"(?:\s+(?:for|with|in|on|over))?\b")
"""'the same for b.refunds': the previous question, asked of another table."""
NEW_COUNT = re.compile(r"^\s*(?:how many|number of|count(?:\s+the)?)\s+([a-z_]+)", re.IGNORECASE)
"""A follow-up that counts something of its own ("and how many invoices?")."""
QUESTION_LEAD = re.compile(r"^\s*(?:how many|how much|count(?:\s+the)?|number of|total|sum of|average)\b", re.IGNORECASE)
"""How a question asks for its value: a follow-up about other rows that says none ("what about b.refunds that are
pending?") asks it the same way."""
FACT_KINDS = frozenset({"describe", "column", "partitions", "history", "stats"})
"""Kinds of fact about one table: a follow-up asking another kind asks it of the same table, not the previous
question again."""
SHIFTED_PERIOD = re.compile(r"^\s*(?:(?:and|what about|how about)\s+)?(?:for\s+|in\s+|on\s+)?(?:the\s+)?(?:(\d+)\s+)?"
                            r"(day|week|month|year)s?\s+(?:before|prior)(?:\s+(?:that|it|this|then))?\s*[?.!]*\s*$", re.IGNORECASE)
""""and the month before that?", "and the 30 days before that?": the period just before the previous question's."""
GROUPING_ONLY = re.compile(r"^\s*(?:now\s+)?(?:(?:split|broken|break|group|grouped|broke)(?:\s+(?:it|that|them|this))?"
                           r"(?:\s+(?:down|up|out))?\s+)?((?:by|per)\s+[a-z_]+(?:\s*(?:,|and)\s*[a-z_]+)*)\s*[?.!]*\s*$",
                           re.IGNORECASE)
""""split by month", "by country?": a breakdown of the previous question's answer, with no subject of its own."""
PHRASE_ONLY = re.compile(r"^\s*(from|on|in|for|at|via|through|during)\s+((?:the\s+)?[\w'-]+(?:\s+[\w'-]+){0,2})\s*[?.!]*\s*$",
                         re.IGNORECASE)
""""and from France?", "and on ios?": one phrase, which takes the place of the previous question's phrase with the same
preposition ("from Germany"), not a condition beside it."""
KINDRED_PREPOSITIONS = ({"from", "in", "at"}, {"on", "via", "through"}, {"for", "during", "in"})
"""Prepositions that say the same thing of a value ("orders from Germany", "and in France?")."""
CITED_TABLE = re.compile(r"`([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*){1,2})`")


@dataclass
class Conversation:
    question: str
    """The current question, numbers in digits; a follow-up ("and by month?", "run it") is merged with the one
    before."""
    results: list[ToolResult]
    run: bool
    """Execute the drafted SQL: the turn's ``--run``, or the question asks to ("... and run it")."""
    today: date
    previous_table: str | None = None
    """The table the previous turn's answer was about: what "it" or "that table" refers to."""
    refers_back: bool = False
    """The latest question refers to the previous answer ("it", "that table", "and by month?")."""

    @classmethod
    def read(cls, messages: Sequence[BaseMessage], today: date, run_requested: bool = False) -> Conversation:
        question, start, previous_table, refers = "", 0, None, False
        for i, message in enumerate(messages):
            if isinstance(message, HumanMessage):
                said = spelled_numbers(message.text.strip())  # "more than five items": 5
                refers = bool(question) and refers_back(said)
                if question:
                    previous_table = focus_table(messages[start:i]) or previous_table
                    question = follow_up(question, said, today)
                else:
                    question = said
                start = i + 1
        calls: dict[str, dict[str, Any]] = {}
        results = []
        for message in messages[start:]:
            if isinstance(message, AIMessage):
                calls.update({c["id"]: c for c in message.tool_calls})
            elif isinstance(message, ToolMessage):
                call = calls.get(message.tool_call_id, {"name": message.name, "args": {}})
                results.append(ToolResult(call["name"], call["args"], message.status != "error", text_payload(message.text)))
        run = run_requested or bool(RUN.search(split_instructions(question)[0].lower()))
        return cls(question, results, run, today, previous_table, refers)

    def result(self, name: str, **args: Any) -> ToolResult | None:
        """The latest result of a tool called with these arguments (others may differ)."""
        for observed in reversed(self.results):
            if observed.name == name and all(observed.args.get(k) == v for k, v in args.items()):
                return observed
        return None


def refers_back(text: str) -> bool:
    """The text refers to the previous answer: a pronoun or "the table", a follow-up marker, "run it", or only
    a breakdown or a period before the previous one ("by reason?", "the day before?")."""
    lowered = text.lower()
    return bool(REFERS_BACK.search(lowered) or FOLLOW_UP.match(lowered) or RUN_ONLY.match(lowered)
                or GROUPING_ONLY.match(lowered) or SHIFTED_PERIOD.match(lowered))


def focus_table(turn: Sequence[BaseMessage]) -> str | None:
    """The first table a turn's answer names (`namespace.table`), else the last one its tools were called on."""
    answers = [m for m in turn if isinstance(m, AIMessage) and not m.tool_calls]
    if answers and (match := CITED_TABLE.search(answers[-1].text)):
        return match.group(1)
    tables = [c["args"]["table"] for m in turn if isinstance(m, AIMessage) for c in m.tool_calls if c["args"].get("table")]
    return tables[-1] if tables else None


def follow_up(previous: str, text: str, today: date) -> str:
    """The question a follow-up stands for: "run it" reruns the previous one, "and by month?" or "now by X
    instead" amend it, "and from France?" or "and the month before that?" replace the previous one's phrase or
    period, a question with no intent of its own that refers back ("which one is the latest?") extends it; any
    other question stands on its own."""
    if shift := SHIFTED_PERIOD.match(text):
        return shifted_period(previous, int(shift.group(1) or 1), shift.group(2).lower(), text, today)
    if grouping := GROUPING_ONLY.match(text):
        return merge(previous, grouping.group(1), today)
    if (phrase := PHRASE_ONLY.match(FOLLOW_UP.sub("", text, count=1))) and (replaced := replaced_phrase(previous, phrase, today)):
        return replaced
    if RUN_ONLY.match(text.lower()):
        return f"{previous.rstrip('?. ')} and run it"
    if not split_instructions(text)[0]:  # "validate it and return only the SQL": the same question, told how
        return f"{previous.rstrip('?. ')}. {text}"
    if FOLLOW_UP.match(text):
        return merge(previous, text, today)
    own = detect_intent(text)
    if not refers_back(text):  # a new question is read on its own
        return text
    if (own.kind == "unknown" or (own.kind == "find" and not content_words(text, INTENT_WORDS))) and not own.tables:
        extended = f"{previous.rstrip('?. ')}; {text}"
        return extended if detect_intent(extended).kind != "unknown" else text
    return text


def merge(previous: str, follow_up: str, today: date) -> str:
    """'weekly active users by country' + 'and by month?' -> 'active users by country by month';
    'count orders by status' + 'now by channel instead' -> 'count orders by channel';
    'rows of a.x' + 'and b.y?' -> 'rows of b.y'; 'orders in October' + 'and how many refunds?' -> refunds in
    October's dates."""
    addition = SAME.sub(" ", FOLLOW_UP.sub("", follow_up, count=1))
    named_before, named_now = TABLE_NAME.search(previous), TABLE_NAME.search(addition)
    if named_now and not content_words(TABLE_NAME.sub(" ", addition), INTENT_WORDS):
        if named_before:  # "count orders by region in a.orders" + "now the same for b.refunds": refunds by region
            before, now = (n.group(1).rpartition(".")[2] for n in (named_before, named_now))
            previous = re.sub(rf"\b{re.escape(before)}\b(?!\.)", now, previous.replace(named_before.group(1), "\0"))
            return previous.replace("\0", named_now.group(1))
        return f"{previous.rstrip('?. ')} in {named_now.group(1)}"
    own = detect_intent(addition).kind
    if own == "catalog" and detect_intent(previous).kind != "catalog":
        return addition  # "and across the whole lake, which table has the most rows?": the catalog, not the table before
    if named_now and named_before and named_now.group(1) != named_before.group(1) and says_its_rows(addition, named_now.group(1)):
        lead = QUESTION_LEAD.match(previous)  # "what about refunds in b.refunds that are pending?": asked as before
        return f"{lead.group(0)} {addition.strip()}" if own == "unknown" and lead else addition
    if own in FACT_KINDS and own != detect_intent(previous).kind and not has_groups(addition):
        return addition  # "how many rows does a.b have?" + "and the schema?": the schema, of the same table
    counted = NEW_COUNT.match(addition)
    if counted and counted.group(1) not in words(previous.lower()) and not REFERS_BACK.search(addition.lower()):
        period = period_of(previous, today) if period_of(addition, today) is None else None
        if period is not None:  # "and how many refunds?" after "orders in October": over the same dates
            return f"{addition.strip().rstrip('?. ')} between {period.start} and {period.end}"
        return addition  # "and how many invoices?": a count of something else, asked on its own
    if grain_of(addition.lower()):
        previous = strip_grain(previous.lower())
    if REPLACES.search(follow_up.lower()) and has_groups(addition):
        previous = strip_groups(previous)
        addition = REPLACES.sub(" ", addition)
    return f"{previous.rstrip('?. ')} {addition.strip()}"


def shifted_period(previous: str, count: int, unit: str, text: str, today: date) -> str:
    """The previous question asked of the ``count`` ``unit``s just before its period: "last month" becomes "the
    month before last", any other period the dates before it, said as a range; ``text`` alone (a period it
    does not resolve, so no confident answer) when the previous question names no period."""
    last = re.compile(rf"\b(?:last|previous|prior)\s+{unit}\b", re.IGNORECASE)
    if count == 1 and unit != "day" and last.search(previous):
        return last.sub(f"the {unit} before last", previous, count=1)
    period = period_of(previous, today)
    if period is None:
        return text
    end = period.start - timedelta(days=1)
    if unit == "day":
        start = end - timedelta(days=count - 1)
    elif unit == "week":
        start = end - timedelta(days=7 * count - 1)
    elif unit == "month":
        start = month_start(period.start, count)
    else:
        start = date(period.start.year - count, period.start.month, 1)
    return f"{previous.rstrip('?. ')} between {start} and {end}"


def replaced_phrase(previous: str, phrase: re.Match[str], today: date) -> str | None:
    """The previous question with its last phrase of the same preposition as ``phrase`` (a period for a period,
    else a value: "from Germany" for "from France") replaced by it; None when it has no such phrase."""
    preposition, said = phrase.group(1).lower(), phrase.group(2)
    if TABLE_NAME.search(said) or content_words(said, INTENT_WORDS) != content_words(said, ()):
        return None  # a table, or words that ask something ("on which day"): not a value or period alone
    is_period = period_of(f"{preposition} {said}", today) is not None
    kindred = [{preposition}, *(group for group in KINDRED_PREPOSITIONS if preposition in group)]
    candidates = []
    for prepositions in kindred:  # the same preposition first, then one that says the same
        said_as = "|".join(sorted(prepositions))
        phrases = re.finditer(rf"\b(?i:{said_as})\s+((?:[Tt]he\s+)?[A-Za-z][\w'-]*(?:\s+[A-Z][\w'-]*)*)", previous)
        candidates = [m for m in phrases  # a value of capitalised words runs on ("from South Korea")
                      if (period_of(m.group(0), today) is not None) == is_period and not TABLE_NAME.search(m.group(1))]
        if candidates:
            break
    if not candidates:
        return None
    last = candidates[-1]
    return f"{previous[: last.start(1)]}{said}{previous[last.end(1):]}"


def says_its_rows(text: str, table: str) -> bool:
    """The text names what the table's rows are, besides the table ("refunds in b.refunds"): a subject of its own."""
    rows = stem(table.rpartition(".")[2])
    return any(stem(word) == rows for word in words(TABLE_NAME.sub(" ", text).lower()))


def current_sql(convo: Conversation, draft: str, probes: tuple[str, ...] = (), tools: tuple[str, ...] = SQL_TOOLS) -> str:
    """The draft as last checked (repaired drafts replace it); the value probes are not drafts."""
    tried = [r.args.get("sql", draft) for r in convo.results if r.name in tools and r.args.get("sql") not in probes]
    return tried[-1] if tried else draft
