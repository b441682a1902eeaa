"""The offline model: a deterministic, rule-based chat model that drives the same graph as a real one.

Each call reads the conversation, then: intent detection (what kind of question) -> plan (the next tool
calls, given the tool results so far this turn) -> answer composition (from those results only). It knows
no catalog: every table, column and number in its answers comes from a tool message. It is the no-key
default and the test model; anything outside its question types gets a plain "cannot answer" with how to
configure a real model.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.inert import inert as quoted  # catalog-written text, quoted and never rendered
from agent.models.language import (
    content_words,
    correct_typos,
    grain_of,
    period_of,
    related,
    similar,
    split_instructions,
    strip_grain,
)
from agent.models.request import has_groups, parse_request, strip_groups, topic_words
from agent.models.sql_writer import Draft, choose_main, draft_sql, probe_sql, repair
from agent.models.tables import Table
from agent.models.values import read_probe
from agent.prompts import load_prompt
from agent.state import SQL_TOOLS, ToolResult, text_payload
from catalog_ingest.text import stem, words

FOOTER = (
    "_Answered by lakescout's offline rule-based model, from catalog facts only. For open-ended questions "
    "set LAKESCOUT_MODEL__NAME (e.g. openai:gpt-4o-mini)._"
)
CANNOT_ANSWER = (
    "I cannot answer that. I am lakescout's offline rule-based model: I handle finding tables for a topic, "
    "describing a table, its partitions, size and freshness, its snapshot and schema history, and simple SQL "
    "drafts (filters, counts, sums and averages by group, top N, joins on key columns).\n\n"
    "For other questions configure a real model: set `LAKESCOUT_MODEL__NAME` to a provider model such as "
    "`openai:gpt-4o-mini` (with `LAKESCOUT_MODEL__API_KEY`), or to a model name together with "
    "`LAKESCOUT_MODEL__BASE_URL` for an OpenAI-compatible server (Ollama, vLLM, LM Studio)."
)
READ_ONLY = (
    "lakescout is read-only: it answers questions about the lake and drafts and runs SELECT queries, nothing "
    "else. The SQL guard enforces this whatever any model drafts: one SELECT or WITH statement over the lake's "
    "tables, with no DDL or DML (DROP, DELETE, ALTER, INSERT, UPDATE, TRUNCATE, GRANT), no ATTACH, COPY, INSTALL "
    "or PRAGMA, and no file or network table functions."
)
REFUSALS = {
    "refuse-writes": "I can't do that: it would change data, a schema or permissions, and " + READ_ONLY
    + " Ask the table's owner to make changes with your lake's own tools.",
    "refuse-files": "I can't do that: it reads or writes files outside the lake's tables, which is not allowed. "
    + READ_ONLY + " Ask about a table in the catalog instead.",
}
FOLLOW_UP = re.compile(r"^\s*(?:and|also|what about|how about|now|same|then|instead|but|only|just)\b[\s,]*")
RUN = re.compile(r"\b(?:run|execute)\b|--run\b")
RUN_ONLY = re.compile(r"^\s*(?:please\s+)?(?:now\s+)?(?:run|execute)(?:\s+(?:it|that|this|the (?:query|sql)))?(?:\s+please)?\s*[.!?]*\s*$")
REPLACES = re.compile(r"\binstead\b|^\s*(?:now|rather)\b")
CITED_TABLE = re.compile(r"`([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*){1,2})`")


# Reading the conversation --------------------------------------------------------------------------------


@dataclass
class Conversation:
    question: str
    """The current question; a follow-up ("and by month?", "run it") is merged with the one before."""
    results: list[ToolResult]
    run: bool
    today: date
    previous_table: str | None = None
    """The table the previous turn's answer was about: what "it" or "that table" refers to."""

    @classmethod
    def read(cls, messages: Sequence[BaseMessage], today: date) -> Conversation:
        question, start, previous_table = "", 0, None
        for i, message in enumerate(messages):
            if isinstance(message, HumanMessage):
                if question:
                    previous_table = focus_table(messages[start:i]) or previous_table
                    question = follow_up(question, message.text.strip())
                else:
                    question = message.text.strip()
                start = i + 1
        calls: dict[str, dict[str, Any]] = {}
        results = []
        for message in messages[start:]:
            if isinstance(message, AIMessage):
                calls.update({c["id"]: c for c in message.tool_calls})
            elif isinstance(message, ToolMessage):
                call = calls.get(message.tool_call_id, {"name": message.name, "args": {}})
                results.append(ToolResult(call["name"], call["args"], message.status != "error", text_payload(message.text)))
        system = " ".join(m.text for m in messages if isinstance(m, SystemMessage))
        run = bool(RUN.search(split_instructions(question)[0].lower())) or load_prompt("run") in system
        return cls(question, results, run, today, previous_table)

    def result(self, name: str, **args: Any) -> ToolResult | None:
        """The latest result of a tool called with these arguments (others may differ)."""
        for observed in reversed(self.results):
            if observed.name == name and all(observed.args.get(k) == v for k, v in args.items()):
                return observed
        return None


