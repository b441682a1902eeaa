"""LakeAgent: the one object the CLI and the API talk to. Ask, stream, read and delete threads.

Threads are LangGraph checkpoints: a SQLite file (``settings.threads_path``) by default, Postgres when given
a ``postgresql://`` URL (needs ``langgraph-checkpoint-postgres``), or any checkpointer passed in. One graph
is compiled with one saver and shared: async callers run it in a thread per turn (``astream``), so no
connection is bound to an event loop and a CLI calling ``asyncio.run`` per turn works as an ASGI server does.

Each owner (an API key's name) has a thread space of its own: the checkpointer stores ``owner/thread_id``
(thread ids never hold a ``/``), so one key's ``t1`` is not another's and no caller can reach, or learn of,
a thread outside its space. Owner ``None`` is the single local space (the CLI, the API with auth off).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

from humanize import apnumber
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.answers import AgentAnswer, AgentEvent, GroundingInfo, SourceInfo, ThreadInfo, ToolCallInfo, Turn, Usage
from agent.context import AgentContext
from agent.graph import build_graph, estimate_line, recursion_limit
from agent.model_output import MAX_MALFORMED_TURNS
from agent.models import chat_model
from agent.outages import outage
from agent.state import MAX_FAILED_DRAFTS, ToolResult, tool_payload, turn_facts, turn_messages
from agent.threads import is_postgres, new_thread_id, open_saver, split_thread_key, thread_key
from catalog_ingest.dense_bounds import BoundsWhen
from catalog_ingest.embeddings import Embedder
from catalog_ingest.settings import Settings

STOPPED_TOOL_TEXT = "not run: the turn was stopped (the client went away or the time ran out)"


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


class TurnOptions(TypedDict, total=False):
    """What a turn may say besides its question, the same for ``ask``, ``stream`` and ``astream``."""

    thread_id: str | None
    """The thread to continue (a new one when absent)."""
    run: bool
    """Run the drafted SQL and put its rows in the answer."""
    owner: str | None
    """Whose thread space ``thread_id`` is in (``None``: the local space)."""
    history: list[Turn] | None
    """Earlier turns the caller kept: the turn then reads and writes no thread."""


@dataclass(frozen=True)
class PreparedTurn:
    """One turn ready to run: its thread, the graph's config and the graph's input."""

    thread_id: str
    run: bool
    history: list[Turn] | None
    config: dict[str, Any]
    input: dict[str, Any]


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
        self._stateless_graph: Any = None
        self._graph_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None, bounds: BoundsWhen = "open") -> LakeAgent:
        return cls(AgentContext.from_settings(settings, embedder, bounds))

    def close(self) -> None:
        self._exit.close()
        self._graph = None

    def _sync_graph(self, history: list[Turn] | None = None) -> Any:
        """Built on first use, once, even when the API calls in from several worker threads.

        A turn that brings its own ``history`` runs on a graph without a checkpointer: nothing is kept.
        """
        with self._graph_lock:
            if history is not None:
                self._stateless_graph = self._stateless_graph or build_graph(self.model)
                return self._stateless_graph
            if self._graph is None:
                saver = self._threads
                if not isinstance(saver, BaseCheckpointSaver):
                    saver = self._exit.enter_context(open_saver(saver))
                    if is_postgres(self._threads):
                        saver.setup()
                self._graph = build_graph(self.model, saver)
            return self._graph

    def _config(self, thread_id: str, owner: str | None = None) -> dict[str, Any]:
        limit = recursion_limit(self.context.settings.model.max_steps)
        return {"configurable": {"thread_id": thread_key(thread_id, owner)}, "recursion_limit": limit}

    def _prepare(self, question: str, options: TurnOptions) -> PreparedTurn:
        """What ``ask`` and ``stream`` run: a new thread id unless one is given (none with ``history``)."""
        history = options.get("history")
        thread_id = "" if history is not None else options.get("thread_id") or new_thread_id()
        run = options.get("run", False)
        earlier = [HumanMessage(text) if role == "user" else AIMessage(text) for role, text in history or []]
        config = self._config(thread_id, options.get("owner"))
        return PreparedTurn(thread_id, run, history, config, {"messages": [*earlier, HumanMessage(question)], "run": run})

    def _graph_for(self, turn: PreparedTurn) -> Any:
        """The graph the turn runs on, with what a stopped earlier turn of its thread left open settled."""
        graph = self._sync_graph(turn.history)
        if turn.history is None:
            self._settle(graph, turn.config)
        return graph

    # Asking ---------------------------------------------------------------------------------------------

    def ask(self, question: str, **options: Unpack[TurnOptions]) -> AgentAnswer:
        """One whole turn in ``owner``'s thread space (see ``TurnOptions``).

        Raises ``ServiceUnavailable`` when the model, Chroma or Postgres is down or too slow.
        """
        turn = self._prepare(question, options)
        try:
            state = self._graph_for(turn).invoke(turn.input, turn.config, context=self.context)
        except Exception as exc:
            if (down := outage(exc, self.context.settings)) is not None:
                raise down from exc
            raise
        return self._answer(state, turn.thread_id, turn.run)

    async def astream(self, question: str, **options: Unpack[TurnOptions]) -> AsyncIterator[AgentEvent]:
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
            turn = self.stream(question, **options)
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

    def stream(self, question: str, **options: Unpack[TurnOptions]) -> Iterator[AgentEvent]:
        """Tokens as the model writes them, tool starts and ends, then the whole answer (or an error).

        The graph appends citations and the SQL block after the model's last token; that remainder arrives
        as one more ``token`` event, so concatenated tokens equal the final answer text (up to the
        whitespace the model ended with). An outage's error event carries its ``code`` and ``retry_after``.
        Closing the stream early stops the graph at its next event; what the stopped turn left open is
        settled when the thread's next turn starts (``_settle``).
        """
        turn = self._prepare(question, options)
        streamed, state = "", {}
        try:
            modes = ["messages", "updates", "values"]
            chunks = self._graph_for(turn).stream(turn.input, turn.config, context=self.context, stream_mode=modes)
            for mode, chunk in chunks:
                if mode == "values":
                    state = chunk
                    continue
                for event in self._events(mode, chunk):
                    if event.type == "tool_start":
                        streamed = ""
                    elif event.type == "token":
                        streamed += event.data["text"]
                    yield event
        except GeneratorExit:  # the caller stopped listening: stop the graph now, not when it is collected
            chunks.close()
            raise
        except Exception as exc:  # noqa: BLE001 - streamed to the client, which has no traceback to see
            down = outage(exc, self.context.settings)
            data = down.event_data() if down else {"message": f"{type(exc).__name__}: {exc}"}
            yield AgentEvent(type="error", data={**data, "thread_id": turn.thread_id})
            return
        answer = self._answer(state, turn.thread_id, turn.run)
        if rest := remainder(answer.answer, streamed):
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
                    for bad in message.invalid_tool_calls:  # answered by the graph's "malformed" node
                        yield AgentEvent(type="tool_start", data={"id": bad.get("id"), "name": bad.get("name") or "", "args": {}})
                elif node in ("tools", "malformed") and isinstance(message, ToolMessage):
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
            message_id=messages[-1].id or "",
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
        if outcome == "malformed_tool_calls":
            return f"the model sent malformed tool calls {apnumber(MAX_MALFORMED_TURNS)} times; nothing was checked"
        if run and state.get("sql") and state.get("result") is None:
            return "the SQL was not run successfully"
        return None

    @staticmethod
    def _settle(graph: Any, config: dict[str, Any]) -> None:
        """Before a turn: answer the tool calls an earlier turn left open when it was stopped (client gone,
        timeout, server killed) while its tools ran, so the conversation stays well-formed (a model API
        refuses an unanswered tool call). Reads the saved checkpoint itself: writes of an unfinished step
        are not part of the thread and LangGraph drops them when the next turn starts."""
        saved = graph.checkpointer.get_tuple(config)
        messages = saved.checkpoint["channel_values"].get("messages", []) if saved else []
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        last_ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        open_calls = [c for c in (last_ai.tool_calls if last_ai else []) if c["id"] not in answered]
        if open_calls:
            stopped = [ToolMessage(STOPPED_TOOL_TEXT, tool_call_id=c["id"], name=c["name"], status="error")
                       for c in open_calls]  # fmt: skip
            graph.update_state(config, {"messages": stopped}, as_node="tools")

    # Threads --------------------------------------------------------------------------------------------

    def has_thread(self, thread_id: str, owner: str | None = None) -> bool:
        return bool(self._sync_graph().get_state(self._config(thread_id, owner)).values)

    def history(self, thread_id: str, owner: str | None = None) -> list[dict[str, str]] | None:
        """The conversation as user and assistant turns; None for a thread that does not exist."""
        snapshot = self._sync_graph().get_state(self._config(thread_id, owner))
        if not snapshot.values:
            return None
        turns = []
        for message in snapshot.values.get("messages", []):
            if isinstance(message, HumanMessage):
                turns.append({"role": "user", "content": message.text})
            elif isinstance(message, AIMessage) and not message.tool_calls and message.text:
                turns.append({"role": "assistant", "content": message.text})
        return turns

    def thread_messages(self, thread_id: str, owner: str | None = None) -> list[AnyMessage] | None:
        """Every message of one of ``owner``'s threads (feedback finds the rated answer in them); None if absent."""
        snapshot = self._sync_graph().get_state(self._config(thread_id, owner))
        return snapshot.values.get("messages", []) if snapshot.values else None

    def delete_thread(self, thread_id: str, owner: str | None = None) -> bool:
        graph = self._sync_graph()
        if not graph.get_state(self._config(thread_id, owner)).values:
            return False
        graph.checkpointer.delete_thread(thread_key(thread_id, owner))
        return True

    def threads(self) -> list[ThreadInfo]:
        """Every thread of every owner, most recently written first (for admins: reads every checkpoint)."""
        seen: dict[str, ThreadInfo] = {}
        for saved in self._sync_graph().checkpointer.list(None):
            key = saved.config["configurable"]["thread_id"]
            if key not in seen and not saved.config["configurable"].get("checkpoint_ns"):
                owner, thread_id = split_thread_key(key)
                seen[key] = ThreadInfo(thread_id=thread_id, owner=owner, updated_at=saved.checkpoint.get("ts"))
        return sorted(seen.values(), key=lambda t: t.updated_at or "", reverse=True)


def remainder(answer: str, streamed: str) -> str:
    """What of ``answer`` the stream has not shown yet.

    ``finalize`` right-strips the model's text before adding its footer, so the streamed text may end in
    whitespace the answer does not have at that point: compare without it, or the whole answer would be
    sent a second time.
    """
    shown = streamed.rstrip()
    if not answer.startswith(shown):
        return answer
    rest = answer[len(shown) :]
    trailing = streamed[len(shown) :]
    return rest[len(trailing) :] if rest.startswith(trailing) else rest.lstrip(" \t")
