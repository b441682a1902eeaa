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

from agent.models.language import content_words, grain_of, period_of, stem, strip_grain
from agent.models.sql_draft import Draft, Table, draft_sql, parse_request, repair, topic_words
from agent.prompts import load_prompt

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
FOLLOW_UP = re.compile(r"^\s*(?:and|also|what about|how about|now|same|then|instead|but|only|just)\b[\s,]*")
RUN = re.compile(r"\b(?:run|execute)\b|--run\b")


# Reading the conversation --------------------------------------------------------------------------------


@dataclass
class Observed:
    name: str
    args: dict[str, Any]
    ok: bool
    data: dict[str, Any]


@dataclass
class Conversation:
    question: str
    """The current question, merged with the previous one when it is a follow-up ("and by month?")."""
    results: list[Observed]
    run: bool
    today: date

    @classmethod
    def read(cls, messages: Sequence[BaseMessage], today: date) -> Conversation:
        question, start = "", 0
        for i, message in enumerate(messages):
            if isinstance(message, HumanMessage):
                text = message.text.strip()
                question = merge(question, text) if question and FOLLOW_UP.match(text) else text
                start = i + 1
        calls: dict[str, dict[str, Any]] = {}
        results = []
        for message in messages[start:]:
            if isinstance(message, AIMessage):
                calls.update({c["id"]: c for c in message.tool_calls})
            elif isinstance(message, ToolMessage):
                call = calls.get(message.tool_call_id, {"name": message.name, "args": {}})
                results.append(Observed(call["name"], call["args"], message.status != "error", parse(message.text)))
        system = " ".join(m.text for m in messages if isinstance(m, SystemMessage))
        run = bool(RUN.search(question.lower())) or load_prompt("run") in system
        return cls(question, results, run, today)

    def result(self, name: str, **args: Any) -> Observed | None:
        """The latest result of a tool called with these arguments (others may differ)."""
        for observed in reversed(self.results):
            if observed.name == name and all(observed.args.get(k) == v for k, v in args.items()):
                return observed
        return None


def merge(previous: str, follow_up: str) -> str:
    """'weekly active users by country' + 'and by month?' -> 'active users by country by month'."""
    addition = FOLLOW_UP.sub("", follow_up, count=1)
    if grain_of(addition.lower()):
        previous = strip_grain(previous.lower())
    return f"{previous.rstrip('?. ')} {addition}"


def parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {"error": text}
    return data if isinstance(data, dict) else {"error": text}


# Intents -------------------------------------------------------------------------------------------------

INTENTS: list[tuple[str, re.Pattern[str]]] = [
    ("find", re.compile(r"\b(?:which|what|where)\b.*\b(?:tables?|datasets?)\b|\b(?:find|search|look(?:ing)? for)\b"
                        r"|\bwhere (?:can|do|is|are)\b")),
    ("sql", re.compile(r"\b(?:sql|query|queries|select)\b")),
    ("history", re.compile(r"\b(?:history|snapshots?|schema (?:changes?|evolution)|changed|commits?)\b")),
    ("partitions", re.compile(r"\bpartition")),
    ("stats", re.compile(r"\bhow (?:big|large)\b|\bsize\b|\brow ?counts?\b|\b(?:how many|number of) rows\b"
                         r"|\blast (?:written|updated|modified|write|refresh(?:ed)?|loaded)\b|\bfresh"
                         r"|\bwhen was\b|\bup to date\b|\bstale\b")),
    ("describe", re.compile(r"\b(?:describe|columns?|schema|fields?|structure|owner|owns|owned|pii|details)\b"
                            r"|\bwhat(?: is|'s) in\b|\btell me about\b")),
    ("sql", re.compile(r"\b(?:count|how many|number of|sum|total|average|avg|mean|top|per|by|hourly|daily|weekly"
                       r"|monthly|yearly|minimum|maximum|min|max)\b")),
]  # fmt: skip
INTENT_WORDS = frozenset(
    "describe columns column schema fields field structure owner owns owned pii details partition partitions "
    "partitioned history snapshots snapshot changes changed commits big large size row rows count counts "
    "written updated modified write refresh refreshed loaded fresh freshness stale latest newest recent most "
    "spec scheme key keys how many number last week weeks day days month months year years exist range "
    "tell between since yesterday today current".split()
)
TABLE_NAME = re.compile(r"`?\b([A-Za-z_][\w-]*\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)?)\b`?")


@dataclass
class Intent:
    kind: str
    topic: list[str]
    table: str | None
    """A table the question names outright (``sales.orders``)."""


def detect_intent(question: str) -> Intent:
    text = question.lower()
    kind = next((kind for kind, pattern in INTENTS if pattern.search(text)), "unknown")
    named = TABLE_NAME.search(question)
    table = named.group(1) if named and not re.fullmatch(r"\d+(\.\d+)*", named.group(1)) else None
    rest = TABLE_NAME.sub(" ", question) if table else question
    topic = topic_words(rest) if kind in ("sql", "find") else content_words(rest, INTENT_WORDS)
    return Intent(kind, topic, table)


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
    """The one table a question is about: named outright (corrected by the tools' suggestion) or searched."""
    if intent.table:
        failed = next((r for r in convo.results if not r.ok and r.args.get("table") == intent.table), None)
        if failed is None:
            return intent.table
        suggestions = failed.data.get("did_you_mean") or []
        return suggestions[0] if suggestions else Answer(failure(failed))
    if not intent.topic:
        return Answer("Which table do you mean? Name it (for example `namespace.table`) or say what it holds.")
    search = convo.result("search_tables")
    if search is None:
        return [Call("search_tables", {"query": " ".join(intent.topic), "k": 5})]
    hits = search.data.get("tables", [])
    if not hits:
        return Answer(f"I found no table about '{' '.join(intent.topic)}' in the catalog.")
    named = [h for h in hits if any(stem(h["table"].rpartition(".")[2]) == stem(w) for w in intent.topic)]
    return (named or hits)[0]["table"]