def focus_table(turn: Sequence[BaseMessage]) -> str | None:
    """The first table a turn's answer names (`namespace.table`), else the last one its tools were called on."""
    answers = [m for m in turn if isinstance(m, AIMessage) and not m.tool_calls]
    if answers and (match := CITED_TABLE.search(answers[-1].text)):
        return match.group(1)
    tables = [c["args"]["table"] for m in turn if isinstance(m, AIMessage) for c in m.tool_calls if c["args"].get("table")]
    return tables[-1] if tables else None


def follow_up(previous: str, text: str) -> str:
    """The question a follow-up stands for: "run it" reruns the previous one, "and by month?" or "now by X
    instead" amend it, a question with no intent of its own ("which one is the latest?") extends it."""
    if RUN_ONLY.match(text.lower()):
        return f"{previous.rstrip('?. ')} and run it"
    if not split_instructions(text)[0]:  # "validate it and return only the SQL": the same question, told how
        return f"{previous.rstrip('?. ')}. {text}"
    if FOLLOW_UP.match(text):
        return merge(previous, text)
    own = detect_intent(text)
    if (own.kind == "unknown" or (own.kind == "find" and not content_words(text, INTENT_WORDS))) and not own.tables:
        extended = f"{previous.rstrip('?. ')}; {text}"
        return extended if detect_intent(extended).kind != "unknown" else text
    return text


def merge(previous: str, follow_up: str) -> str:
    """'weekly active users by country' + 'and by month?' -> 'active users by country by month';
    'count orders by status' + 'now by channel instead' -> 'count orders by channel';
    'rows of a.x' + 'and b.y?' -> 'rows of b.y'."""
    addition = FOLLOW_UP.sub("", follow_up, count=1)
    named_before, named_now = TABLE_NAME.search(previous), TABLE_NAME.search(addition)
    if named_now and not content_words(TABLE_NAME.sub(" ", addition), INTENT_WORDS):
        if named_before:
            return previous.replace(named_before.group(1), named_now.group(1))
        return f"{previous.rstrip('?. ')} in {named_now.group(1)}"
    if grain_of(addition.lower()):
        previous = strip_grain(previous.lower())
    if REPLACES.search(follow_up.lower()) and has_groups(addition):
        previous = strip_groups(previous)
        addition = REPLACES.sub(" ", addition)
    return f"{previous.rstrip('?. ')} {addition.strip()}"


# Intents -------------------------------------------------------------------------------------------------

