"""Threads belong to the key that made them: other keys get 404, admins list and delete, auth off is one owner."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from agent.service import LakeAgent
from api.app import create_app
from catalog_ingest.settings import ApiSettings, Settings
from api_support import ADMIN, OTHER, USER, with_api

DESCRIBE = "describe marts.orders"
FOLLOW_UP = "how many rows does it have?"


@pytest.fixture(scope="module")
def client(sample_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(with_api(sample_settings))) as test_client:
        yield test_client


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]["code"]


def started_thread(client: TestClient) -> str:
    response = client.post("/v1/chat", json={"message": DESCRIBE}, headers=USER)
    assert response.status_code == 200, response.text
    return response.json()["thread_id"]


def history(client: TestClient, thread_id: str, headers: dict[str, str], **params: str) -> list[dict]:
    response = client.get(f"/v1/threads/{thread_id}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def test_another_key_gets_404_everywhere_a_thread_is_reached(client: TestClient) -> None:
    thread = started_thread(client)
    before = history(client, thread, USER)
    unknown = client.get("/v1/threads/never-made", headers=OTHER)
    assert (unknown.status_code, error_code(unknown)) == (404, "unknown_thread")

    for response in (
        client.get(f"/v1/threads/{thread}", headers=OTHER),
        client.delete(f"/v1/threads/{thread}", headers=OTHER),
        client.post("/v1/chat", json={"message": FOLLOW_UP, "thread_id": thread}, headers=OTHER),
        client.post("/v1/chat/stream", json={"message": FOLLOW_UP, "thread_id": thread}, headers=OTHER),
    ):
        assert response.status_code == 404, response.text
        assert response.json() == unknown.json() | {"error": {"code": "unknown_thread",
                                                              "message": f"no thread '{thread}'; leave thread_id out to start one"}}  # fmt: skip
    assert history(client, thread, USER) == before  # nothing was read, continued or deleted


def test_openai_user_and_thread_header_stay_in_the_callers_own_space(client: TestClient) -> None:
    thread = started_thread(client)
    before = history(client, thread, USER)
    body = {"model": "lakescout", "messages": [{"role": "user", "content": FOLLOW_UP}]}
    by_user = client.post("/v1/chat/completions", json={**body, "user": thread}, headers=OTHER)
    by_header = client.post("/v1/chat/completions", json=body, headers={**OTHER, "X-Lakescout-Thread": thread})
    assert by_user.status_code == by_header.status_code == 200
    assert by_header.headers["x-lakescout-thread"] == thread
    assert history(client, thread, USER) == before  # the analyst's thread did not grow
    theirs = history(client, thread, OTHER)  # the intruder has a thread of the same name: its own
    assert [t["content"] for t in theirs if t["role"] == "user"] == [FOLLOW_UP, FOLLOW_UP]
    assert DESCRIBE not in json.dumps(theirs)


def test_chat_continues_only_threads_that_exist(client: TestClient) -> None:
    missing = client.post("/v1/chat", json={"message": DESCRIBE, "thread_id": "made-up"}, headers=USER)
    assert (missing.status_code, error_code(missing)) == (404, "unknown_thread")
    thread = started_thread(client)
    again = client.post("/v1/chat", json={"message": FOLLOW_UP, "thread_id": thread}, headers=USER)
    assert again.status_code == 200 and again.json()["thread_id"] == thread


def test_admins_list_read_and_delete_any_thread(client: TestClient) -> None:
    thread = started_thread(client)
    listed = client.get("/v1/threads", headers=ADMIN)
    assert listed.status_code == 200, listed.text
    mine = [t for t in listed.json()["threads"] if t["thread_id"] == thread]
    assert [t["owner"] for t in mine] == ["analyst"] and mine[0]["updated_at"]
    assert error_code(client.get("/v1/threads", headers=USER)) == "forbidden"
    assert error_code(client.get(f"/v1/threads/{thread}", headers=OTHER, params={"owner": "analyst"})) == "forbidden"
    assert client.get(f"/v1/threads/{thread}", headers=ADMIN).status_code == 404  # not in the admin's own space

    assert history(client, thread, ADMIN, owner="analyst") == history(client, thread, USER)
    assert client.delete(f"/v1/threads/{thread}", headers=ADMIN, params={"owner": "analyst"}).status_code == 204
    assert error_code(client.get(f"/v1/threads/{thread}", headers=USER)) == "unknown_thread"
    assert thread not in {t["thread_id"] for t in client.get("/v1/threads", headers=ADMIN).json()["threads"]}


def test_with_auth_off_everything_is_one_owner(sample_settings: Settings) -> None:
    local = sample_settings.model_copy(update={"api": ApiSettings(auth_enabled=False)})
    with TestClient(create_app(local)) as open_client:
        thread = open_client.post("/v1/chat", json={"message": DESCRIBE}).json()["thread_id"]
        listed = {t["thread_id"]: t["owner"] for t in open_client.get("/v1/threads").json()["threads"]}
        assert listed[thread] is None
        cli = LakeAgent.from_settings(local)  # the CLI's agent: no owner, the same space
        try:
            assert [t["role"] for t in cli.history(thread)] == ["user", "assistant"]
        finally:
            cli.close()
        assert open_client.delete(f"/v1/threads/{thread}").status_code == 204


def test_a_turn_stopped_while_its_tools_ran_is_settled_before_the_next(sample_settings: Settings) -> None:
    agent = LakeAgent.from_settings(sample_settings)
    graph, config = agent._sync_graph(), agent._config("stopped", "analyst")
    try:
        call = {"name": "describe_table", "args": {"table": "marts.orders"}, "id": "call-cut-short"}
        # what a turn killed while describe_table ran leaves saved: the model's tool call, no result
        graph.update_state(config, {"messages": [HumanMessage(DESCRIBE), AIMessage("", tool_calls=[call])]},
                           as_node="agent")  # fmt: skip
        events = list(agent.stream("what is marts.orders partitioned by?", thread_id="stopped", owner="analyst"))
        assert events[-1].type == "answer"
        messages = graph.get_state(config).values["messages"]
        calls = {c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
        results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
        assert "call-cut-short" in calls and calls <= set(results)
        assert results["call-cut-short"].status == "error" and "stopped" in results["call-cut-short"].text
        assert agent.history("stopped") is None  # the local space has no such thread
    finally:
        agent.delete_thread("stopped", owner="analyst")
        agent.close()
