"""What a real model sends is not trusted as-is: tool calls whose arguments are not JSON, and SQL the answer
writes that no tool checked.

A malformed call (LangChain puts it in ``invalid_tool_calls``, so it would otherwise end the turn with an
empty answer) is answered with an error tool message and the model gets another go; after
``MAX_MALFORMED_TURNS`` such replies in one question the graph stops with a clear error. SQL in the answer's
text that is not the query the tools validated gets a warning line, so a streamed draft never stands unchecked.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langgraph.graph import END
from langgraph.prebuilt import tools_condition

from agent.state import TurnFacts, turn_messages
from agent.tools.common import dumps

MAX_MALFORMED_TURNS = 3
"""Model replies with malformed tool calls one question may take before the graph gives up."""
MALFORMED_TOOL = "invalid_tool_call"
"""Name of the error tool message that answers a malformed call (not a tool the model can call)."""
SQL_BLOCK = re.compile(r"```sql\s*\n(.*?)```", re.IGNORECASE | re.DOTALL)


def malformed_turns(messages: list[AnyMessage]) -> int:
    return sum(1 for m in turn_messages(messages) if isinstance(m, AIMessage) and m.invalid_tool_calls)


def route_after_agent(state: dict[str, Any]) -> Literal["malformed", "tools", "__end__"]:
    last = state["messages"][-1]
    if isinstance(last, AIMessage) and last.invalid_tool_calls:
        return "malformed"
    return "tools" if tools_condition(state) == "tools" else END


def route_after_malformed(state: dict[str, Any]) -> Literal["tools", "agent"]:
    """The well-formed calls of the same reply still run; otherwise straight back to the model."""
    last_ai = next(m for m in reversed(state["messages"]) if isinstance(m, AIMessage))
    return "tools" if last_ai.tool_calls else "agent"


def answer_malformed(state: dict[str, Any]) -> dict[str, Any]:
    """One error tool message per malformed call, saying what was wrong and how to call it instead."""
    last = state["messages"][-1]
    replies = []
    for call in last.invalid_tool_calls:
        sent = str(call.get("args") or "")[:300]
        problem = call.get("error") or "its arguments are not a JSON object"
        error = (f"the call to `{call.get('name')}` could not be read: {problem}. Arguments sent: {sent!r}. "
                 "Call the tool again with its arguments as one JSON object.")  # fmt: skip
        replies.append(ToolMessage(dumps({"error": error}), tool_call_id=call.get("id") or "", name=MALFORMED_TOOL,
                                   status="error"))  # fmt: skip
    return {"messages": replies}


def malformed_text(turns: int) -> str:
    return (
        f"I stopped: the model sent tool calls whose arguments were not valid JSON {turns} times in a row, so "
        "nothing it drafted was checked against the catalog. Try again, or use a model with reliable tool "
        "calling (model.name, LAKESCOUT_MODEL__NAME)."
    )


def unchecked_sql_warning(facts: TurnFacts, text: str) -> str:
    """A warning when the answer's text holds SQL the tools did not validate; empty otherwise."""
    checked = facts.sql if facts.validation is not None and not facts.validation.get("errors") else None
    unchecked = [b for b in SQL_BLOCK.findall(text) if checked is None or same_sql(b) != same_sql(checked)]
    if not unchecked:
        return ""
    return ("Warning: the SQL above was not validated against the catalog; check it (POST /v1/sql/validate) "
            "before running it.\n\n")  # fmt: skip


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def same_sql(sql: str) -> str:
    """A query in a form two spellings of it share: whitespace squashed, case folded, no final semicolon."""
    return squash(sql).rstrip("; ")