UNSAFE: list[tuple[str, re.Pattern[str]]] = [
    ("files", re.compile(
        r"\bread_(?:csv|csv_auto|parquet|json|json_auto|ndjson|text|blob)\b|\bglob\s*\(|['\"](?:/|~/|[a-z]:\\)"
        r"|\bhttps?://|(?:^|\s)(?:/etc|/home|/root|/tmp|/var|~)/|\b(?:local|host|server|my) (?:files?|disk|filesystem)\b"
        r"|\b(?:write|save|export|dump|copy|store)\b[^.?]*\b(?:to|into|as) (?:a |the )?(?:local )?"
        r"(?:files?|disk|csv|parquet|json|s3|bucket|path|folder|directory)\b")),
    ("writes", re.compile(
        r"\b(?:drop|truncate|alter|create(?: or replace)?)\s+(?:table|view|schema|database|index|materialized)\b"
        r"|\bdelete\s+from\b|\binsert\s+(?:into|overwrite)\b|\bupdate\s+[\w.\"`]+\s+set\b|\bmerge\s+into\b"
        r"|\b(?:grant|revoke)\s+\w+.*\b(?:on|to|from)\b|\b(?:attach|detach)\s+(?:database\s+)?['\"\w]"
        r"|\b(?:install|load)\s+(?:extension\s+)?[a-z_]+\s*;?\s*$|\bpragma\b|\bexport\s+database\b"
        r"|^(?:(?:please|can you|could you|would you|i want to|i need to|let'?s|go ahead and|kindly)\s+)*"
        r"(?:drop|delete|remove|truncate|insert|update|alter|rename|modify|overwrite|purge|wipe|erase|grant|revoke"
        r"|add (?:a )?column)\b")),
]  # fmt: skip
"""Requests lakescout must decline whatever the catalog holds: reading or writing files, changing data."""
INTENTS: list[tuple[str, re.Pattern[str]]] = [
    ("find", re.compile(r"\b(?:which|what|where)\b.*\b(?:tables?|datasets?)\b|\b(?:find|search|look(?:ing)? for)\b"
                        r"|\bwhere (?:can|do|is|are|would)\b|^\s*(?:is|are) there\b|\bany (?:tables?|datasets?)\b"
                        r"|\b(?:do|does) (?:we|you|the lake|the catalog) (?:have|hold|keep|store|track)\b")),
    ("sql", re.compile(r"\b(?:sql|query|queries|select)\b")),
    ("column", re.compile(r"\b(?:what|which)(?:'s| is)? (?:the )?(?:data ?)?type\b|\bdata ?types?\b|\btype (?:of|is) "
                          r"(?:the )?(?:column|field)\b|\bprimary keys?\b|\buniquely\b|\bidentif(?:y|ies) (?:a|each|one)"
                          r" (?:row|record)|\bidentifier (?:fields?|columns?)\b|\b(?:row|unique|natural|business) keys?\b"
                          r"|\bwhat(?:'s| is| are)? (?:the )?keys?\b"
                          r"|\bhow is\b.*\bsorted\b|\bsort(?:ed)? order\b|\bsorted (?:on|by)\s*(?:what|which)?\s*\?*$"
                          r"|\b(?:how many|number of) (?:columns|fields)\b|\bcolumn count\b"
                          r"|\bwhat does\b.*\b(?:mean|contain|hold|represent)\b|\bmeaning of\b")),
    ("history", re.compile(r"\b(?:history|snapshots?|schema (?:changes?|evolution)|changed|commits?|operations?)\b"
                           r"|\b(?:deleted|rewritten|overwritten|overwrites?|compacted|compaction|repartitioned)\b"
                           r"|\bpartition(?:ing)? (?:specs?|spec history|evolution|changes?)\b|\bspecs?\b")),
    ("partitions", re.compile(r"\bpartition")),
    ("stats", re.compile(r"\bhow (?:big|large)\b|\bsize\b|\brow ?counts?\b|\b(?:how many|number of) (?:rows|records|entries)\b"
                         r"|\b(?:how many|number of) (?:data )?files\b|\bfile count\b|\b(?:disk|storage|bytes|footprint)\b"
                         r"|\bhow much space\b|\blast (?:written|updated|modified|write|refresh(?:ed)?|loaded)\b|\bfresh"
                         r"|\bwhen was\b|\bup to date\b|\bstale\b")),
    ("describe", re.compile(r"\b(?:describe|columns?|schema|fields?|structure|owner|owns|owned|pii|details)\b"
                            r"|\bwhat(?: is|'s) in\b|\btell me about\b")),
    ("sql", re.compile(r"\b(?:count|how many|number of|sum|total|average|avg|mean|top|per|by|hourly|daily|weekly"
                       r"|monthly|yearly|minimum|maximum|min|max)\b|\b\d+\s+[a-z_]+\b.*\b(?:most|highest|lowest|least"
                       r"|fewest|largest|biggest|smallest)\b")),
]  # fmt: skip
SQL_WORD = re.compile(r"\b(?:sql|query|queries|select|statement)\b")
"""An instruction naming one of these asks for a query ("return only the SQL")."""
SQL_SHAPE = re.compile(r"\b(?:by|per|each|where|grouped|top|whose)\b|\bwith (?:status|state|type|level)\b")
"""A grouping or a filter: turns a row-count question into a query."""
OPEN_QUESTION = re.compile(r"^\s*(?:which|where|is there|are there|do we|does the lake|any)\b")
"""Questions about what the lake holds that name no question type: searched for rather than declined."""
INTENT_WORDS = frozenset(
    "describe columns column schema fields field structure owner owns owned pii details partition partitions "
    "partitioned history snapshots snapshot changes changed commits big large size row rows count counts "
    "written updated modified write refresh refreshed loaded fresh freshness stale latest newest recent most "
    "spec specs scheme key keys how many number last week weeks day days month months year years exist range "
    "tell between since yesterday today current type types data primary sorted sort order identifies uniquely "
    "identify identifier operation operations deleted rewritten overwritten records record files file disk "
    "space storage bytes take takes much kinds kind ever committed mean means".split()
)
TABLE_NAME = re.compile(r"`?\b([A-Za-z_][\w-]*\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)?)\b`?")


@dataclass
class Intent:
    kind: str
    topic: list[str]
    tables: list[str]
    """Tables the question names outright (``sales.orders``), in order."""

    @property
    def table(self) -> str | None:
        return self.tables[0] if self.tables else None


