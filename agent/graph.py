"""The agent graph: a model node and a tool node in a loop, then a finalize node that adds citations.

    START -> agent -(tool calls)-> tools -> agent ... -(no tool calls)-> ground -> finalize -> END
    agent -(malformed tool calls)-> malformed -> tools or agent   (see agent.model_output)

Limits are enforced here, not left to the model: the agent node answers by itself (without calling the
model) once the step budget is spent, ``MAX_FAILED_DRAFTS`` different SQL drafts have failed or the model
kept sending tool calls it could not write as JSON, and
``finalize`` always appends the SQL block, validation, scan estimate and sources from what the tools
actually returned. ``ground`` checks the answer against its evidence first (``agent.grounding``), whatever
the model: an answer with question terms its evidence does not account for is labelled partial.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer

from agent.context import AgentContext
from agent.model_output import (
    MAX_MALFORMED_TURNS,
    answer_malformed,
    malformed_text,
    malformed_turns,
    route_after_agent,
    route_after_malformed,
    squash,
    unchecked_sql_warning,
)
from agent.grounding import declines, ground, partial_label
from agent.models.offline.conversation import refers_back
from agent.prompts import load_prompt
from agent.state import RUN_REQUESTED, TODAY, AgentState, TurnFacts, turn_facts
from agent.tools import TOOLS, human_bytes, tool_error_text


def build_graph(model: BaseChatModel, checkpointer: Checkpointer = None) -> Any:
    bound = model.bind_tools(TOOLS)

    def agent(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
        facts = turn_facts(state["messages"])
        tracked = {"steps": facts.steps, "sql_attempts": len(facts.sql_tried)}
        if facts.sql_gave_up:
            return {"messages": [AIMessage(sql_gave_up_text(facts))], "outcome": "sql_gave_up", **tracked}
        if (malformed := malformed_turns(state["messages"])) >= MAX_MALFORMED_TURNS:
            return {"messages": [AIMessage(malformed_text(malformed))], "outcome": "malformed_tool_calls", **tracked}
        if facts.steps >= runtime.context.settings.model.max_steps:
            return {"messages": [AIMessage(budget_text(facts, runtime.context))], "outcome": "step_budget", **tracked}
        run = bool(state.get("run"))
        settings = runtime.context.settings
        today = settings.today()
        system = load_prompt("system") + "\n\n" + today_line(today, settings.timezone)
        system += ("\n\n" + load_prompt("run")) if run else ""
        metadata = {RUN_REQUESTED: run, TODAY: today.isoformat()}
        response = bound.invoke([SystemMessage(system), *state["messages"]], {"metadata": metadata})
        return {"messages": [response], "outcome": "answered", **tracked, "steps": facts.steps + 1}

    builder = StateGraph(AgentState, context_schema=AgentContext)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode(TOOLS, handle_tool_errors=tool_error_text))
    builder.add_node("malformed", answer_malformed)
    builder.add_node("ground", check_grounding)
    builder.add_node("finalize", finalize)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route_after_agent, {"malformed": "malformed", "tools": "tools", END: "ground"})
    builder.add_conditional_edges("malformed", route_after_malformed, {"tools": "tools", "agent": "agent"})
    builder.add_edge("tools", "agent")
    builder.add_edge("ground", "finalize")
    builder.add_edge("finalize", END)
    return builder.compile(checkpointer=checkpointer, name="lakescout")


def today_line(today: date, timezone: str) -> str:
    """What the model is told about the date: relative dates count from today, not from the newest data."""
    return (f"Today is {today:%A} {today.isoformat()} ({timezone}). Count relative dates from today: \"yesterday\" is "
            f"{today - timedelta(days=1)}, \"last month\" the previous calendar month; state the dates you took.")


def recursion_limit(max_steps: int) -> int:
    """LangGraph's own backstop, above the step budget: two super-steps per model step, plus finalize."""
    return 2 * max_steps + 5


# Answers the graph writes itself -------------------------------------------------------------------------


def sql_gave_up_text(facts: TurnFacts) -> str:
    last = next(r for r in reversed(facts.results) if not r.ok)
    errors = last.data.get("errors") or [last.data.get("error", "unknown error")]
    return (
        f"I could not get a working query after {len(facts.sql_failed)} attempts, so I stopped. "
        "The last error was:\n\n" + "\n".join(f"- {e}" for e in errors) + "\n\n"
        "Try naming the table or columns you mean, or ask for the columns of the table first."
    )