def single_table(tool: str, compose: Callable[[dict[str, Any]], str]) -> Callable[[Intent, Conversation], Step]:
    """Plan for questions one tool call on one table answers: find the table, call the tool, compose."""

    def plan(intent: Intent, convo: Conversation) -> Step:
        table = pick_table(intent, convo)
        if not isinstance(table, str):
            return table
        observed = convo.result(tool, table=table)
        if observed is None:
            return [Call(tool, {"table": table})]
        return Answer(compose(observed.data) if observed.ok else failure(observed))

    return plan


def plan_find(intent: Intent, convo: Conversation) -> Step:
    if not intent.topic:
        return Answer("What should the tables be about? For example: 'which table has refunds by region?'")
    search = convo.result("search_tables")
    if search is None:
        return [Call("search_tables", {"query": " ".join(intent.topic), "k": 5})]
    return Answer(compose_find(search.data, intent.topic))


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
    search = convo.result("search_tables")
    if search is None:
        query = " ".join(intent.topic) or convo.question
        return [Call("search_tables", {"query": query, "k": 5})]
    hits = [h["table"] for h in search.data.get("tables", [])][:3]
    if intent.table:
        hits = [intent.table, *[h for h in hits if h != intent.table]][:3]
    if not hits:
        return Answer(f"I found no table for '{' '.join(intent.topic)}', so I cannot draft SQL for it.")
    described = [convo.result("describe_table", table=t) for t in hits]
    if any(d is None for d in described):
        return [Call("describe_table", {"table": t}) for t, d in zip(hits, described, strict=True) if d is None]
    tables = [Table.from_description(d.data) for d in described if d is not None and d.ok]
    request = parse_request(convo.question, convo.today)
    draft = draft_sql(request, tables)
    if draft is None:
        return Answer("I could not read any of the matching tables, so I cannot draft SQL.")
    return check_sql(draft.sql, convo) or Answer(compose_sql(draft, convo))


def check_sql(sql: str, convo: Conversation) -> list[Call] | None:
    """Validate, repair from the validator's hints, estimate, run when asked; None when all is done."""
    sql_results = [r for r in convo.results if r.name in ("validate_sql", "estimate_scan", "run_sql")]
    current = sql_results[-1].args.get("sql", sql) if sql_results else sql
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


def compose_sql(draft: Draft, convo: Conversation) -> str:
    sql_results = [r for r in convo.results if r.name in ("validate_sql", "run_sql")]
    sql = sql_results[-1].args["sql"] if sql_results else draft.sql
    validation = convo.result("validate_sql", sql=sql)
    lines = [f"{draft.explanation}." if sql == draft.sql else "I fixed the draft after the validator's errors."]
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
    if intent.kind not in PLANS:
        return Answer(CANNOT_ANSWER)
    return PLANS[intent.kind](intent, convo)


# Answers -----------------------------------------------------------------------------------------------


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def quoted(text: str | None, limit: int = 160) -> str:
    """Catalog-written text, shown as a quotation and never acted on."""
    if not text:
        return ""
    text = " ".join(text.split())
    return '"' + (text[:limit] + "…" if len(text) > limit else text) + '"'


def counted(value: int | None, noun: str) -> str | None:
    """``1 file``, ``1,234 files``; None when the catalog has no count."""
    return None if value is None else f"{value:,} {noun}{'' if value == 1 else 's'}"


def size_sentence(d: dict[str, Any]) -> str:
    parts = [counted(d.get("rows"), "row"), counted(d.get("files"), "file"), d.get("size")]
    parts.append(counted(d.get("partitions") or None, "partition"))
    return ", ".join(p for p in parts if p) or "no size statistics"


def failure(observed: Observed) -> str:
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


def compose_describe(d: dict[str, Any]) -> str:
    meta = d.get("metadata_untrusted", {})
    lines = [f"`{d['table']}` ({d.get('kind')}, {d.get('format') or 'unknown format'})"
             + (f": {quoted(meta.get('comment'))}" if meta.get("comment") else "")]  # fmt: skip
    lines.append(f"- Partitioning: {d.get('partitioning')}" + (f"; sorted by {d['sort_order']}" if d.get("sort_order") else ""))
    lines.append(f"- Size: {size_sentence(d)}; last written {d.get('last_updated') or 'unknown'}")
    lines.append(f"- Current snapshot: {d.get('snapshot_id') or 'none'} (as of {d.get('as_of') or 'unknown'})")
    if meta.get("owner") or meta.get("tags"):
        lines.append(f"- Owner: {quoted(meta.get('owner')) or 'unknown'}; tags: {', '.join(meta.get('tags', [])) or 'none'}")
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


def compose_stats(d: dict[str, Any]) -> str:
    return (
        f"`{d['table']}` holds {size_sentence(d)}. It was last written {d.get('last_updated') or 'at an unknown time'}"
        f" (current snapshot {d.get('snapshot_id') or 'none'}, as of {d.get('as_of') or 'unknown'}); "
        f"{d.get('partitioning')}."
    )


def compose_history(d: dict[str, Any]) -> str:
    snapshots = d.get("snapshots", [])
    lines = [f"`{d['table']}` has {d.get('snapshot_count', len(snapshots))} snapshots; the current one is "
             f"{d.get('current_snapshot_id')}."]  # fmt: skip
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
    if len(d.get("partition_specs", [])) > 1:
        lines.append("\nPartition specs over time: " + "; ".join(f"{p['spec_id']}: {p['spec']}" for p in d["partition_specs"]))
    return "\n".join(lines)


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