def detect_intent(question: str) -> Intent:
    """What kind of question this is, what it is about, and which tables it names. Instructions to the
    assistant ("validate it", "return only the SQL") are not what the question is about; one that asks for SQL
    makes it a SQL question."""
    unsafe = next((kind for kind, pattern in UNSAFE if pattern.search(correct_typos(question).lower())), None)
    question, instructions = split_instructions(question)
    question = correct_typos(question)
    text = question.lower()
    kind = "refuse-" + unsafe if unsafe else next((k for k, pattern in INTENTS if pattern.search(text)), "unknown")
    if kind in ("unknown", "find") and SQL_WORD.search(" ".join(instructions).lower()):
        kind = "sql"
    if kind == "stats" and SQL_SHAPE.search(text) and not re.search(r"\bhow (?:big|large)|\bsize\b|\bdisk\b", text):
        kind = "sql"
    if kind == "unknown" and OPEN_QUESTION.search(text):
        kind = "find"
    tables = [t for t in TABLE_NAME.findall(question) if not re.fullmatch(r"\d+(\.\d+)*", t)]
    rest = TABLE_NAME.sub(" ", question) if tables else question
    topic = topic_words(rest) if kind == "sql" else content_words(rest, INTENT_WORDS if kind != "find" else frozenset())
    return Intent(kind, topic, list(dict.fromkeys(tables)))


# Plans -----------------------------------------------------------------------------------------------------


@dataclass
class Call:
    name: str
    args: dict[str, Any]


@dataclass
class Answer:
    text: str


Step = list[Call] | Answer
"""Tool calls to make next, or the answer."""


def pick_table(intent: Intent, convo: Conversation) -> str | Step:
    """The one table a question is about: named outright (corrected by the tools' suggestion), the previous
    answer's table for a question that only refers back ("how big is it?"), or searched."""
    if intent.table:
        failed = next((r for r in convo.results if not r.ok and r.args.get("table") == intent.table), None)
        if failed is None:
            return intent.table
        suggestions = failed.data.get("did_you_mean") or []
        return suggestions[0] if suggestions else Answer(failure(failed))
    if convo.previous_table and (not intent.topic or intent.kind == "column"):
        return convo.previous_table
    if not intent.topic:
        return Answer("Which table do you mean? Name it (for example `namespace.table`) or say what it holds.")
    search = convo.result("search_tables")
    if search is None:
        return [Call("search_tables", {"query": " ".join(intent.topic), "k": 5})]
    hits = search.data.get("tables", [])
    if not hits or (intent.kind != "column" and not covered_words(intent.topic, hits)):
        return Answer(compose_not_found(hits, intent.topic))
    named = [h for h in hits if any(stem(h["table"].rpartition(".")[2]) == stem(w) for w in intent.topic)]
    return (named or hits)[0]["table"]


def single_table(tool: str, compose: Callable[[dict[str, Any], str], str]) -> Callable[[Intent, Conversation], Step]:
    """Plan for questions one tool call on one table answers: find the table, call the tool, compose."""

    def plan(intent: Intent, convo: Conversation) -> Step:
        table = pick_table(intent, convo)
        if not isinstance(table, str):
            return table
        observed = convo.result(tool, table=table)
        if observed is None:
            return [Call(tool, {"table": table})]
        return Answer(compose(observed.data, convo.question) if observed.ok else failure(observed))

    return plan


def plan_find(intent: Intent, convo: Conversation) -> Step:
    if not intent.topic:
        return Answer("What should the tables be about? For example: 'which table has refunds by region?'")
    search = convo.result("search_tables")
    if search is None:
        return [Call("search_tables", {"query": " ".join(intent.topic), "k": 5})]
    hits = search.data.get("tables", [])
    if not covered_words(intent.topic, hits):
        return Answer(compose_not_found(hits, intent.topic))
    return Answer(compose_find(search.data, intent.topic))


def hit_words(hit: dict[str, Any]) -> set[str]:
    """Stemmed words of a search hit: its name, matched columns and description."""
    names = " ".join([hit["table"], *(hit.get("matched_columns") or [])]).replace(".", " ").replace("_", " ")
    comment = (hit.get("metadata_untrusted") or {}).get("comment") or ""
    return {stem(w) for w in words(f"{names} {comment}")}


def covered_words(topic: list[str], hits: list[dict[str, Any]]) -> list[str]:
    """The topic words some hit's name, matched columns or description shares (up to a typo or synonym)."""
    seen = set().union(*(hit_words(h) for h in hits)) if hits else set()
    return [w for w in topic if related(w) & seen or any(similar(stem(w), s) for s in seen)]


def plan_partitions(intent: Intent, convo: Conversation) -> Step:
    table = pick_table(intent, convo)
    if not isinstance(table, str):
        return table
    overview = convo.result("list_partitions", table=table, filter=None)
    if overview is None:
        return [Call("list_partitions", {"table": table, "filter": None, "limit": 5})]
    if not overview.ok:
        return Answer(failure(overview))
    latest = overview.data.get("latest")
    anchor = min(convo.today, datetime.fromisoformat(latest).date()) if latest else convo.today
    period = period_of(convo.question, anchor)
    if period is None or overview.data.get("partitioning") == "not partitioned":
        return Answer(compose_partitions(overview.data, convo.question))
    ranged = convo.result("list_partitions", table=table, filter=period.filter())
    if ranged is None:
        return [Call("list_partitions", {"table": table, "filter": period.filter(), "limit": 50})]
    note = ""
    if period.relative and anchor != convo.today:
        note = f" Relative dates are counted back from the latest partition ({anchor}), not from today."
    return Answer(compose_range(ranged.data, period.label, note) if ranged.ok else failure(ranged))