def budget_text(facts: TurnFacts, ctx: AgentContext) -> str:
    found = ", ".join(f"`{t}`" for t in {**facts.sources, **facts.sql_sources, **facts.candidates})
    found = found or "nothing conclusive yet"
    return (
        f"I ran out of steps ({ctx.settings.model.max_steps} model calls, LAKESCOUT_MODEL__MAX_STEPS) before "
        f"finishing. So far I looked at: {found}. Ask a narrower question or raise the step budget."
    )


# Grounding ---------------------------------------------------------------------------------------------


def check_grounding(state: AgentState) -> dict[str, Any]:
    """Account for each term of the question by the answer's evidence; label the answer partial when some
    are not (unless it declines and shows no result), so its SQL is never presented as the answer to what it
    does not cover: an answer that shows rows and says in passing what it could not do is labelled too."""
    messages = state["messages"]
    asked = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    question = messages[asked[-1]].text if asked else ""
    facts = turn_facts(messages)
    answer = messages[-1]
    before = state.get("grounding")  # the thread's previous answer's, until this turn's replaces it
    inherited: list[str] = []
    if before and len(asked) > 1 and refers_back(question):  # a follow-up over the same tables keeps their gaps
        if facts.sql_sources.keys() & turn_facts(messages[: asked[-1]]).sql_sources.keys():
            inherited = before.get("unaccounted", [])
    grounding = ground(question, facts, {c["table"] for c in facts.cited(answer.text)}, inherited)
    update: dict[str, Any] = {"grounding": grounding.as_dict()}
    if grounding.unaccounted and (facts.result is not None or not declines(answer.text)):
        label = partial_label(grounding, bool(facts.sql))
        update["messages"] = [answer.model_copy(update={"content": f"{label}\n\n{answer.text}"})]
    return update


# Finalize ------------------------------------------------------------------------------------------------


def finalize(state: AgentState) -> dict[str, Any]:
    """Append what the answer must carry, from the tool results: SQL, validation, scan estimate, sources."""
    facts = turn_facts(state["messages"])
    answer = state["messages"][-1]
    text = answer.text
    cited = facts.cited(text)
    footer = sql_footer(facts, text) + unchecked_sql_warning(facts, text) + sources_footer(cited)
    update: dict[str, Any] = {
        "tables_cited": cited,
        "sql": facts.sql,
        "sql_attempts": len(facts.sql_tried),
        "validation": facts.validation,
        "scan_estimate": facts.scan_estimate,
        "result": facts.result,
        "steps": facts.steps,
    }
    if footer:
        update["messages"] = [answer.model_copy(update={"content": text.rstrip() + "\n\n" + footer})]
    return update


def sql_footer(facts: TurnFacts, text: str) -> str:
    if not facts.sql:
        return ""
    parts = [] if squash(facts.sql) in squash(text) else [f"```sql\n{facts.sql}\n```"]
    if facts.validation is not None:
        parts.append(validation_line(facts.validation))
    if facts.scan_estimate is not None:
        parts.append(estimate_line(facts.scan_estimate))
    return "\n\n".join(parts) + "\n\n" if parts else ""


def validation_line(validation: dict[str, Any]) -> str:
    if validation.get("errors"):
        return "Validation: failed: " + "; ".join(validation["errors"])
    warnings = validation.get("warnings") or []
    return "Validation: passed" + (" with warnings: " + "; ".join(warnings) if warnings else "") + "."


def estimate_line(estimate: dict[str, Any]) -> str:
    """One line from the estimator's totals; keys it lacks are left out rather than guessed."""
    files, total_files = estimate.get("files"), estimate.get("total_files")
    size, total_size = estimate.get("bytes"), estimate.get("total_bytes")
    parts = []
    if files is not None:
        parts.append(f"{files:,} of {total_files:,} files" if total_files is not None else f"{files:,} files")
    if size is not None:
        parts.append(
            f"{human_bytes(size)} of {human_bytes(total_size)}" if total_size is not None else human_bytes(size)
        )
    return "Scan estimate: " + (", ".join(parts) if parts else "not available") + "."


def sources_footer(cited: list[dict[str, Any]]) -> str:
    if not cited:
        return ""
    items = []
    for source in cited:
        detail = [f"snapshot {source['snapshot_id']}" if source.get("snapshot_id") else None]
        detail.append(f"as of {source['as_of']}" if source.get("as_of") else None)
        shown = ", ".join(d for d in detail if d)
        items.append(f"`{source['table']}`" + (f" ({shown})" if shown else ""))
    return "Sources: " + "; ".join(items) + "."
