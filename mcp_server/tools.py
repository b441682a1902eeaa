"""The agent's read-only tools as MCP tools: same functions, same checks, typed schemas, structured results.

Each MCP tool is built from the LangChain tool in ``agent.tools``: its parameters (names, types, bounds and
descriptions) become the MCP input schema, its call goes through the same function the agent and the API
use (so the SQL gate, PII masking and row limits are theirs), and its ``(content, artifact)`` pair becomes
an MCP result: the budgeted JSON as text, the full payload as ``structuredContent``. A problem the model
can fix comes back as an MCP tool error (``isError``) with one line saying what is wrong.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Literal

from langchain.tools import ToolRuntime
from langchain_core.tools import BaseTool
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError as McpToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from agent.context import AgentContext
from agent.tools import TOOLS, ToolError
from agent.tools.common import dumps

ContextSource = Callable[[], AbstractContextManager[AgentContext | None]]
"""Holds the agent context one call reads for as long as the call runs (the API leases its current lake, which a
re-ingest may replace meanwhile); it yields None before any ingest."""

SCOPES = ("user", "admin")
"""Scope names, lowest first, as a caller's access token lists them (an admin token lists both)."""

NO_INDEX = "no index yet: run `lakescout ingest`, then retry"

TITLES = {
    "search_tables": "Search tables",
    "describe_table": "Describe a table",
    "list_partitions": "List partitions",
    "table_history": "Table history",
    "validate_sql": "Validate SQL",
    "estimate_scan": "Estimate a scan",
    "run_sql": "Run read-only SQL",
    "list_tables": "List and rank tables",
}


class NoIndex(McpToolError):
    """Nothing was ingested yet."""

    def __init__(self) -> None:
        super().__init__(NO_INDEX)


def fixed_context(context: AgentContext) -> ContextSource:
    """The source for a process that opens one lake and keeps it (stdio, ``lakescout mcp --http``)."""

    @contextmanager
    def held() -> Iterator[AgentContext]:
        yield context

    return held


@contextmanager
def current(context_of: ContextSource) -> Iterator[AgentContext]:
    """The context a call reads, held until the call ends; ``NoIndex`` before any ingest."""
    with context_of() as context:
        if context is None:
            raise NoIndex()
        yield context


def one_line(error: ToolError) -> str:
    """The agent's JSON error payload as one sentence: the problem, then what to try."""
    payload = dict(error.payload)
    parts = [str(payload.pop("error"))]
    if errors := payload.pop("errors", None):
        parts.append("; ".join(str(e) for e in errors))
    if did_you_mean := payload.pop("did_you_mean", None):
        parts.append("did you mean: " + ", ".join(did_you_mean))
    for key in ("expected", "hint"):
        if key in payload:
            parts.append(f"{key}: {payload.pop(key)}")
    return " — ".join(part.replace("\n", " ") for part in parts)


def caller_scopes(ctx: Context) -> list[str]:
    """Scopes of the HTTP caller's key; the local user (stdio, or HTTP with auth off) holds every scope."""
    request = ctx.request_context.request  # the HTTP request that carried the call; None over stdio
    token = getattr(request.scope.get("user"), "access_token", None) if request is not None else None
    return list(token.scopes) if token is not None else list(SCOPES)


def mcp_tool(
    agent_tool: BaseTool,
    context_of: ContextSource,
    needs_scope: Literal["user", "admin"] | None = None,
) -> Callable[..., CallToolResult]:
    """A function MCPServer can register: the agent tool's parameters without ``runtime``, plus MCP's Context."""
    function = agent_tool.func
    signature = inspect.signature(function, eval_str=True)
    parameters = [p for name, p in signature.parameters.items() if name != "runtime"]

    def call(ctx: Context, **arguments: Any) -> CallToolResult:
        if needs_scope and needs_scope not in caller_scopes(ctx):
            raise McpToolError(f"{agent_tool.name} needs an {needs_scope} key here (setting mcp.run_sql_scope)")
        with current(context_of) as context:
            runtime = ToolRuntime(state={}, context=context, config={}, stream_writer=lambda _: None,
                                  tool_call_id=None, store=None)  # fmt: skip
            try:
                content, artifact = function(runtime=runtime, **arguments)
            except ToolError as exc:
                raise McpToolError(one_line(exc)) from None
        return CallToolResult(
            content=[TextContent(type="text", text=content)],
            structured_content=json.loads(dumps(artifact)),
        )

    ctx_parameter = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    call.__name__ = agent_tool.name
    call.__doc__ = agent_tool.description
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters] + [ctx_parameter],
        return_annotation=CallToolResult,
    )
    call.__annotations__ = {p.name: p.annotation for p in parameters} | {"ctx": Context, "return": CallToolResult}
    return call


def register_tools(server: Any, context_of: ContextSource, run_sql_scope: str) -> None:
    """Every agent tool, read-only; ``run_sql`` needs ``run_sql_scope`` (``none`` leaves it out)."""
    for agent_tool in TOOLS:
        needs_scope = None
        if agent_tool.name == "run_sql":
            if run_sql_scope == "none":
                continue
            needs_scope = run_sql_scope
        server.add_tool(
            mcp_tool(agent_tool, context_of, needs_scope),
            title=TITLES[agent_tool.name],
            annotations=ToolAnnotations(
                read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
            ),
        )
