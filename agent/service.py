"""LakeAgent: the one object the CLI and the API talk to. Ask, stream, read and delete threads.

Threads are LangGraph checkpoints: a SQLite file (``settings.threads_path``) by default, Postgres when given
a ``postgresql://`` URL (needs ``langgraph-checkpoint-postgres``), or any checkpointer passed in. One graph
is compiled with one saver and shared: async callers run it in a thread per turn (``astream``), so no
connection is bound to an event loop and a CLI calling ``asyncio.run`` per turn works as an ASGI server does.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any, Literal

from humanize import apnumber
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, Field

from agent.context import AgentContext
from agent.graph import build_graph, estimate_line, recursion_limit
from agent.models import chat_model
from agent.state import MAX_FAILED_DRAFTS, ToolResult, tool_payload, turn_facts, turn_messages
from catalog_ingest.settings import ConfigError, Settings

POSTGRES_PACKAGE = "langgraph-checkpoint-postgres"


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


class ToolCallInfo(BaseModel):
    name: str
    args: dict[str, Any]
    summary: str


class SourceInfo(BaseModel):
    catalog: str | None = None
    snapshot_id: int | None = None
    as_of: str | None = None


class GroundingInfo(BaseModel):
    accounted: list[str] = Field(default_factory=list)
    """The question's terms the answer's evidence (SQL, tool results) accounts for."""
    unaccounted: list[str] = Field(default_factory=list)
    """Terms it does not: the answer is partial and says so."""


class AgentAnswer(BaseModel):
    answer: str
    sql: str | None = None
    tables_cited: list[str] = Field(default_factory=list)
    as_of: dict[str, SourceInfo] = Field(default_factory=dict)
    """Per cited table: the snapshot id and time its facts come from."""
    tool_calls: list[ToolCallInfo] = Field(default_factory=list)
    thread_id: str
    usage: Usage = Field(default_factory=Usage)
    validation: dict[str, Any] | None = None
    scan_estimate: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    """Rows of the executed query (``columns``, ``rows``, ``truncated``, ...) when it was run."""
    error: str | None = None
    """Set when the agent stopped without a full answer (step budget, SQL attempts, a failed run)."""
    grounding: GroundingInfo | None = Field(
        None,
        description="How the question's terms are covered by the answer's evidence (SQL, tool results): any "
        "unaccounted term makes the answer partial, and its text says so.",
    )


class AgentEvent(BaseModel):
    type: Literal["token", "tool_start", "tool_end", "answer", "error"]
    data: dict[str, Any]


# Checkpointers ------------------------------------------------------------------------------------------


def is_postgres(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgres://", "postgresql://"))


def _postgres_module() -> Any:
    try:
        return __import__("langgraph.checkpoint.postgres", fromlist=["_"])
    except ImportError:
        raise ConfigError(
            f"threads in Postgres need the {POSTGRES_PACKAGE} package: pip install {POSTGRES_PACKAGE}"
        ) from None


def open_saver(target: Path | str) -> AbstractContextManager[BaseCheckpointSaver]:
    if is_postgres(target):
        return _postgres_module().PostgresSaver.from_conn_string(str(target))
    from langgraph.checkpoint.sqlite import SqliteSaver

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver.from_conn_string(str(target))


# Tool call summaries -------------------------------------------------------------------------------------

SUMMARIES = {
    "search_tables": lambda d: f"{len(d.get('tables', []))} tables: " + ", ".join(t["table"] for t in d.get("tables", [])),
    "describe_table": lambda d: f"{d.get('table')}: {len(d.get('columns', []))} columns",
    "list_partitions": lambda d: f"{d.get('matched')} of {d.get('total_partitions')} partitions",
    "table_history": lambda d: f"{d.get('snapshot_count')} snapshots",
    "validate_sql": lambda d: "valid" + (f", {len(d['warnings'])} warnings" if d.get("warnings") else ""),
    "estimate_scan": estimate_line,
    "run_sql": lambda d: f"{d.get('row_count')} rows" + (" (truncated)" if d.get("truncated") else ""),
}  # fmt: skip


def summarize(result: ToolResult) -> str:
    if not result.ok:
        return "error: " + str(result.data.get("error", ""))[:300]
    return SUMMARIES.get(result.name, lambda d: "done")(result.data)


# The agent ----------------------------------------------------------------------------------------------


class LakeAgent:
    def __init__(
        self,
        context: AgentContext,
        model: BaseChatModel | None = None,
        checkpointer: BaseCheckpointSaver | Path | str | None = None,
    ) -> None:
        """``checkpointer``: a saver, a SQLite path or a Postgres URL; default ``settings.threads_path``."""
        self.context = context
        self.model = model or chat_model(context.settings.model)
        settings = context.settings
        self._threads = checkpointer if checkpointer is not None else settings.threads_url or settings.threads_path
        self._exit = ExitStack()
        self._graph: Any = None
        self._graph_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LakeAgent:
        return cls(AgentContext.from_settings(settings))

    def close(self) -> None:
        self._exit.close()
        self._graph = None

    def _sync_graph(self) -> Any:
        """Built on first use, once, even when the API calls in from several worker threads."""
        with self._graph_lock:
            if self._graph is None:
                saver = self._threads
                if not isinstance(saver, BaseCheckpointSaver):
                    saver = self._exit.enter_context(open_saver(saver))
                    if is_postgres(self._threads):
                        saver.setup()
                self._graph = build_graph(self.model, saver)
            return self._graph

    def _config(self, thread_id: str) -> dict[str, Any]:
        limit = recursion_limit(self.context.settings.model.max_steps)
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": limit}

    @staticmethod
    def _input(question: str, run: bool) -> dict[str, Any]:
        return {"messages": [HumanMessage(question)], "run": run}

    # Asking ---------------------------------------------------------------------------------------------

    def ask(self, question: str, thread_id: str | None = None, run: bool = False) -> AgentAnswer:
        thread_id = thread_id or uuid.uuid4().hex
        state = self._sync_graph().invoke(self._input(question, run), self._config(thread_id), context=self.context)
        return self._answer(state, thread_id, run)

    async def astream(
        self, question: str, thread_id: str | None = None, run: bool = False
    ) -> AsyncIterator[AgentEvent]:
        """``stream`` for async callers: the run goes on in a thread of its own and hands its events over.

        One compiled graph running in one thread per turn schedules evenly under concurrent chats; the
        async graph's many hops between the event loop and worker threads let some turns wait for seconds
        (offline chat p95 at 10 clients: about 250 ms against 950 ms). Closing this iterator (a client gone,
        a timeout) stops the run at its next event.
        """
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[AgentEvent | None] = asyncio.Queue()
        stop = threading.Event()

        def hand_over(event: AgentEvent | None) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, event)
            except RuntimeError:  # the loop is gone: nobody is listening any more
                stop.set()

        def produce() -> None:
            turn = self.stream(question, thread_id=thread_id, run=run)
            try:
                for event in turn:
                    if stop.is_set():
                        break
                    hand_over(event)
            finally:
                turn.close()
                hand_over(None)

        threading.Thread(target=produce, name="lakescout-turn", daemon=True).start()
        try:
            while (event := await events.get()) is not None:
                yield event
        finally:
            stop.set()

    def stream(self, question: str, thread_id: str | None = None, run: bool = False) -> Iterator[AgentEvent]:
        """Tokens as the model writes them, tool starts and ends, then the whole answer (or an error).

        The graph appends citations and the SQL block after the model's last token; that remainder arrives
        as one more ``token`` event, so concatenated tokens equal the final answer text.
        """
        thread_id = thread_id or uuid.uuid4().hex
        config = self._config(thread_id)
        streamed = ""
        try:
            graph = self._sync_graph()
            chunks = graph.stream(self._input(question, run), config, context=self.context, stream_mode=["messages", "updates"])
            for mode, chunk in chunks:
                for event in self._events(mode, chunk):
                    if event.type == "tool_start":
                        streamed = ""
                    elif event.type == "token":
                        streamed += event.data["text"]
                    yield event
            state = graph.get_state(config).values
        except Exception as exc:  # noqa: BLE001 - streamed to the client, which has no traceback to see
            yield AgentEvent(type="error", data={"message": f"{type(exc).__name__}: {exc}", "thread_id": thread_id})
            return
        answer = self._answer(state, thread_id, run)
        rest = answer.answer[len(streamed) :] if answer.answer.startswith(streamed) else answer.answer
        if rest:
            yield AgentEvent(type="token", data={"text": rest})
        yield AgentEvent(type="answer", data=answer.model_dump(mode="json"))

    @staticmethod
    def _events(mode: str, chunk: Any) -> Iterator[AgentEvent]:
        if mode == "messages":
            message, meta = chunk
            if meta.get("langgraph_node") == "agent" and isinstance(message, AIMessageChunk) and message.text:
                yield AgentEvent(type="token", data={"text": message.text})
            return
        for node, update in chunk.items():
            for message in (update or {}).get("messages", []):
                if node == "agent" and isinstance(message, AIMessage):
                    for call in message.tool_calls:
                        yield AgentEvent(type="tool_start", data={"id": call["id"], "name": call["name"], "args": call["args"]})
                elif node == "tools" and isinstance(message, ToolMessage):
                    result = ToolResult(message.name or "", {}, message.status != "error", tool_payload(message))
                    data = {"id": message.tool_call_id, "name": result.name, "ok": result.ok, "summary": summarize(result)}
                    yield AgentEvent(type="tool_end", data=data)

    def _answer(self, state: dict[str, Any], thread_id: str, run: bool) -> AgentAnswer:
        messages = state["messages"]
        facts = turn_facts(messages)
        usage = Usage()
        for message in turn_messages(messages):
            if isinstance(message, AIMessage) and message.usage_metadata:
                usage.input_tokens += message.usage_metadata.get("input_tokens", 0)
                usage.output_tokens += message.usage_metadata.get("output_tokens", 0)
        usage.total_tokens = usage.input_tokens + usage.output_tokens
        cited = state.get("tables_cited") or []
        return AgentAnswer(
            answer=messages[-1].text,
            sql=state.get("sql"),
            tables_cited=[c["table"] for c in cited],
            as_of={c["table"]: SourceInfo(**{k: v for k, v in c.items() if k != "table"}) for c in cited},
            tool_calls=[ToolCallInfo(name=r.name, args=r.args, summary=summarize(r)) for r in facts.results],
            thread_id=thread_id,
            usage=usage,
            validation=state.get("validation"),
            scan_estimate=state.get("scan_estimate"),
            result=state.get("result"),
            error=self._error(state, run),
            grounding=GroundingInfo(**state["grounding"]) if state.get("grounding") else None,
        )

    @staticmethod
    def _error(state: dict[str, Any], run: bool) -> str | None:
        outcome = state.get("outcome")
        if outcome == "step_budget":
            return "the step budget ran out before an answer (LAKESCOUT_MODEL__MAX_STEPS)"
        if outcome == "sql_gave_up":
            return f"no valid SQL after {apnumber(MAX_FAILED_DRAFTS)} attempts"
        if run and state.get("sql") and state.get("result") is None:
            return "the SQL was not run successfully"
        return None

    # Threads --------------------------------------------------------------------------------------------

    def history(self, thread_id: str) -> list[dict[str, str]] | None:
        """The conversation as user and assistant turns; None for a thread that does not exist."""
        snapshot = self._sync_graph().get_state(self._config(thread_id))
        if not snapshot.values:
            return None
        turns = []
        for message in snapshot.values.get("messages", []):
            if isinstance(message, HumanMessage):
                turns.append({"role": "user", "content": message.text})
            elif isinstance(message, AIMessage) and not message.tool_calls and message.text:
                turns.append({"role": "assistant", "content": message.text})
        return turns

    def delete_thread(self, thread_id: str) -> bool:
        graph = self._sync_graph()
        if not graph.get_state(self._config(thread_id)).values:
            return False
        graph.checkpointer.delete_thread(thread_id)
        return True
