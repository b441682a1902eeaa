"""The API in process: httpx against the ASGI app, over the ingested sample lake and the offline agent."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import KeyRing, hash_api_key
from api.lake import Lake
from api.ratelimit import RateLimiter
from api.server import app_from_environment, run_server
from catalog_ingest.settings import ApiSettings, ConfigError, Settings
from api_support import ADMIN, USER, SlowAgent, with_api

QUESTION = "which table has refunds by region?"


@pytest.fixture(scope="module")
def settings(sample_settings: Settings) -> Settings:
    return with_api(sample_settings)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """httpx over the ASGI app, with its lifespan run (which loads the lake)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lakescout") as async_client:
            yield async_client


def slow_app(settings: Settings, delay: float) -> tuple[FastAPI, SlowAgent]:
    from agent.service import LakeAgent

    agent = SlowAgent(LakeAgent.from_settings(settings), delay)
    return create_app(settings, agent=agent), agent


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def sse_events(lines: Iterator[str]) -> list[tuple[str, dict]]:
    events, kind = [], None
    for line in lines:
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((kind, json.loads(line.split(":", 1)[1])))
    return events


# Operations ---------------------------------------------------------------------------------------------


def test_healthz_needs_no_key_and_every_response_has_a_request_id(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\t!"}).headers["x-request-id"] != "bad id\t!"


def test_readyz_when_index_loaded_and_catalog_reachable(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks.pop("search").startswith("exact: ")  # reported beside the checks, never a reason for 503
    assert checks == {"index": "ok", "catalog": "ok"}


def test_without_an_index_data_endpoints_answer_503_with_the_ingest_hint(tmp_path) -> None:
    empty = with_api(Settings(data_dir=tmp_path))
    with TestClient(create_app(empty)) as fresh:
        error = assert_error(fresh.get("/v1/search", params={"q": "orders"}, headers=USER), 503, "no_index")
        assert "lakescout ingest" in error["message"]
        assert_error(fresh.post("/v1/chat", json={"message": "hi"}, headers=USER), 503, "no_index")
        ready = fresh.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "not_ready"
        assert "lakescout ingest" in ready.json()["checks"]["index"]
        assert str(tmp_path) not in ready.text  # readyz is public: no paths, only the log has details


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    expected = {
        "/v1/chat", "/v1/chat/stream", "/v1/chat/completions", "/v1/models", "/v1/threads/{thread_id}",
        "/v1/search", "/v1/tables", "/v1/tables/{name}", "/v1/sql/validate", "/v1/sql/run", "/v1/ingest",
        "/v1/ingest/{job_id}", "/healthz", "/readyz", "/metrics",
    }
    assert expected <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_metrics_count_requests_by_route_template_and_agent_work(client: TestClient) -> None:
    client.get("/v1/tables/finance.refunds", headers=USER)
    client.post("/v1/chat", json={"message": QUESTION}, headers=USER)
    text = client.get("/metrics", headers=USER).text
    assert 'lakescout_http_requests_total{method="GET",route="/v1/tables/{name}",status="200"}' in text
    assert "finance.refunds" not in text
    assert 'lakescout_chat_runs_total{outcome="answered"}' in text
    assert 'lakescout_tool_calls_total{tool="search_tables"}' in text
    assert "lakescout_model_tokens_total" in text
    assert "lakescout_http_request_duration_seconds_bucket" in text


# Auth, limits, errors -----------------------------------------------------------------------------------


def test_api_keys_are_checked_and_scopes_enforced(client: TestClient) -> None:
    missing = client.get("/v1/tables")
    assert_error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert_error(client.get("/v1/tables", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    assert_error(client.get("/v1/tables", headers={"Authorization": "Basic dXNlcg=="}), 401, "unauthorized")
    assert client.get("/v1/tables", headers=USER).status_code == 200
    assert_error(client.post("/v1/ingest", headers=USER), 403, "forbidden")
    assert_error(client.get("/v1/ingest/whatever", headers=USER), 403, "forbidden")
    assert_error(client.get("/v1/ingest/whatever", headers=ADMIN), 404, "unknown_job")


def test_hash_api_key_is_the_sha256_hex_the_config_holds() -> None:
    assert hash_api_key("secret") == hashlib.sha256(b"secret").hexdigest()
    ring = KeyRing(ApiSettings(api_keys={"me": f"ADMIN:{hash_api_key('secret').upper()}"}))
    principal = ring.authenticate("secret")
    assert principal is not None and principal.name == "me" and principal.allows("admin")
    assert ring.authenticate("secret ") is None


def test_auth_on_without_keys_refuses_to_start_and_says_how_to_make_a_key(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="api.api_keys table"):
        create_app(settings)
    with pytest.raises(ConfigError, match="AUTH_ENABLED=false"):
        run_server(settings)  # before binding any port
    with pytest.raises(ConfigError, match="api.api_keys.bad"):
        KeyRing(ApiSettings(api_keys={"bad": "root:1234"}))


def test_auth_can_be_turned_off_only_by_the_setting(sample_settings: Settings) -> None:
    local = sample_settings.model_copy(update={"api": ApiSettings(auth_enabled=False)})
    with TestClient(create_app(local)) as open_client:
        assert open_client.get("/v1/tables").status_code == 200
        assert open_client.get("/metrics").status_code == 200


def test_rate_limit_per_key_answers_429_with_retry_after(sample_settings: Settings) -> None:
    with TestClient(create_app(with_api(sample_settings, rate_limit_per_minute=2))) as limited:
        assert [limited.get("/v1/tables", headers=USER).status_code for _ in range(2)] == [200, 200]
        refused = limited.get("/v1/tables", headers=USER)
        assert_error(refused, 429, "rate_limited")
        assert int(refused.headers["retry-after"]) >= 1
        assert limited.get("/v1/tables", headers=ADMIN).status_code == 200  # another key, another bucket
        assert limited.get("/healthz").status_code == 200


def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.acquire("k") == 0 for _ in range(60))
    assert limiter.acquire("k") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.acquire("k") == 0
    assert limiter.acquire("other") == 0


def test_request_bodies_over_the_limit_get_413(client: TestClient, settings: Settings) -> None:
    big = "x" * (settings.api.max_body_bytes + 1)
    assert_error(client.post("/v1/chat", json={"message": big}, headers=USER), 413, "payload_too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"message": "'
        yield b"y" * settings.api.max_body_bytes
        yield b'"}'

    assert_error(client.post("/v1/sql/validate", content=chunked(), headers=USER), 413, "payload_too_large")


def test_cors_allows_only_configured_origins(sample_settings: Settings) -> None:
    settings = with_api(sample_settings, cors_origins=["http://allowed.example"])
    with TestClient(create_app(settings)) as cors_client:
        allowed = cors_client.get("/healthz", headers={"Origin": "http://allowed.example"})
        assert allowed.headers["access-control-allow-origin"] == "http://allowed.example"
        other = cors_client.get("/healthz", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = cors_client.options(
            "/v1/chat",
            headers={"Origin": "http://allowed.example", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization,content-type"},
        )
        assert preflight.status_code == 200


def test_bad_input_is_a_422_with_a_readable_message(client: TestClient) -> None:
    error = assert_error(client.post("/v1/chat", json={"message": ""}, headers=USER), 422, "invalid_request")
    assert "message" in error["message"]
    assert_error(client.post("/v1/chat", content=b"{not json", headers={**USER, "Content-Type": "application/json"}),
                 422, "invalid_request")
    assert_error(client.get("/v1/search", params={"q": "x", "k": 0}, headers=USER), 422, "invalid_request")
    assert_error(client.get("/v1/threads/bad id!", headers=USER), 422, "invalid_request")
    assert_error(client.get("/no/such/path"), 404, "not_found")
    assert_error(client.delete("/v1/tables"), 405, "method_not_allowed")


def test_unexpected_failures_hide_details(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as failing:
        def explode(*args, **kwargs):
            raise RuntimeError("password=hunter2 at /secret/path")

        monkeypatch.setattr(failing.app.state.lake.context.retriever, "search", explode)
        response = failing.get("/v1/search", params={"q": "orders"}, headers=USER)
        error = assert_error(response, 500, "internal")
        assert "hunter2" not in response.text and "Traceback" not in response.text
        assert "request" in error["message"]


# Catalog ------------------------------------------------------------------------------------------------


def test_search_returns_ranked_tables_with_matched_columns(client: TestClient) -> None:
    response = client.get("/v1/search", params={"q": "refunds by region", "k": 3}, headers=USER)
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "refunds by region" and 1 <= len(body["hits"]) <= 3
    first = body["hits"][0]
    assert {"key", "full_name", "catalog", "namespace", "score", "matched_columns"} <= set(first)
    scores = [hit["score"] for hit in body["hits"]]
    assert scores == sorted(scores, reverse=True)
    namespace = first["namespace"]
    only = client.get("/v1/search", params={"q": "orders", "namespace": namespace}, headers=USER).json()
    assert {hit["namespace"] for hit in only["hits"]} == {namespace}


def test_tables_list_and_one_stored_record(client: TestClient) -> None:
    tables = client.get("/v1/tables", headers=USER).json()["tables"]
    assert tables and set(tables[0]) == {"name", "namespace", "catalog", "kind", "comment"}
    name = tables[0]["name"]
    record = client.get(f"/v1/tables/{name}", headers=USER).json()
    assert f"{record['namespace']}.{record['name']}" == name and record["columns"]
    namespace = tables[0]["namespace"]
    filtered = client.get("/v1/tables", params={"namespace": namespace}, headers=USER).json()["tables"]
    assert filtered and {t["namespace"] for t in filtered} == {namespace}
    error = assert_error(client.get("/v1/tables/nowhere.nothing", headers=USER), 404, "unknown_table")
    assert "nowhere.nothing" in error["message"]


# SQL ----------------------------------------------------------------------------------------------------


def a_table_and_column(client: TestClient) -> tuple[str, str]:
    name = client.get("/v1/tables", headers=USER).json()["tables"][0]["name"]
    record = client.get(f"/v1/tables/{name}", headers=USER).json()
    return name, next(c["path"] for c in record["columns"] if "." not in c["path"] and not c["pii"])


def test_sql_validate_reports_errors_warnings_and_an_estimate(client: TestClient) -> None:
    name, column = a_table_and_column(client)
    good = client.post("/v1/sql/validate", json={"sql": f"SELECT {column} FROM {name}"}, headers=USER).json()
    assert good["ok"] is True and good["errors"] == [] and good["tables"] == [name]
    assert good["scan_estimate"] is not None
    typo = client.post("/v1/sql/validate", json={"sql": f"SELECT 1 FROM {name}x"}, headers=USER).json()
    assert typo["ok"] is False and name in typo["errors"][0]["message"]
    assert typo["errors"][0] == {"code": "unknown_table", "message": typo["errors"][0]["message"],
                                 "identifier": f"{name}x", "suggestions": [name], "line": 1, "column": 15}  # fmt: skip
    unsafe = client.post("/v1/sql/validate", json={"sql": f"DROP TABLE {name}"}, headers=USER).json()
    assert unsafe["ok"] is False and unsafe["errors"][0]["code"] == "unsafe_sql"
    broken = client.post("/v1/sql/validate", json={"sql": "SELECT *\nFROM\n  WHERE"}, headers=USER).json()
    assert broken["errors"][0]["code"] == "parse_error" and broken["errors"][0]["line"] == 3


def test_sql_validate_locates_unknown_columns_for_editors(client: TestClient) -> None:
    name, column = a_table_and_column(client)
    typo = column[:-1] + ("x" if column[-1] != "x" else "y")
    sql = f"SELECT\n  {column},\n  {typo}\nFROM {name}"
    body = client.post("/v1/sql/validate", json={"sql": sql}, headers=USER).json()
    assert body["ok"] is False and body["scan_estimate"] is None
    [error] = body["errors"]
    assert set(error) == {"code", "message", "identifier", "suggestions", "line", "column"}
    assert (error["code"], error["identifier"], error["line"], error["column"]) == ("unknown_column", typo, 3, 3)
    assert error["suggestions"][0] == column and typo in error["message"]


def test_sql_run_returns_capped_rows_and_refuses_unsafe_sql(client: TestClient) -> None:
    name, column = a_table_and_column(client)
    result = client.post("/v1/sql/run", json={"sql": f"SELECT {column} FROM {name}", "limit": 2}, headers=USER)
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["columns"] == [column] and len(body["rows"]) <= 2 and isinstance(body["masked_columns"], list)
    unsafe = client.post("/v1/sql/run", json={"sql": f"DELETE FROM {name}"}, headers=USER)
    assert assert_error(unsafe, 422, "unsafe_sql")["message"]
    assert_error(client.post("/v1/sql/run", json={"sql": "SELECT nope FROM (SELECT 1 AS x)"}, headers=USER),
                 422, "sql_error")


def test_sql_run_masks_pii_columns(client: TestClient) -> None:
    tables = client.get("/v1/tables", headers=USER).json()["tables"]
    for table in tables:
        record = client.get(f"/v1/tables/{table['name']}", headers=USER).json()
        pii = [c["path"] for c in record["columns"] if c["pii"] and "." not in c["path"]]
        if pii:
            body = client.post("/v1/sql/run", json={"sql": f"SELECT {pii[0]} FROM {table['name']}", "limit": 3},
                               headers=USER).json()
            assert body["masked_columns"] == [pii[0]]
            assert body["rows"] and all(row[0] in ("***", None) for row in body["rows"])
            return
    pytest.fail("the sample lake has no PII column to mask")


# Chat ---------------------------------------------------------------------------------------------------


def test_chat_answers_with_citations_and_keeps_the_thread(client: TestClient) -> None:
    response = client.post("/v1/chat", json={"message": QUESTION}, headers=USER)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answer"] and body["tables_cited"] and body["tool_calls"]
    assert {"name", "args", "summary"} <= set(body["tool_calls"][0])
    assert set(body["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    thread = body["thread_id"]
    follow_up = client.post("/v1/chat", json={"message": "and its partitions?", "thread_id": thread}, headers=USER)
    assert follow_up.json()["thread_id"] == thread
    history = client.get(f"/v1/threads/{thread}", headers=USER).json()
    assert history["thread_id"] == thread and len(history["messages"]) >= 4
    assert client.delete(f"/v1/threads/{thread}", headers=USER).status_code == 204
    assert_error(client.get(f"/v1/threads/{thread}", headers=USER), 404, "unknown_thread")
    assert_error(client.delete(f"/v1/threads/{thread}", headers=USER), 404, "unknown_thread")


def test_chat_stream_sends_tool_events_the_answer_then_done(client: TestClient) -> None:
    with client.stream("POST", "/v1/chat/stream", json={"message": QUESTION}, headers=USER) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.iter_lines())
    kinds = [kind for kind, _ in events]
    assert kinds[-2:] == ["answer", "done"] and "tool_start" in kinds and "tool_end" in kinds
    start = next(data for kind, data in events if kind == "tool_start")
    end = next(data for kind, data in events if kind == "tool_end")
    assert {"name", "args"} <= set(start) and {"name", "summary"} <= set(end)
    for kind, data in events:
        if kind == "token":
            assert isinstance(data["text"], str)
    answer = events[-2][1]
    assert answer["answer"] and answer["thread_id"] and "tool_calls" in answer


def test_chat_completions_is_openai_compatible(client: TestClient) -> None:
    body = {"model": "lakescout", "messages": [{"role": "system", "content": "be brief"},
                                               {"role": "user", "content": [{"type": "text", "text": QUESTION}]}]}
    response = client.post("/v1/chat/completions", json=body, headers={**USER, "X-Lakescout-Thread": "ide-1"})
    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["object"] == "chat.completion" and completion["model"] == "lakescout"
    assert completion["choices"][0]["message"]["role"] == "assistant"
    assert completion["choices"][0]["message"]["content"]
    assert response.headers["x-lakescout-thread"] == "ide-1"
    assert client.get("/v1/threads/ide-1", headers=USER).status_code == 200
    assert_error(client.post("/v1/chat/completions", json={**body, "model": "gpt-4"}, headers=USER),
                 404, "model_not_found")
    only_system = {"model": "lakescout", "messages": [{"role": "system", "content": "hi"}]}
    assert_error(client.post("/v1/chat/completions", json=only_system, headers=USER), 422, "invalid_request")
    assert client.get("/v1/models", headers=USER).json()["data"][0]["id"] == "lakescout"


def test_chat_completions_stream_sends_chunks_then_done(client: TestClient) -> None:
    body = {"model": "lakescout", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with client.stream("POST", "/v1/chat/completions", json=body, headers=USER) as response:
        data = [line[5:].strip() for line in response.iter_lines() if line.startswith("data:")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)


@pytest.mark.anyio
async def test_model_timeout_is_a_504_and_an_error_event(settings: Settings) -> None:
    quick = settings.model_copy(update={"model": settings.model.model_copy(update={"timeout_seconds": 0.3})})
    app, agent = slow_app(quick, delay=1.0)
    async with serving(app) as http:
        response = await http.post("/v1/chat", json={"message": QUESTION}, headers=USER)
        assert_error(response, 504, "timeout")
        async with http.stream("POST", "/v1/chat/stream", json={"message": QUESTION}, headers=USER) as stream:
            events = sse_events([line async for line in stream.aiter_lines()])
        assert events[-2] == ("error", {"code": "timeout", "message": events[-2][1]["message"]})
        assert events[-1] == ("done", {})
        assert 'lakescout_chat_runs_total{outcome="timeout"} 2.0' in (await http.get("/metrics", headers=USER)).text
    assert agent.outcomes == ["cancelled", "cancelled"]


@pytest.mark.anyio
async def test_slow_chats_overlap_and_never_block_healthz(settings: Settings) -> None:
    """Ordering, not timing: four slow turns are in progress at once, and /healthz answers while they are."""
    app, agent = slow_app(settings, delay=0.2)
    async with serving(app) as http:
        chats = [asyncio.create_task(http.post("/v1/chat", json={"message": QUESTION}, headers=USER)) for _ in range(4)]
        while agent.running < 4 and not any(chat.done() for chat in chats):
            await asyncio.sleep(0.01)
        assert (await http.get("/healthz")).status_code == 200
        pending_when_healthy = sum(not chat.done() for chat in chats)
        responses = await asyncio.gather(*chats)
    assert all(r.status_code == 200 for r in responses)
    assert agent.peak == 4  # all four turns ran at the same time, none waited for another
    assert pending_when_healthy == 4  # answered between the chats' steps, not after them


# Ingest -------------------------------------------------------------------------------------------------


@pytest.fixture
def own_lake(settings: Settings, tmp_path) -> Settings:
    """A copy of the sample data directory: an ingest job may rewrite it."""
    shutil.copytree(settings.data_dir, tmp_path / "data")
    return settings.model_copy(update={"data_dir": tmp_path / "data"})


def test_ingest_job_runs_in_background_and_swaps_in_new_data(own_lake: Settings) -> None:
    with TestClient(create_app(own_lake)) as admin_client:
        before: Lake = admin_client.app.state.lake
        started = admin_client.post("/v1/ingest", json={"full": True}, headers=ADMIN)
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["status"] == "running" and job["full"] is True
        assert_error(admin_client.post("/v1/ingest", headers=ADMIN), 409, "ingest_running")
        while_running = admin_client.post("/v1/chat", json={"message": QUESTION}, headers=USER)
        assert while_running.status_code == 200  # served from the data in place
        deadline = time.monotonic() + 300
        while (status := admin_client.get(f"/v1/ingest/{job['job']}", headers=ADMIN).json())["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert status["status"] == "succeeded", status
        assert status["done"] == status["total"] > 0 and status["finished_at"]
        assert sum(status["counts"].values()) == status["total"]
        assert admin_client.app.state.lake is not before
        assert admin_client.get("/v1/search", params={"q": "orders"}, headers=USER).json()["hits"]
        again = admin_client.post("/v1/ingest", headers=ADMIN)
        assert again.status_code == 202


def wait_for_job(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + 300
    while (status := client.get(f"/v1/ingest/{job_id}", headers=ADMIN).json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return status


def test_ingest_swap_closes_the_old_lake_once_requests_in_flight_finish(
    own_lake: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    with TestClient(create_app(own_lake)) as admin_client:
        before: Lake = admin_client.app.state.lake
        name, column = a_table_and_column(admin_client)
        sql = {"sql": f"SELECT {column} FROM {name}", "limit": 1}
        assert admin_client.post("/v1/sql/run", json=sql, headers=USER).status_code == 200  # opens the SQL engine

        searching, go_on = threading.Event(), threading.Event()
        real_search = before.context.retriever.search

        def search_after_the_swap(*args, **kwargs):
            searching.set()
            assert go_on.wait(timeout=300)
            return real_search(*args, **kwargs)

        monkeypatch.setattr(before.context.retriever, "search", search_after_the_swap)
        with ThreadPoolExecutor(max_workers=1) as pool:
            in_flight = pool.submit(admin_client.get, "/v1/search", params={"q": "orders"}, headers=USER)
            assert searching.wait(timeout=60)
            job = admin_client.post("/v1/ingest", headers=ADMIN).json()
            assert wait_for_job(admin_client, job["job"])["status"] == "succeeded"
            assert admin_client.app.state.lake is not before
            assert admin_client.post("/v1/sql/run", json=sql, headers=USER).status_code == 200  # the new Lake
            go_on.set()
            response = in_flight.result(timeout=120)
        assert response.status_code == 200 and response.json()["hits"]  # finished on the old Lake, still open

        with pytest.raises(RuntimeError, match="closed"):
            real_search("orders")  # the old Chroma client is closed
        with pytest.raises(duckdb.ConnectionException):
            before.context.engine().run(sql["sql"], 1)  # and so is the old SQL engine
        assert admin_client.get("/v1/search", params={"q": "orders"}, headers=USER).json()["hits"]


def test_ingest_refused_while_another_process_ingests(own_lake: Settings) -> None:
    from catalog_ingest.ingest import ingest_lock

    with TestClient(create_app(own_lake)) as admin_client, ingest_lock(own_lake.data_dir):
        assert_error(admin_client.post("/v1/ingest", headers=ADMIN), 409, "ingest_running")


def test_workers_rebuild_settings_from_the_environment(own_lake: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKESCOUT_DATA_DIR", str(own_lake.data_dir))
    monkeypatch.setenv("LAKESCOUT_API__API_KEYS", json.dumps(own_lake.api.api_keys))
    app = app_from_environment()
    assert app.state.settings.data_dir == own_lake.data_dir


def test_a_loaded_lake_is_left_out_of_collections_until_a_replacement_collects_it() -> None:
    import gc
    import weakref

    from api.lake import keep_out_of_collections

    class Node:
        pass

    held = Node()
    held.itself = held  # a cycle: only the cyclic collector frees it
    gone = weakref.ref(held)
    keep_out_of_collections(lake_replaced=False)
    assert gc.get_freeze_count() > 0
    del held
    gc.collect()
    assert gone() is not None  # frozen: full passes skip it (what a serving process wants for its indexes)
    keep_out_of_collections(lake_replaced=True)
    assert gone() is None  # a replaced Lake's cycles are collected before the new heap is frozen
    gc.unfreeze()