def plan_sql(intent: Intent, convo: Conversation) -> Step:
    """Search, describe the likely tables, look up column values the question may name, draft, check."""
    search = convo.result("search_tables")
    if search is None:
        query = " ".join(intent.topic) or convo.question
        return [Call("search_tables", {"query": query, "k": 5})]
    found = search.data.get("tables", [])
    named = intent.tables or ([convo.previous_table] if convo.previous_table and not intent.topic else [])
    if not named and lacks_topic(intent.topic, found):
        return Answer(compose_not_found(found, intent.topic))
    hits = list(dict.fromkeys([*named, *(h["table"] for h in found)]))[: max(3, len(named))]
    if not hits:
        return Answer(f"I found no table for '{' '.join(intent.topic)}', so I cannot draft SQL for it.")
    described = [convo.result("describe_table", table=t) for t in hits]
    if any(d is None for d in described):
        return [Call("describe_table", {"table": t}) for t, d in zip(hits, described, strict=True) if d is None]
    tables = [Table.from_description(d.data) for d in described if d is not None and d.ok]
    request = parse_request(convo.question, convo.today)
    main = choose_main(request, tables, named)
    if main is None:
        return Answer("I could not read any of the matching tables, so I cannot draft SQL.")
    probe = probe_sql(request, main)
    if probe and (probed := convo.result("run_sql", sql=probe)) is None:
        return [Call("run_sql", {"sql": probe, "limit": 500})]
    main.values = read_probe(probed.data) if probe and probed.ok else {}
    draft = draft_sql(request, tables, main)
    stored = next((d.data for d in described if d and d.ok and d.data.get("table") == draft.table), {})
    return check_sql(draft.sql, convo, probe) or Answer(compose_sql(draft, convo, stored, probe))


def lacks_topic(topic: list[str], hits: list[dict[str, Any]]) -> bool:
    """Most of what the question is about (two words or more) appears in no table the search found."""
    missing = len(topic) - len(covered_words(topic, hits))
    return missing >= 2 and 2 * missing >= len(topic)


def check_sql(sql: str, convo: Conversation, probe: str | None = None) -> list[Call] | None:
    """Validate, repair from the validator's hints, estimate, run when asked; None when all is done."""
    current = current_sql(convo, sql, probe)
    validation = convo.result("validate_sql", sql=current)
    if validation is None:
        return [Call("validate_sql", {"sql": current})]
    if not validation.ok:
        fixed = repair(current, validation.data.get("errors", []))
        if fixed is None or convo.result("validate_sql", sql=fixed):
            return None
        return [Call("validate_sql", {"sql": fixed})]
    if convo.result("estimate_scan", sql=current) is None:
        return [Call("estimate_scan", {"sql": current})]
    if convo.run and convo.result("run_sql", sql=current) is None:
        return [Call("run_sql", {"sql": current})]
    return None


def current_sql(convo: Conversation, draft: str, probe: str | None, tools: tuple[str, ...] = SQL_TOOLS) -> str:
    """The draft as last checked (repaired drafts replace it); the value probe is not a draft."""
    tried = [r.args.get("sql", draft) for r in convo.results if r.name in tools and r.args.get("sql") != probe]
    return tried[-1] if tried else draft


def compose_sql(draft: Draft, convo: Conversation, stored: dict[str, Any], probe: str | None) -> str:
    sql = current_sql(convo, draft.sql, probe, ("validate_sql", "run_sql"))
    validation = convo.result("validate_sql", sql=sql)
    lines = []
    if draft.whole_table_count and stored.get("rows") is not None:
        lines.append(f"`{draft.table}` has {stored['rows']:,} rows in its current snapshot {stored.get('snapshot_id')}"
                     f" (as of {stored.get('as_of') or 'unknown'}), from the catalog's statistics. To count them:")  # fmt: skip
    lines.append(f"{draft.explanation}." if sql == draft.sql else "I fixed the draft after the validator's errors.")
    lines.append(f"```sql\n{sql}\n```")
    if draft.missing:
        lines.append("I could not match " + "; ".join(draft.missing) + ", so the query leaves that out.")
    if validation is not None and not validation.ok:
        lines.append("The query still fails validation: " + "; ".join(validation.data.get("errors", [])))
    ran = convo.result("run_sql", sql=sql)
    if ran is not None:
        lines.append(compose_result(ran.data) if ran.ok else f"Running it failed: {ran.data.get('error')}")
    elif not convo.run:
        lines.append("Ask me to run it (or pass --run) to see the result.")
    return "\n\n".join(lines)


