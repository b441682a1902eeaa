"""Chat threads in Postgres (``threads_url``), one space per owner, on a real server (``postgres_support``)."""

from __future__ import annotations

from agent.context import AgentContext
from agent.service import LakeAgent
from postgres_support import postgres_url  # noqa: F401  (the fixture)


def test_threads_live_in_postgres_across_agents(sample_settings, postgres_url):
    settings = sample_settings.model_copy(update={"threads_url": postgres_url})
    first = LakeAgent(AgentContext.from_settings(settings))
    first.ask("describe marts.orders", thread_id="pg-thread")
    first.close()

    again = LakeAgent(AgentContext.from_settings(settings))
    follow_up = again.ask("how many rows does it have?", thread_id="pg-thread")
    record = again.context.store.get("marts.orders")
    assert f"{record.totals.record_count:,}" in follow_up.answer
    assert [turn["role"] for turn in again.history("pg-thread")] == ["user", "assistant", "user", "assistant"]
    assert again.delete_thread("pg-thread") and again.history("pg-thread") is None
    again.close()


def test_each_owner_has_its_own_thread_space_in_postgres(sample_settings, postgres_url):
    agent = LakeAgent(AgentContext.from_settings(sample_settings.model_copy(update={"threads_url": postgres_url})))
    agent.ask("describe marts.orders", thread_id="shared-name", owner="analyst")
    agent.ask("how big is finance.refunds?", thread_id="shared-name", owner="intruder")
    analyst, intruder = agent.history("shared-name", owner="analyst"), agent.history("shared-name", owner="intruder")
    assert analyst[0]["content"] == "describe marts.orders" and intruder[0]["content"] == "how big is finance.refunds?"
    assert agent.history("shared-name") is None  # nor is it in the local space
    listed = {(t.owner, t.thread_id) for t in agent.threads()}
    assert {("analyst", "shared-name"), ("intruder", "shared-name")} <= listed
    assert agent.delete_thread("shared-name", owner="intruder")
    assert agent.history("shared-name", owner="intruder") is None and agent.history("shared-name", owner="analyst")
    agent.close()
