"""The MCP server through the real `mcp` client: stdio (`lakescout mcp` as a subprocess), Streamable HTTP on
its own (`lakescout mcp --http`) and mounted in the API (`lakescout serve`, at /mcp), on the sample lake."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import httpx2
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import StructuredTool, ToolException
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from typer.testing import CliRunner

from agent.context import AgentContext
from api.lake import Lake, leased_context, replace_lake
from api_support import ADMIN_KEY, USER_KEY, running_server
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore
from lakescout.cli import app

TOOL_NAMES = {"search_tables", "describe_table", "list_partitions", "table_history", "validate_sql",
              "estimate_scan", "run_sql", "list_tables"}  # fmt: skip
COUNT_ORDERS = "SELECT status, count(*) AS n FROM marts.orders GROUP BY status ORDER BY status"
PII_QUERY = "SELECT email FROM marts.customers LIMIT 3"

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stdio_params(settings: Settings, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "lakescout", "--data-dir", str(settings.data_dir), "mcp"],
        env={"PYTHONPATH": os.environ.get("PYTHONPATH", ""), **env},
        cwd=str(Path(__file__).parent.parent),
    )


@asynccontextmanager
async def http_client(url: str, key: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60, read=300)) as http:
        async with Client(streamable_http_client(url, http_client=http), read_timeout_seconds=120) as client:
            yield client


@pytest.fixture(scope="module")
def standalone(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`lakescout mcp --http` with the test keys, running SQL limited to admin keys."""
    arguments = ["--data-dir", str(sample_settings.data_dir), "mcp", "--http"]
    log = tmp_path_factory.mktemp("mcp") / "mcp.log"
    with running_server(arguments, log, env={"LAKESCOUT_MCP__RUN_SQL_SCOPE": "admin"}, ready="/mcp") as url:
        yield url + "/mcp"