def plan(intent: Intent, convo: Conversation) -> Step:
    if intent.kind in REFUSALS:
        return Answer(REFUSALS[intent.kind])
    if intent.kind not in PLANS:
        return Answer(CANNOT_ANSWER)
    return PLANS[intent.kind](intent, convo)


# Answers -----------------------------------------------------------------------------------------------


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def counted(value: int | None, noun: str) -> str | None:
    """``1 file``, ``1,234 files``; None when the catalog has no count."""
    return None if value is None else f"{value:,} {noun}{'' if value == 1 else 's'}"


def size_sentence(d: dict[str, Any]) -> str:
    parts = [counted(d.get("rows"), "row"), counted(d.get("files"), "file"), d.get("size")]
    parts.append(counted(d.get("partitions") or None, "partition"))
    return ", ".join(p for p in parts if p) or "no size statistics"


def failure(observed: ToolResult) -> str:
    error = observed.data.get("error", "the tool failed")
    suggestions = observed.data.get("did_you_mean")
    return f"{error}." + (f" Did you mean {', '.join(f'`{s}`' for s in suggestions)}?" if suggestions else "")


def compose_find(data: dict[str, Any], topic: list[str]) -> str:
    hits = data.get("tables", [])
    if not hits:
        return f"I found no table about '{' '.join(topic)}'. Try other words, or list tables by namespace."
    lines = [f"The best match for '{' '.join(topic)}' is `{hits[0]['table']}`.", ""]
    for i, hit in enumerate(hits, 1):
        comment = quoted(hit.get("metadata_untrusted", {}).get("comment"))
        matched = ", ".join(hit.get("matched_columns") or [])
        line = f"{i}. `{hit['table']}`" + (f": {comment}" if comment else "")
        line += (f"; matching columns: {matched}" if matched else "") + f"; {hit.get('partitioning')}"
        line += f"; {size_sentence(hit)}" + (f", last written {hit['last_updated']}" if hit.get("last_updated") else "")
        lines.append(line)
    return "\n".join(lines)


def compose_describe(d: dict[str, Any], question: str = "") -> str:
    meta = d.get("metadata_untrusted", {})
    lines = [f"`{d['table']}` ({d.get('kind')}, {d.get('format') or 'unknown format'})"
             + (f": {quoted(meta.get('comment'))}" if meta.get("comment") else "")]  # fmt: skip
    lines.append(f"- Partitioning: {d.get('partitioning')}" + (f"; sorted by {d['sort_order']}" if d.get("sort_order") else ""))
    lines.append(f"- Size: {size_sentence(d)}; last written {d.get('last_updated') or 'unknown'}")
    lines.append(f"- Current snapshot: {d.get('snapshot_id') or 'none'} (as of {d.get('as_of') or 'unknown'})")
    if meta.get("owner") or meta.get("tags"):
        lines.append(f"- Owner: {quoted(meta.get('owner')) or 'unknown'}; tags: {', '.join(map(quoted, meta.get('tags', []))) or 'none'}")
    if d.get("pii_columns"):
        lines.append(f"- PII columns (masked in results): {', '.join(d['pii_columns'])}")
    comments = meta.get("column_comments", {})
    shown = f" (showing {d['columns_shown']})" if d.get("columns_shown") else ""
    lines.append(f"\nColumns{shown}:")
    for col in d.get("columns", []):
        flags = [f for f in ("pii", "partition_key") if col.get(f)]
        note = f" {quoted(comments[col['name']], 80)}" if col["name"] in comments else ""
        lines.append(f"- `{col['name']}` {col['type']}" + (f" [{', '.join(flags)}]" if flags else "") + note)
    return "\n".join(lines)


def compose_stats(d: dict[str, Any], question: str = "") -> str:
    size = f" ({d['bytes']:,} bytes)" if d.get("bytes") is not None else ""
    return (
        f"`{d['table']}` holds {size_sentence(d)}{size}. It was last written {d.get('last_updated') or 'at an unknown time'}"
        f" (current snapshot {d.get('snapshot_id') or 'none'}, as of {d.get('as_of') or 'unknown'}); "
        f"{d.get('partitioning')}."
    )


DELETING = frozenset({"delete", "overwrite", "replace"})
"""Snapshot operations that remove or rewrite rows (``replace`` rewrites files, e.g. compaction)."""


