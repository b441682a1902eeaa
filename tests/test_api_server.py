"""A real uvicorn on a free loopback port, started as a subprocess and stopped by its PID."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from api_support import USER, USER_KEY, VENV_BIN, running_server
from api.loopback import free_port
from catalog_ingest.settings import Settings

QUESTION = "which table has refunds by region?"
SLOW_DELAY = 0.3


@pytest.fixture(scope="module")
def server(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``lakescout serve``, the way a user starts it, with keys from the environment."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with running_server(["--data-dir", str(sample_settings.data_dir), "serve"], log) as url:
        yield url


@pytest.fixture(scope="module")
def slow_server(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real agent pausing before each event, so streaming and disconnects can be watched."""
    launcher = [sys.executable, str(Path(__file__).with_name("api_support.py")), str(SLOW_DELAY)]
    log = tmp_path_factory.mktemp("slow") / "server.log"
    env = {"LAKESCOUT_DATA_DIR": str(sample_settings.data_dir)}
    with running_server([], log, env=env, command=launcher) as url:
        yield url


def test_serve_without_keys_explains_how_to_create_one(sample_settings: Settings) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "lakescout"), "--data-dir", str(sample_settings.data_dir), "serve", "--port", str(free_port())],
        env={k: v for k, v in os.environ.items() if not k.startswith("LAKESCOUT_")},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "api.api_keys table" in result.stderr and "AUTH_ENABLED=false" in result.stderr
    assert 'me = "admin:' in result.stderr


def test_openai_client_without_streaming(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key=USER_KEY, max_retries=0)
    completion = client.chat.completions.create(
        model="lakescout", messages=[{"role": "user", "content": QUESTION}], user="openai-thread-1"
    )
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert httpx.get(f"{server}/v1/threads/openai-thread-1", headers=USER).status_code == 200


def test_openai_client_streaming(server: str) -> None:
    client = openai.OpenAI(base_url=f"{server}/v1", api_key=USER_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model="lakescout", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_client_sees_auth_and_model_errors(server: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0).chat.completions.create(
            model="lakescout", messages=[{"role": "user", "content": QUESTION}]
        )
    with pytest.raises(openai.NotFoundError):
        openai.OpenAI(base_url=f"{server}/v1", api_key=USER_KEY, max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
        )


def test_sse_arrives_event_by_event(slow_server: str) -> None:
    arrivals: list[tuple[float, str]] = []
    started = time.monotonic()
    with httpx.stream("POST", f"{slow_server}/v1/chat/stream", json={"message": QUESTION}, headers=USER,
                      timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                arrivals.append((time.monotonic() - started, line.split(":", 1)[1].strip()))
    kinds = [kind for _, kind in arrivals]
    assert kinds[-2:] == ["answer", "done"] and "tool_start" in kinds
    paused = [t for t, kind in arrivals if kind not in ("token", "done")]  # each came SLOW_DELAY after the last
    assert paused[-1] - paused[0] >= 0.9 * SLOW_DELAY * (len(paused) - 1), arrivals  # not buffered to the end


def runs(url: str, outcome: str) -> float:
    """The server's count of agent runs that ended with ``outcome``."""
    text = httpx.get(f"{url}/metrics", headers=USER).text
    prefix = f'lakescout_chat_runs_total{{outcome="{outcome}"}} '
    return next((float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix)), 0.0)


def test_disconnect_cancels_the_run_and_keeps_serving(slow_server: str) -> None:
    cancelled, answered = runs(slow_server, "cancelled"), runs(slow_server, "answered")
    with httpx.stream("POST", f"{slow_server}/v1/chat/stream", json={"message": QUESTION}, headers=USER,
                      timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                break  # one event, then hang up
    deadline = time.monotonic() + 10
    while runs(slow_server, "cancelled") == cancelled:
        assert time.monotonic() < deadline, "the run was not cancelled"
        time.sleep(0.1)
    assert runs(slow_server, "cancelled") == cancelled + 1
    assert runs(slow_server, "answered") == answered
    assert httpx.get(f"{slow_server}/healthz").status_code == 200


def raw_exchange(url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``request`` bytes as they are; the status line, headers and body that come back."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}, body


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),  # a 100 KB path
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 40_000 + b"\r\n\r\n", 431, "headers_too_large"),
    (b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "bad_request"),
    (b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", 400, "bad_request"),
    (b"NOT AN HTTP REQUEST\r\n\r\n", 400, "bad_request"),
], ids=["long-path", "big-header", "bad-content-length", "two-content-lengths", "garbage"])  # fmt: skip
def test_malformed_requests_get_the_json_error_shape(server: str, request_bytes: bytes, status: int, code: str) -> None:
    answer, headers, body = raw_exchange(server, request_bytes)
    assert answer.startswith(f"HTTP/1.1 {status}"), answer
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == code
    assert httpx.get(f"{server}/healthz").status_code == 200


def test_a_head_that_never_ends_is_cut_off_with_the_json_error(server: str) -> None:
    """Sent slowly, in pieces: the server's parser refuses it once it outgrows the bound, before it is whole."""
    import socket

    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        received = b""
        try:
            for _ in range(200):  # 200 headers of 1 KB, never the blank line that ends the head
                sock.sendall(b"X-Drip: " + b"d" * 1024 + b"\r\n")
                time.sleep(0.005)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head
    assert json.loads(body)["error"]["code"] == "bad_request"