@pytest.fixture(scope="module")
def api_server(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`lakescout serve` with the test keys: MCP at /mcp next to the REST routes, SQL for user keys."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    env = {"LAKESCOUT_API__RATE_LIMIT_PER_MINUTE": "10000"}
    with running_server(["--data-dir", str(sample_settings.data_dir), "serve"], log, env=env) as url:
        yield url


def structured(result) -> dict:
    assert not result.is_error, result.content
    assert json.loads(result.content[0].text)  # the budgeted JSON the model reads
    return result.structured_content


def error_text(result) -> str:
    assert result.is_error
    text = result.content[0].text
    assert "\n" not in text and "Traceback" not in text, text
    return text


# stdio ------------------------------------------------------------------------------------------------


async def test_stdio_lists_and_calls_every_tool(sample_settings: Settings) -> None:
    record = RecordStore(sample_settings.store_path).get("marts.orders")
    async with Client(stdio_params(sample_settings), read_timeout_seconds=120) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == TOOL_NAMES
        assert all(tool.annotations.read_only_hint for tool in tools.values())
        schema = tools["search_tables"].input_schema
        assert schema["required"] == ["query"] and schema["properties"]["k"]["maximum"] == 20
        assert "runtime" not in schema["properties"]

        found = structured(await client.call_tool("search_tables", {"query": "refund amounts per sales region"}))
        assert found["tables"][0]["table"] == "finance.refunds"

        described = structured(await client.call_tool("describe_table", {"table": "marts.orders"}))
        assert described["snapshot_id"] == record.current_snapshot_id
        assert described["rows"] == record.totals.record_count

        partitions = structured(await client.call_tool("list_partitions", {"table": "marts.orders", "limit": 2}))
        assert len(partitions["partitions"]) == 2 and partitions["total_partitions"] >= 2

        history = structured(await client.call_tool("table_history", {"table": "marts.orders"}))
        assert history["current_snapshot_id"] == record.current_snapshot_id

        valid = structured(await client.call_tool("validate_sql", {"sql": COUNT_ORDERS}))
        assert valid["ok"] and valid["tables"] == ["marts.orders"]

        estimate = structured(await client.call_tool("estimate_scan", {"sql": COUNT_ORDERS}))
        assert estimate["total_files"] == record.totals.file_count

        rows = structured(await client.call_tool("run_sql", {"sql": COUNT_ORDERS}))
        assert rows["columns"] == ["status", "n"]
        assert sum(row[1] for row in rows["rows"]) == record.totals.record_count

        biggest = structured(await client.call_tool("list_tables", {"rank_by": "rows", "limit": 3}))
        store = RecordStore(sample_settings.store_path)
        by_rows = sorted(store.records(), key=lambda r: -(r.totals.record_count or 0))
        assert [t["table"] for t in biggest["tables"]] == [r.full_name for r in by_rows[:3]]

        masked = structured(await client.call_tool("run_sql", {"sql": PII_QUERY}))
        assert masked["masked_columns"] == ["email"]
        assert all("@" not in str(row[0]) for row in masked["rows"])


async def test_stdio_errors_are_one_line_tool_errors(sample_settings: Settings) -> None:
    async with Client(stdio_params(sample_settings), read_timeout_seconds=120) as client:
        unknown = error_text(await client.call_tool("describe_table", {"table": "marts.ordrs"}))
        assert "no table named 'marts.ordrs'" in unknown and "did you mean: marts.orders" in unknown

        refused = error_text(await client.call_tool("run_sql", {"sql": "DROP TABLE marts.orders"}))
        assert "refused" in refused and "DROP" in refused
        invalid = error_text(await client.call_tool("validate_sql", {"sql": "DELETE FROM marts.orders"}))
        assert "not valid" in invalid

        bad_argument = error_text(await client.call_tool("search_tables", {"query": "orders", "k": 500}))
        assert "invalid arguments for search_tables: k:" in bad_argument

        missing_column = error_text(await client.call_tool("validate_sql", {"sql": "SELECT nope FROM marts.orders"}))
        assert "nope" in missing_column
    assert RecordStore(sample_settings.store_path).get("marts.orders") is not None  # nothing was dropped


async def test_stdio_resources_and_prompts(sample_settings: Settings) -> None:
    store = RecordStore(sample_settings.store_path)
    async with Client(stdio_params(sample_settings), read_timeout_seconds=120) as client:
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
        assert listed == {"lakescout://tables"} | {f"lakescout://tables/{t.full_name}" for t in store.list()}
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["lakescout://tables/{namespace}.{table}"]

        index = json.loads((await client.read_resource("lakescout://tables")).contents[0].text)
        assert {row["name"] for row in index} == {t.full_name for t in store.list()}
        content = (await client.read_resource("lakescout://tables/finance.refunds")).contents[0]
        assert content.mime_type == "application/json"
        assert json.loads(content.text)["current_snapshot_id"] == store.get("finance.refunds").current_snapshot_id
        with pytest.raises(MCPError, match="no table 'finance.nope'"):
            await client.read_resource("lakescout://tables/finance.nope")

        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == {"explore_table", "draft_sql"}
        explore = await client.get_prompt("explore_table", {"table": "marts.orders"})
        assert "marts.orders" in explore.messages[0].content.text
        draft = await client.get_prompt("draft_sql", {"question": "weekly active users by country"})
        assert "weekly active users by country" in draft.messages[0].content.text


async def test_stdio_run_sql_scope_none_leaves_the_tool_out(sample_settings: Settings) -> None:
    async with Client(stdio_params(sample_settings, LAKESCOUT_MCP__RUN_SQL_SCOPE="none"), read_timeout_seconds=120) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOL_NAMES - {"run_sql"}


# Streamable HTTP --------------------------------------------------------------------------------------


def initialize_without(url: str, headers: dict[str, str]) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    return httpx.post(url, json=body, headers={"Accept": "application/json, text/event-stream", **headers})


def test_http_needs_a_key(standalone: str, api_server: str) -> None:
    for url in (standalone, api_server + "/mcp"):
        assert initialize_without(url, {}).status_code == 401
        assert initialize_without(url, {"Authorization": "Bearer lsk_wrong"}).status_code == 401
        assert initialize_without(url, {"Authorization": f"Bearer {USER_KEY}"}).status_code == 200


async def test_standalone_http_limits_sql_to_admin_keys(standalone: str) -> None:
    async with http_client(standalone, USER_KEY) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOL_NAMES
        assert structured(await client.call_tool("describe_table", {"table": "finance.refunds"}))["table"] == "finance.refunds"
        refused = error_text(await client.call_tool("run_sql", {"sql": COUNT_ORDERS}))
        assert "needs an admin key" in refused and "mcp.run_sql_scope" in refused
    async with http_client(standalone, ADMIN_KEY) as client:
        assert structured(await client.call_tool("run_sql", {"sql": COUNT_ORDERS}))["columns"] == ["status", "n"]


async def test_api_mount_serves_mcp_next_to_rest(api_server: str) -> None:
    async with http_client(api_server + "/mcp", USER_KEY) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOL_NAMES
        rows = structured(await client.call_tool("run_sql", {"sql": COUNT_ORDERS, "limit": 2}))
        assert len(rows["rows"]) == 2 and rows["truncated"]
        unknown = error_text(await client.call_tool("table_history", {"table": "nope.nothing"}))
        assert "no table named 'nope.nothing'" in unknown
        index = json.loads((await client.read_resource("lakescout://tables")).contents[0].text)
        assert "marts.orders" in {row["name"] for row in index}
    tables = httpx.get(api_server + "/v1/tables", headers={"Authorization": f"Bearer {USER_KEY}"})
    assert tables.status_code == 200
    assert httpx.get(api_server + "/v1/nothing-here").json()["error"]["code"] == "not_found"


# A LangGraph agent over the MCP tools ----------------------------------------------------------------


def langchain_tool(client: Client, tool: Any) -> StructuredTool:
    """An MCP tool as a LangChain tool, by hand: its input schema, text for the model, structured artifact."""

    async def call(**arguments: Any) -> tuple[str, Any]:
        result = await client.call_tool(tool.name, arguments)
        text = "\n".join(block.text for block in result.content if block.type == "text")
        if result.is_error:
            raise ToolException(text)
        return text, result.structured_content

    return StructuredTool.from_function(
        coroutine=call, name=tool.name, description=tool.description or tool.name, args_schema=tool.input_schema,
        response_format="content_and_artifact", handle_tool_error=True,
    )


class ScriptedChatModel(BaseChatModel):
    """A chat model that plays a script: each step reads the conversation so far and returns the next message."""

    script: list[Callable[[list[BaseMessage]], AIMessage]]
    step: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        message = self.script[self.step](messages)
        self.step += 1
        return ChatResult(generations=[ChatGeneration(message=message)])


def call(name: str, **args: Any) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{name}_{len(args)}"}])


def last_result(messages: list[BaseMessage]) -> ToolMessage:
    return next(m for m in reversed(messages) if isinstance(m, ToolMessage))


async def test_langgraph_agent_uses_the_mcp_tools(api_server: str, sample_settings: Settings) -> None:
    def top_table(messages: list[BaseMessage]) -> str:
        return json.loads(last_result(messages).content)["tables"][0]["table"]

    script = [
        lambda m: call("search_tables", query="refund amounts per sales region", k=3),
        lambda m: call("validate_sql", sql=f"SELECT refund_total_nope FROM {top_table(m)}"),
        lambda m: call("run_sql", sql="SELECT count(*) AS n FROM finance.refunds"),
        lambda m: AIMessage(content=f"finance.refunds has {last_result(m).artifact['rows'][0][0]} rows."),
    ]
    model = ScriptedChatModel(script=script)
    async with http_client(api_server + "/mcp", USER_KEY) as client:
        tools = [langchain_tool(client, tool) for tool in (await client.list_tools()).tools]
        bound = model.bind_tools(tools)

        async def agent(state: MessagesState) -> dict[str, list[BaseMessage]]:
            return {"messages": [await bound.ainvoke(state["messages"])]}

        graph = StateGraph(MessagesState)
        graph.add_node("agent", agent)
        graph.add_node("tools", ToolNode(tools))
        graph.add_edge(START, "agent")
        graph.add_conditional_edges("agent", tools_condition)
        graph.add_edge("tools", "agent")
        final = await graph.compile().ainvoke({"messages": [HumanMessage("how many refunds are there?")]})

    results = [m for m in final["messages"] if isinstance(m, ToolMessage)]
    assert [m.name for m in results] == ["search_tables", "validate_sql", "run_sql"]
    assert results[1].status == "error" and "refund_total_nope" in results[1].content
    rows = RecordStore(sample_settings.store_path).get("finance.refunds").totals.record_count
    assert final["messages"][-1].content == f"finance.refunds has {rows} rows."
    assert model.step == len(script)


# CLI --------------------------------------------------------------------------------------------------


def test_mcp_http_without_keys_explains_how_to_create_one(sample_settings: Settings) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(sample_settings.data_dir), "mcp", "--http"],
                                env={"LAKESCOUT_API__API_KEYS": "{}"})  # fmt: skip
    assert result.exit_code == 2
    assert "api.api_keys table" in result.output and "AUTH_ENABLED=false" in result.output


