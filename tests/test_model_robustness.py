"""lakescout with a real model behind it: a scripted OpenAI-compatible server over real HTTP.

Streams that end in whitespace, malformed tool-call JSON, usage on every path, 429 and 5xx with
``Retry-After``, and the CLI's one-line errors when the model, Chroma or Postgres is down or slow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.outages import ServiceUnavailable
from agent.service import LakeAgent
from api.app import create_app
from api.loopback import free_port
from api_support import USER, with_api
from catalog_ingest.settings import Settings
from scripted_openai import ScriptedModel

DESCRIBE = {"name": "describe_table", "arguments": json.dumps({"table": "marts.orders"})}
ANSWER = "`marts.orders` holds one row per order."


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScriptedModel]:
    scripted = ScriptedModel(tmp_path_factory.mktemp("scripted") / "model.log")
    yield scripted
    scripted.stop()


def scripted_settings(settings: Settings, model: ScriptedModel, **options: object) -> Settings:
    chosen = {"name": "scripted", "base_url": model.url, "max_retries": 1, "timeout_seconds": 20, **options}
    return settings.model_copy(update={"model": settings.model.model_copy(update=chosen)})


@pytest.fixture(scope="module")
def settings(sample_settings: Settings, model: ScriptedModel) -> Settings:
    return with_api(scripted_settings(sample_settings, model))


@pytest.fixture(scope="module")
def agent(settings: Settings) -> Iterator[LakeAgent]:
    lake_agent = LakeAgent.from_settings(settings)
    yield lake_agent
    lake_agent.close()


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def streamed(agent: LakeAgent, question: str) -> tuple[str, dict]:
    events = list(agent.stream(question))
    assert events[-1].type == "answer", events[-1]
    return "".join(e.data["text"] for e in events if e.type == "token"), events[-1].data


# Streaming ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [" ", "\n", " \n\t ", "\n\n"])
def test_stream_is_not_repeated_whatever_whitespace_ends_the_text(
    agent: LakeAgent, model: ScriptedModel, ending: str
) -> None:
    model.script({"tool_calls": [DESCRIBE]}, {"content": ANSWER + ending})
    text, answer = streamed(agent, "describe marts.orders")
    assert text.count(ANSWER) == 1, text
    assert "Sources: `marts.orders`" in text
    assert text.split() == answer["answer"].split()  # the same words: only whitespace may differ


# Malformed tool calls -----------------------------------------------------------------------------------


def test_malformed_tool_call_goes_back_to_the_model_as_an_error(agent: LakeAgent, model: ScriptedModel) -> None:
    broken = {"name": "describe_table", "arguments": '{"table": marts.orders}'}
    model.script({"tool_calls": [broken]}, {"tool_calls": [DESCRIBE]}, {"content": ANSWER})
    answer = agent.ask("describe marts.orders")
    assert answer.error is None and ANSWER in answer.answer
    assert answer.tables_cited == ["marts.orders"]
    second = model.requests()[1]["body"]["messages"]
    told = next(m for m in second if m["role"] == "tool")
    assert "could not be read" in told["content"] and "marts.orders" in told["content"]


def test_persistently_malformed_tool_calls_end_with_a_clear_error(agent: LakeAgent, model: ScriptedModel) -> None:
    broken = {"name": "validate_sql", "arguments": "{'sql': SELECT 1"}
    model.script({"content": "Checking.", "tool_calls": [broken], "repeat": 3})
    answer = agent.ask("count orders")
    assert answer.error and "malformed tool calls" in answer.error
    assert "not valid JSON 3 times" in answer.answer
    assert len(model.requests()) == 3


def test_streamed_sql_that_no_tool_validated_carries_a_warning(agent: LakeAgent, model: ScriptedModel) -> None:
    model.script({"content": "Try this:\n\n```sql\nSELECT status, count(*) FROM marts.orders GROUP BY 1\n```\n"})
    text, answer = streamed(agent, "count orders by status")
    assert "not validated against the catalog" in text
    assert "not validated against the catalog" in answer["answer"]


def test_cli_exits_non_zero_when_tool_calls_stay_malformed(settings: Settings, model: ScriptedModel) -> None:
    broken = {"name": "validate_sql", "arguments": '{"sql": SELECT 1}'}
    model.script({"tool_calls": [broken], "repeat": 3})
    result = cli(settings, model.url, "ask", "count orders", "--json")
    assert result.returncode == 1, result.stderr
    assert "malformed tool calls" in json.loads(result.stdout)["error"]


# Usage --------------------------------------------------------------------------------------------------

USAGE = {"prompt_tokens": 100, "completion_tokens": 20}
TWO_CALLS = ({"tool_calls": [DESCRIBE], "usage": USAGE}, {"content": ANSWER, "usage": USAGE})


def assert_counted(usage: dict) -> None:
    assert usage == {"input_tokens": 200, "output_tokens": 40, "total_tokens": 240}, usage


def test_usage_is_counted_on_every_path(agent: LakeAgent, client: TestClient, model: ScriptedModel,
                                        settings: Settings) -> None:  # fmt: skip
    model.script(*TWO_CALLS)
    assert_counted(agent.ask("describe marts.orders").usage.model_dump())
    model.script(*TWO_CALLS)
    assert_counted(streamed(agent, "describe marts.orders")[1]["usage"])
    model.script(*TWO_CALLS)
    assert_counted(client.post("/v1/chat", json={"message": "describe marts.orders"}, headers=USER).json()["usage"])
    model.script(*TWO_CALLS)
    with client.stream("POST", "/v1/chat/stream", json={"message": "describe marts.orders"}, headers=USER) as sse:
        answer = [json.loads(line[5:]) for line in sse.iter_lines() if line.startswith("data:") and '"usage"' in line]
    assert_counted(answer[-1]["usage"])
    body = {"model": "lakescout", "messages": [{"role": "user", "content": "describe marts.orders"}]}
    model.script(*TWO_CALLS)
    completion = client.post("/v1/chat/completions", json=body, headers=USER).json()
    assert completion["usage"] == {"prompt_tokens": 200, "completion_tokens": 40, "total_tokens": 240}
    model.script(*TWO_CALLS)
    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}, headers=USER) as sse:
        chunks = [json.loads(line[5:]) for line in sse.iter_lines() if line.startswith("data:") and "usage" in line]
    assert chunks[-1]["usage"]["total_tokens"] == 240
    model.script(*TWO_CALLS)
    assert_counted(json.loads(cli(settings, model.url, "ask", "describe marts.orders", "--json").stdout)["usage"])


# Rate limits and server errors --------------------------------------------------------------------------


def test_429_is_retried_after_the_wait_the_model_asked_for(agent: LakeAgent, model: ScriptedModel) -> None:
    model.script({"status": 429, "headers": {"Retry-After": "1"}}, {"content": "No table needed."})
    assert agent.ask("hello").answer == "No table needed."
    first, second = model.requests()
    assert second["at"] - first["at"] >= 0.95


def test_lasting_429_is_a_503_with_retry_after(client: TestClient, model: ScriptedModel) -> None:
    model.script({"status": 429, "headers": {"Retry-After": "1"}, "repeat": 2})
    response = client.post("/v1/chat", json={"message": "hello"}, headers=USER)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    error = response.json()["error"]
    assert error["code"] == "model_unavailable"
    assert model.url in error["message"] and "429" in error["message"] and "model.max_retries" in error["message"]
    assert len(model.requests()) == 2  # one try and model.max_retries = 1 retry


def test_lasting_5xx_is_a_503_on_the_openai_route_too(client: TestClient, model: ScriptedModel) -> None:
    body = {"model": "lakescout", "messages": [{"role": "user", "content": "hello"}]}
    for stream in (False, True):
        model.script({"status": 500, "repeat": 2})
        response = client.post("/v1/chat/completions", json={**body, "stream": stream}, headers=USER)
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
        assert "answered 500" in response.json()["error"]["message"]


def test_stream_error_event_names_the_outage(client: TestClient, model: ScriptedModel) -> None:
    model.script({"status": 503, "headers": {"Retry-After": "1"}, "repeat": 2})
    with client.stream("POST", "/v1/chat/stream", json={"message": "hello"}, headers=USER) as sse:
        errors = [json.loads(line[5:]) for line in sse.iter_lines() if line.startswith("data:") and "code" in line]
    assert errors[-1]["code"] == "model_unavailable" and errors[-1]["retry_after"] == 1


def test_a_slow_model_times_out_naming_the_model_and_the_setting(settings: Settings, model: ScriptedModel) -> None:
    slow = LakeAgent.from_settings(scripted_settings(settings, model, timeout_seconds=0.5, max_retries=0))
    model.script({"delay": 3, "content": "late"})
    with pytest.raises(ServiceUnavailable) as raised:
        slow.ask("hello")
    slow.close()
    message = str(raised.value)
    assert raised.value.timeout and "'scripted'" in message and "model.timeout_seconds" in message


# The CLI's one-line errors ------------------------------------------------------------------------------


def cli(settings: Settings, model_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LAKESCOUT_MODEL__NAME": "scripted", "LAKESCOUT_MODEL__BASE_URL": model_url,
                   "LAKESCOUT_MODEL__MAX_RETRIES": "0", **env}  # fmt: skip
    command = [sys.executable, "-m", "lakescout", "--data-dir", str(settings.data_dir), *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=180,
                          cwd=Path(__file__).parent.parent)  # fmt: skip


def assert_one_line(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_cli_says_in_one_line_that_the_model_endpoint_is_down(settings: Settings) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    assert_one_line(cli(settings, nowhere, "ask", "hello"), nowhere, "model.base_url")


def test_cli_says_in_one_line_that_the_model_is_too_slow(settings: Settings, model: ScriptedModel) -> None:
    model.script({"delay": 3, "content": "late"})
    started = time.monotonic()
    result = cli(settings, model.url, "ask", "hello", LAKESCOUT_MODEL__TIMEOUT_SECONDS="0.5")
    assert_one_line(result, "did not answer within 0.5s", "model.timeout_seconds", "'scripted'")
    assert time.monotonic() - started < 60


def test_cli_says_in_one_line_that_chroma_is_down(settings: Settings, model: ScriptedModel) -> None:
    port = str(free_port())
    result = cli(settings, model.url, "ask", "hello", LAKESCOUT_INDEX__CHROMA_HOST="127.0.0.1",
                 LAKESCOUT_INDEX__CHROMA_PORT=port)  # fmt: skip
    assert_one_line(result, f"http://127.0.0.1:{port}", "index.chroma_host")


def test_cli_says_in_one_line_that_postgres_is_down(settings: Settings, model: ScriptedModel) -> None:
    url = f"postgresql://lake:secret@127.0.0.1:{free_port()}/threads"
    result = cli(settings, model.url, "ask", "hello", LAKESCOUT_THREADS_URL=url)
    assert_one_line(result, "threads_url", "127.0.0.1")
    assert "secret" not in result.stderr
