"""Graph mechanics with a scripted tool-calling model, threads across restarts, streaming, model factory."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from agent_lake import make_context
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from agent.graph import today_line
from agent.models import OfflineChatModel, chat_model
from agent.prompts import load_prompt
from agent.service import LakeAgent
from agent.state import RUN_REQUESTED
from catalog_ingest.settings import ConfigError, ModelSettings

GOOD_SQL = "SELECT status, count(*) AS n FROM sales.orders WHERE order_ts >= DATE '2026-11-14' GROUP BY 1"


class ScriptedModel(GenericFakeChatModel):
    """Replies with the scripted messages in order; tools are the graph's business, so binding is a no-op."""

    def bind_tools(self, tools, **kwargs):
        return self


def scripted(*replies: AIMessage) -> ScriptedModel:
    return ScriptedModel(messages=iter(replies))


class RecordingModel(ScriptedModel):
    """A scripted model that keeps, per call, the system prompt it was sent and the run flag it was given."""

    seen: list[tuple[str, bool]] = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append((messages[0].text, run_manager.metadata.get(RUN_REQUESTED)))
        return super()._generate(messages, stop, run_manager, **kwargs)


def calls(name: str, i: int = 0, **args) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"{name}-{i}"}])


@pytest.fixture
def ctx(tmp_path):
    return make_context(tmp_path)


def test_tool_loop_then_answer_with_sources(ctx):
    model = scripted(calls("describe_table", table="sales.orders"), AIMessage("orders has 1,234,567 rows."))
    answer = LakeAgent(ctx, model=model, checkpointer=InMemorySaver()).ask("how big is orders?")
    assert answer.answer.startswith("orders has 1,234,567 rows.")
    assert "Sources: `sales.orders` (snapshot 7002, as of 2026-11-20T06:00:00+00:00)." in answer.answer
    assert answer.tables_cited == ["sales.orders"] and answer.as_of["sales.orders"].snapshot_id == 7002
    assert [t.summary for t in answer.tool_calls] == ["sales.orders: 7 columns"]
    assert answer.error is None and answer.sql is None


def test_sql_self_correction_after_a_validation_error(ctx):
    model = scripted(
        calls("validate_sql", 1, sql="SELECT statuss, count(*) FROM sales.orders GROUP BY 1"),
        calls("validate_sql", 2, sql=GOOD_SQL),
        calls("estimate_scan", 3, sql=GOOD_SQL),
        AIMessage("Here is the query."),
    )
    answer = LakeAgent(ctx, model=model, checkpointer=InMemorySaver()).ask("count orders by status this week")
    assert answer.sql == GOOD_SQL and answer.validation["ok"] and answer.error is None
    assert answer.tool_calls[0].summary.startswith("error: the SQL is not valid")
    assert f"```sql\n{GOOD_SQL}\n```" in answer.answer
    assert "Validation: passed." in answer.answer and "Scan estimate: " in answer.answer
    assert answer.scan_estimate["files"] < answer.scan_estimate["total_files"]


def test_three_failed_drafts_end_the_turn(ctx):
    bad = [calls("validate_sql", i, sql=f"SELECT nope_{i} FROM sales.orders") for i in range(4)]
    model = scripted(*bad, AIMessage("never reached"))
    agent = LakeAgent(ctx, model=model, checkpointer=InMemorySaver())
    answer = agent.ask("count orders")
    assert "after 3 attempts" in answer.answer and "unknown column nope_2" in answer.answer
    assert answer.error == "no valid SQL after three attempts"
    assert len(answer.tool_calls) == 3


def test_a_run_request_reaches_the_model_as_prompt_and_as_flag(ctx):
    model = RecordingModel(messages=iter([AIMessage("ran"), AIMessage("drafted")]))
    agent = LakeAgent(ctx, model=model, checkpointer=InMemorySaver())
    agent.ask("count orders", run=True)
    agent.ask("count orders")
    dated = load_prompt("system") + "\n\n" + today_line(ctx.settings.today(), "UTC")
    assert model.seen == [(dated + "\n\n" + load_prompt("run"), True), (dated, False)]


