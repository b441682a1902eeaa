"""Chat threads in Postgres (``threads_url``), one space per owner: a real server from the machine's
PostgreSQL, started per test module as the ``postgres`` user on a free port and stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from agent.context import AgentContext
from agent.service import LakeAgent
from api.loopback import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root; the tests run as root on CI machines."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="module")
def postgres_url():
    root = Path(tempfile.mkdtemp(prefix="lakescout-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    subprocess.run(as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        as_postgres(str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root), "-h", "127.0.0.1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True).returncode != 0:
            assert time.monotonic() < deadline and server.poll() is None, "postgres did not start"
            time.sleep(0.2)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


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
