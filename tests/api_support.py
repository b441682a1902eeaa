"""Shared by the API tests and the uvicorn launcher they start: keys, settings, a slowed-down agent, and how a
test starts a real server (``lakescout serve``, ``lakescout mcp --http`` or this launcher) and stops it by PID."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api.auth import hash_api_key
from catalog_ingest.settings import Settings

USER_KEY = "lsk_test_user_key"
ADMIN_KEY = "lsk_test_admin_key"
OTHER_KEY = "lsk_test_other_user_key"
API_KEYS = {
    "analyst": f"user:{hash_api_key(USER_KEY)}",
    "ops": f"admin:{hash_api_key(ADMIN_KEY)}",
    "intruder": f"user:{hash_api_key(OTHER_KEY)}",
}
USER = {"Authorization": f"Bearer {USER_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
OTHER = {"Authorization": f"Bearer {OTHER_KEY}"}
"""A second user key: it must never reach the analyst's threads."""


VENV_BIN = Path(sys.executable).parent
STARTUP_SECONDS = 120
"""Imports, the embedding model and the index take seconds; far more on a machine busy with other work."""


@contextmanager
def running_server(
    arguments: list[str], log: Path, *, env: dict[str, str] | None = None, ready: str = "/healthz",
    command: list[str] | None = None,
) -> Iterator[str]:
    """``lakescout ARGUMENTS --port P`` (or ``command`` + the port) with the test keys, its base URL once
    ``ready`` answers, then SIGTERM and a clean exit. The server's logs go to ``log`` (a pipe nobody reads
    would fill up and stall it)."""
    from api.loopback import free_port, wait_http

    port = free_port()
    argv = [*(command or [str(VENV_BIN / "lakescout"), *arguments, "--port"]), str(port)]
    with open(log, "w") as sink:
        proc = subprocess.Popen(argv, env={**os.environ, "LAKESCOUT_API__API_KEYS": json.dumps(API_KEYS), **(env or {})},
                                cwd=Path(__file__).parent.parent, stdout=subprocess.DEVNULL, stderr=sink)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + ready, proc.pid, timeout=STARTUP_SECONDS)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code in (0, -signal.SIGTERM), f"the server exited with {code}; see {log}"  # uvicorn re-raises SIGTERM


def with_api(settings: Settings, **api: Any) -> Settings:
    """``settings`` with the test keys, a generous rate limit and any API overrides."""
    options = {"api_keys": API_KEYS, "rate_limit_per_minute": 10_000, **api}
    return settings.model_copy(update={"api": settings.api.model_copy(update=options)})


class SlowAgent:
    """The real agent, pausing before each event but tokens: long enough to disconnect, overlap or time out."""

    def __init__(self, agent: Any, delay: float) -> None:
        self.agent = agent
        self.delay = delay
        self.outcomes: list[str] = []
        self.running = 0
        """Turns in progress now; ``peak`` is the most there were at once."""
        self.peak = 0

    async def astream(
        self, question: str, thread_id: str | None = None, run: bool = False, owner: str | None = None, **turn: Any
    ) -> AsyncIterator[Any]:
        outcome = "cancelled"
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            async for event in self.agent.astream(question, thread_id=thread_id, run=run, owner=owner, **turn):
                if event.type != "token":
                    await asyncio.sleep(self.delay)
                yield event
            outcome = "finished"
        finally:
            self.running -= 1
            self.outcomes.append(outcome)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.agent, name)


def serve_slow(port: int, delay: float) -> None:
    """Run uvicorn over the real agent slowed down; settings (data dir, keys) come from the environment."""
    import uvicorn

    from agent.service import LakeAgent
    from api.app import create_app
    from catalog_ingest.settings import load_settings

    settings = load_settings()
    uvicorn.run(create_app(settings, agent=SlowAgent(LakeAgent.from_settings(settings), delay)),
                host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":  # api_support.py DELAY PORT
    serve_slow(int(sys.argv[2]), float(sys.argv[1]))