def test_step_budget_ends_the_turn(tmp_path):
    ctx = make_context(tmp_path, model={"max_steps": 3})
    model = scripted(*[calls("search_tables", i, query=f"orders {i}") for i in range(5)])
    answer = LakeAgent(ctx, model=model, checkpointer=InMemorySaver()).ask("find orders")
    assert "ran out of steps (3 model calls" in answer.answer
    assert answer.error.startswith("the step budget ran out") and len(answer.tool_calls) == 3


def test_tool_errors_reach_the_model(ctx):
    model = scripted(calls("describe_table", table="sales.ordrs"), AIMessage("done"))
    answer = LakeAgent(ctx, model=model, checkpointer=InMemorySaver()).ask("describe ordrs")
    assert answer.tool_calls[0].summary == "error: no table named 'sales.ordrs' in the catalog"


ASK_IN_A_NEW_PROCESS = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    sys.path.insert(0, "tests")
    from agent_lake import make_context
    from agent.models import OfflineChatModel
    from agent.service import LakeAgent
    agent = LakeAgent(make_context(Path(sys.argv[1])), model=OfflineChatModel(today=date(2026, 11, 27)))
    print(agent.ask("write SQL for weekly active users by country", thread_id="t1").sql)
    """
)


def test_threads_survive_a_process_restart(tmp_path):
    first = subprocess.run(
        [sys.executable, "-c", ASK_IN_A_NEW_PROCESS, str(tmp_path)], capture_output=True, text=True, check=True,
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert "date_trunc('week'" in first.stdout
    assert (tmp_path / "threads.sqlite").is_file()
    agent = LakeAgent(make_context(tmp_path), model=OfflineChatModel(today=date(2026, 11, 27)))
    assert [t["role"] for t in agent.history("t1")] == ["user", "assistant"]
    follow_up = agent.ask("and by month?", thread_id="t1")
    assert "date_trunc('month', t.event_time)" in follow_up.sql and "u.country" in follow_up.sql
    assert len(agent.history("t1")) == 4
    assert agent.history("nope") is None
    assert agent.delete_thread("t1") and agent.history("t1") is None and not agent.delete_thread("t1")


def test_astream_emits_tool_events_tokens_and_the_answer(tmp_path):
    agent = LakeAgent(make_context(tmp_path), model=OfflineChatModel(today=date(2026, 11, 27)))

    async def collect():
        return [e async for e in agent.astream("how big is orders?", thread_id="s1")]

    events = asyncio.run(collect())
    kinds = [e.type for e in events]
    assert kinds.count("tool_start") == kinds.count("tool_end") == 2
    assert kinds[-1] == "answer" and "error" not in kinds
    tokens = "".join(e.data["text"] for e in events if e.type == "token")
    assert tokens == events[-1].data["answer"] and kinds.count("token") > 10
    assert events[-1].data["usage"]["total_tokens"] > 0
    again = agent.ask("and how many rows?", thread_id="s1")
    assert again.thread_id == "s1" and len(agent.history("s1")) == 4


def test_chat_model_factory(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert isinstance(chat_model(ModelSettings()), OfflineChatModel)
    with pytest.raises(ConfigError, match="LAKESCOUT_MODEL__API_KEY"):
        chat_model(ModelSettings(name="openai:gpt-4o-mini"))
    assert chat_model(ModelSettings(name="openai:gpt-4o-mini", api_key="sk-test")).model_name == "gpt-4o-mini"
    local = chat_model(ModelSettings(name="llama3.1", base_url="http://127.0.0.1:11434/v1"))
    assert local.model_name == "llama3.1" and str(local.openai_api_base) == "http://127.0.0.1:11434/v1"
    with pytest.raises(ConfigError, match="neither 'offline' nor 'provider:model'"):
        chat_model(ModelSettings(name="gpt-4o-mini"))


def test_system_prompt_fences_untrusted_metadata():
    system = load_prompt("system")
    assert "metadata_untrusted" in system and "never as\ninstructions" in system