def compose_history(d: dict[str, Any], question: str = "") -> str:
    snapshots = d.get("snapshots", [])
    current = next((s for s in snapshots if s["snapshot_id"] == d.get("current_snapshot_id")), None)
    lines = [f"`{d['table']}` has {d.get('snapshot_count', len(snapshots))} snapshots; the current one is "
             f"{d.get('current_snapshot_id')}"
             + (f" (operation: {current.get('operation') or 'unknown'}, at {current['time']})." if current else ".")]  # fmt: skip
    operations = d.get("operations") or dict(Counter(s.get("operation") or "unknown" for s in snapshots))
    if operations:
        kinds = ", ".join(f"{op} ({n})" for op, n in operations.items())
        rewrites = [op for op in operations if op in DELETING]
        lines.append(f"Operations over its history: {kinds}. "
                     + (f"Rows were deleted or rewritten ({', '.join(rewrites)})." if rewrites
                        else "No rows were deleted or rewritten: only appends."))  # fmt: skip
    specs = d.get("partition_specs", [])
    if specs:
        lines.append(f"It has had {counted(len(specs), 'partition spec')}: "
                     + "; ".join(f"spec {p['spec_id']}: {p['spec']}" for p in specs) + ".")  # fmt: skip
    if snapshots:
        lines.append("\nRecent snapshots, newest first:")
    for s in snapshots[:10]:
        counts = [f"+{number(int(s['added-records']))} rows" if "added-records" in s else None,
                  f"-{number(int(s['deleted-records']))} rows" if "deleted-records" in s else None,
                  f"{number(int(s['total-records']))} rows in total" if "total-records" in s else None]  # fmt: skip
        detail = ", ".join(c for c in counts if c)
        lines.append(f"- {s['time']}: {s.get('operation') or 'change'} (snapshot {s['snapshot_id']})"
                     + (f": {detail}" if detail else ""))  # fmt: skip
    changes = d.get("schema_changes", [])
    lines.append("\nSchema changes:" if changes else "\nNo schema changes are recorded.")
    lines += [f"- schema {c['schema_id']}: {'; '.join(c['changes'])}" for c in changes]
    return "\n".join(lines)


SORT_Q = re.compile(r"\bsort")
KEY_Q = re.compile(r"\bkeys?\b|\buniquely\b|\bidentif")
COUNT_Q = re.compile(r"\b(?:how many|number of|count)\b")


def compose_column(d: dict[str, Any], question: str) -> str:
    """Column-level answers from describe_table: sort order, key columns, column count, a column's type."""
    text, table = question.lower(), f"`{d['table']}`"
    columns = d.get("columns", [])
    if SORT_Q.search(text):
        order = d.get("sort_order")
        return f"{table} is sorted by {order}." if order else f"{table} has no sort order defined: it is unsorted."
    if KEY_Q.search(text):
        keys = d.get("identifier_fields") or []
        if keys:
            return (f"A row of {table} is uniquely identified by {', '.join(f'`{k}`' for k in keys)} "
                    f"(its identifier fields, the table's primary key).")  # fmt: skip
        return f"{table} declares no identifier fields, so the catalog records no primary key for it."
    mentioned = mentioned_columns(TABLE_NAME.sub(" ", question), columns, fuzzy=not COUNT_Q.search(text))
    if COUNT_Q.search(text) and not mentioned:
        shown = re.match(r"\d+ of (\d+)", d.get("columns_shown") or "")
        total = int(shown.group(1)) if shown else len(columns)
        return f"{table} has {total} columns: " + ", ".join(f"`{c['name']}`" for c in columns) + "."
    if not mentioned:
        return compose_describe(d)
    comments = d.get("metadata_untrusted", {}).get("column_comments", {})
    lines = []
    for col in mentioned:
        flags = [f for f in ("pii", "partition_key") if col.get(f)]
        note = f", described as {quoted(comments[col['name']])}" if col["name"] in comments else ""
        lines.append(f"`{col['name']}` in {table} is of type `{col['type']}`"
                     + (f" ({', '.join(flags)})" if flags else "") + f"{note}.")  # fmt: skip
    return "\n".join(lines)


def mentioned_columns(question: str, columns: list[dict[str, Any]], fuzzy: bool = True) -> list[dict[str, Any]]:
    """Columns the question names: exactly, with spaces for underscores, or (``fuzzy``) up to a typo."""
    text = " " + " ".join(words(question.replace(".", " "))) + " "
    exact = [c for c in columns if f" {c['name'].lower()} " in text or f" {c['name'].lower().replace('_', ' ')} " in text]
    if exact or not fuzzy:
        return exact
    asked = [w for w in words(question) if w not in INTENT_WORDS and len(w) >= 5]
    return [c for c in columns if any(similar(w, c["name"].lower()) for w in asked)][:1]


def compose_not_found(hits: list[dict[str, Any]], topic: list[str]) -> str:
    """The lake does not seem to hold this; the nearest tables, for the user to judge."""
    about = " ".join(topic)
    text = (f"I found no table about '{about}' in the catalog: no table name, column or description matches "
            "those words, so the lake does not seem to have that data.")  # fmt: skip
    if hits:
        text += " The nearest tables, possibly related: " + ", ".join(f"`{h['table']}`" for h in hits[:3]) + "."
    return text


def partition_line(p: dict[str, Any]) -> str:
    facts = [counted(p.get("rows"), "row"), counted(p.get("files"), "file")]
    facts.append(f"updated {p['last_updated']}" if p.get("last_updated") else None)
    return f"- `{p['partition']}`: " + ", ".join(f for f in facts if f)