def test_mcp_command_help_and_missing_index(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["mcp", "--help"])
    assert shown.exit_code == 0 and "--http" in shown.output and "stdio" in shown.output
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "mcp"])
    assert result.exit_code == 1
    assert "no index in" in result.output and "lakescout demo-lake" in result.output and "`lakescout ingest`" in result.output


# The API's /mcp route: leases and rate limits like the REST routes ------------------------------------


class ClosingLake(Lake):
    """A real Lake that notes when it is closed."""

    closed: bool = False

    def close(self) -> None:
        self.closed = True
        super().close()


def test_mcp_calls_hold_a_lease_on_the_lake_a_reingest_replaces(sample_settings: Settings) -> None:
    state = SimpleNamespace(lake=ClosingLake(AgentContext.from_settings(sample_settings), agent=None, owns_agent=False))
    served = state.lake
    with leased_context(state) as context:
        replace_lake(state, None)  # an ingest job swaps the lake while a tool call is running
        assert not served.closed
        assert "marts.orders" in {row.full_name for row in context.store.list()}
    assert served.closed  # closed by the call that held the last lease
    with leased_context(state) as context:
        assert context is None  # nothing served: the tools answer "no index yet"


def test_api_mcp_spends_the_callers_rate_limit(sample_settings: Settings, tmp_path: Path) -> None:
    arguments = ["--data-dir", str(sample_settings.data_dir), "serve"]
    with running_server(arguments, tmp_path / "server.log", env={"LAKESCOUT_API__RATE_LIMIT_PER_MINUTE": "3"}) as url:
        user = {"Authorization": f"Bearer {USER_KEY}"}
        assert [initialize_without(url + "/mcp", user).status_code for _ in range(3)] == [200, 200, 200]
        limited = initialize_without(url + "/mcp", user)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        assert httpx.get(url + "/v1/tables", headers=user).status_code == 429  # one bucket for REST and MCP
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        assert initialize_without(url + "/mcp", admin).status_code == 200  # another key, another bucket
        assert initialize_without(url + "/mcp", {}).status_code == 401  # no key: refused, not counted
