"""The graph's state: the conversation, plus what the current turn has learned, derived from its messages.

Everything tracked per question (tables seen, SQL drafted, validation, estimate, attempts) is recomputed from
the messages after the last human message, so nothing needs resetting between turns of a thread and the
tracked fields can never disagree with the transcript.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langgraph.graph import MessagesState

SQL_TOOLS = ("validate_sql", "estimate_scan", "run_sql")
RUN_REQUESTED = "lakescout_run"
"""Metadata key of each model call's config: the turn's ``run`` (execute the drafted SQL). A real model
reads the run prompt; the offline model, which reads no prompt, goes by this flag."""
TODAY = "lakescout_today"
"""Metadata key of each model call's config: today's date (ISO) in the configured time zone, which relative
dates ("yesterday", "last month") are counted from."""
MAX_FAILED_DRAFTS = 3
"""Different SQL drafts that may fail in one turn before the graph stops it (the system prompt says so too)."""
Outcome = Literal["answered", "step_budget", "sql_gave_up", "malformed_tool_calls"]


class AgentState(MessagesState):
    run: NotRequired[bool]
    """The user asked for drafted SQL to be executed (``--run``)."""
    steps: NotRequired[int]
    tables_cited: NotRequired[list[dict[str, Any]]]
    sql: NotRequired[str | None]
    sql_attempts: NotRequired[int]
    validation: NotRequired[dict[str, Any] | None]
    scan_estimate: NotRequired[dict[str, Any] | None]
    result: NotRequired[dict[str, Any] | None]
    outcome: NotRequired[Outcome]
    grounding: NotRequired[dict[str, list[str]]]
    """The question's terms the answer's evidence accounts for (``accounted``) and does not (``unaccounted``)."""


@dataclass
class ToolResult:
    """One tool call of this turn with what came back: the full payload on success, the error otherwise."""

    name: str
    args: dict[str, Any]
    ok: bool
    data: dict[str, Any]


@dataclass
class TurnFacts:
    steps: int = 0
    results: list[ToolResult] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tables whose facts were read (described, listed): ``namespace.table`` -> snapshot and time."""
    sql_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tables the drafted SQL reads."""
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Tables a search returned; cited only when the answer names them."""
    sql: str | None = None
    validation: dict[str, Any] | None = None
    scan_estimate: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    sql_tried: list[str] = field(default_factory=list)
    sql_failed: list[str] = field(default_factory=list)

    @property
    def sql_gave_up(self) -> bool:
        """``MAX_FAILED_DRAFTS`` different drafts failed and nothing has succeeded since the last failure."""
        last = next((r for r in reversed(self.results) if r.name in SQL_TOOLS), None)
        return len(self.sql_failed) >= MAX_FAILED_DRAFTS and last is not None and not last.ok

    def cited(self, answer: str) -> list[dict[str, Any]]:
        """The SQL's tables when a query was drafted, else every table read; plus others the answer names
        (as `namespace.table`, the way the system prompt asks for table names); in the order the answer first
        names them (the table it leads with first), the ones it does not name last."""
        base = self.sql_sources or self.sources
        named = {t: s for t, s in {**self.candidates, **self.sources}.items() if f"`{t}`" in answer}
        mentioned = lambda table: answer.find(f"`{table}`") % (len(answer) + 1)  # noqa: E731 - not named: -1 -> last
        return [{"table": t, **s} for t, s in sorted({**base, **named}.items(), key=lambda item: mentioned(item[0]))]


def turn_messages(messages: list[AnyMessage]) -> list[AnyMessage]:
    """The messages of the current question: everything after the last human message."""
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            return messages[i + 1 :]
    return list(messages)


def text_payload(text: str) -> dict[str, Any]:
    """A tool message's text read as a JSON object; anything else becomes ``{"error": text}``."""
    try:
        data = json.loads(text)
    except ValueError:
        return {"error": text}
    return data if isinstance(data, dict) else {"error": text}


def tool_payload(message: ToolMessage) -> dict[str, Any]:
    """The structured payload of a tool message: its artifact, or its JSON error text."""
    if message.status != "error" and isinstance(message.artifact, dict):
        return message.artifact
    return text_payload(message.text)


def turn_facts(messages: list[AnyMessage]) -> TurnFacts:
    facts = TurnFacts()
    calls: dict[str, dict[str, Any]] = {}
    for message in turn_messages(messages):
        if isinstance(message, AIMessage):
            facts.steps += 1
            calls.update({c["id"]: c for c in message.tool_calls})
        elif isinstance(message, ToolMessage):
            call = calls.get(message.tool_call_id, {"name": message.name or "", "args": {}})
            result = ToolResult(call["name"], call["args"], message.status != "error", tool_payload(message))
            facts.results.append(result)
            _absorb(facts, result)
    return facts


def _absorb(facts: TurnFacts, result: ToolResult) -> None:
    data = result.data
    read = facts.sql_sources if result.name in SQL_TOOLS else facts.sources
    for source in data.get("sources", []):
        read[source["table"]] = {k: v for k, v in source.items() if k != "table"}
    for source in data.get("candidates", []):
        facts.candidates[source["table"]] = {k: v for k, v in source.items() if k != "table"}
    if result.name not in SQL_TOOLS:
        return
    sql = str(result.args.get("sql", "")).strip()
    if sql != facts.sql:
        facts.sql, facts.validation, facts.scan_estimate, facts.result = sql, None, None, None
    if sql not in facts.sql_tried:
        facts.sql_tried.append(sql)
    if not result.ok and sql not in facts.sql_failed:
        facts.sql_failed.append(sql)
    if result.name == "validate_sql":
        facts.validation = data
    elif result.name == "estimate_scan":
        facts.scan_estimate = data
    elif result.name == "run_sql" and result.ok:
        facts.result = data