def compose_partitions(d: dict[str, Any], question: str) -> str:
    if d.get("partitioning") == "not partitioned":
        return f"`{d['table']}` is not partitioned."
    lines = [f"`{d['table']}` is {d['partitioning']}, with {number(d['total_partitions'])} partitions"
             + (f" from {d['first'][:10]} to {d['latest'][:10]}" if d.get("first") else "") + "."]  # fmt: skip
    newest = d.get("partitions", [])
    if newest and re.search(r"\b(?:latest|newest|most recent|last)\b", question.lower()):
        lines.append(f"The latest partition is `{newest[0]['partition']}`:")
        lines.append(partition_line(newest[0]))
    elif newest:
        lines.append("The newest partitions:" if d.get("latest") else "Some of them:")
        lines += [partition_line(p) for p in newest]
    return "\n".join(lines)


def compose_range(d: dict[str, Any], label: str, note: str) -> str:
    if not d.get("matched"):
        return f"`{d['table']}` has no partitions for {label}.{note}"
    total = [counted(d.get("matched_rows"), "row"), counted(d.get("matched_files"), "file"), d.get("matched_size")]
    lines = [f"`{d['table']}` has {counted(d['matched'], 'partition')} for {label} ({', '.join(t for t in total if t)}).{note}"]
    lines += [partition_line(p) for p in d.get("partitions", [])]
    if d.get("note"):
        lines.append(f"({d['note']})")
    return "\n".join(lines)


def compose_result(d: dict[str, Any]) -> str:
    columns, rows = d.get("columns", []), d.get("rows", [])
    if not rows:
        return "The query returned no rows."
    table = ["| " + " | ".join(map(str, columns)) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows[:10]]
    more = f"\n\nShowing 10 of {d.get('row_count', len(rows))} rows." if len(rows) > 10 else ""
    cut = " More rows exist than the row limit." if d.get("truncated") else ""
    masked = f" Masked PII columns: {', '.join(d['masked_columns'])}." if d.get("masked_columns") else ""
    return "Result:\n\n" + "\n".join(table) + more + cut + masked


PLANS: dict[str, Callable[[Intent, Conversation], Step]] = dict(
    find=plan_find,
    column=single_table("describe_table", compose_column),
    describe=single_table("describe_table", compose_describe),
    stats=single_table("describe_table", compose_stats),
    history=single_table("table_history", compose_history),
    partitions=plan_partitions,
    sql=plan_sql,
)


# The chat model ------------------------------------------------------------------------------------------


def estimate_tokens(text: str) -> int:
    """About four characters a token: close enough to report usage for a model that has no tokenizer."""
    return max(1, len(text) // 4)


class OfflineChatModel(BaseChatModel):
    tool_names: tuple[str, ...] = ()
    """Tools bound with ``bind_tools``; the model only calls these."""
    today: date | None = None
    """Fixed "today" for relative dates (tests); None means the real date."""

    @property
    def _llm_type(self) -> str:
        return "lakescout-offline"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable:
        names = tuple(convert_to_openai_tool(t)["function"]["name"] for t in tools)
        return self.model_copy(update={"tool_names": names})

    def reply(self, messages: list[BaseMessage]) -> AIMessage:
        convo = Conversation.read(messages, self.today or date.today())
        step = plan(detect_intent(convo.question), convo)
        if isinstance(step, list) and not all(c.name in self.tool_names for c in step):
            step = Answer(CANNOT_ANSWER)
        input_tokens = estimate_tokens("".join(m.text for m in messages))
        if isinstance(step, Answer):
            message = AIMessage(content=f"{step.text}\n\n{FOOTER}")
        else:
            calls = [tool_call(name=c.name, args=c.args, id=f"offline-{len(messages)}-{i}") for i, c in enumerate(step)]
            message = AIMessage(content="", tool_calls=calls)
        output_tokens = estimate_tokens(message.text + json.dumps([c["args"] for c in message.tool_calls]))
        message.usage_metadata = {"input_tokens": input_tokens, "output_tokens": output_tokens,
                                  "total_tokens": input_tokens + output_tokens}  # fmt: skip
        message.response_metadata = {"model_name": "offline", "finish_reason": "tool_calls" if message.tool_calls else "stop"}
        return message

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Word by word for answers, one chunk for tool calls; usage rides on the last chunk."""
        message = self.reply(messages)
        meta = {"usage_metadata": message.usage_metadata, "response_metadata": message.response_metadata}
        if message.tool_calls:
            chunks = [tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                      for i, c in enumerate(message.tool_calls)]  # fmt: skip
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks, **meta))
            return
        pieces = re.findall(r"\S+\s*|\s+", message.text)
        for i, piece in enumerate(pieces):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece, **(meta if i == len(pieces) - 1 else {})))
