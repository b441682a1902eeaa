"""Starting a server on this machine: a free loopback port, and waiting until a URL on it answers.

Shared by the tests, the benchmarks and the evals, which start uvicorn, moto or Chroma as subprocesses.
"""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, pid: int, timeout: float = 30.0, *, status: int | None = None) -> None:
    """Poll ``url`` until it answers (with ``status``, when given); past ``timeout`` stop ``pid`` and raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answered = httpx.get(url, timeout=1.0).status_code
        except httpx.HTTPError:
            answered = None
        if answered is not None and status in (None, answered):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGTERM)
    raise RuntimeError(f"{url} did not answer within {timeout}s")
