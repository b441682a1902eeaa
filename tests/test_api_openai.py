"""OpenAI conformance against a real uvicorn (``lakescout serve``): the `openai` client and LangChain's
``ChatOpenAI``, stateless history, ``response_format`` (``with_structured_output``) and refused ``tools``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from api_support import USER, USER_KEY, running_server
from catalog_ingest.settings import Settings

DESCRIBE = "describe raw.events"
FOLLOW_UP = "how is it partitioned?"


@pytest.fixture(scope="module")
def server(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with running_server(["--data-dir", str(sample_settings.data_dir), "serve"], log) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=USER_KEY, max_retries=0)


def ask(client: openai.OpenAI, messages: list[dict], **options) -> str:
    completion = client.chat.completions.create(model="lakescout", messages=messages, **options)
    return completion.choices[0].message.content or ""


def test_a_stateless_follow_up_reads_the_messages_history(client: openai.OpenAI, server: str) -> None:
    first = [{"role": "user", "content": DESCRIBE}]
    described = ask(client, first)
    assert "raw.events" in described
    raw = client.chat.completions.with_raw_response.create(
        model="lakescout", messages=[*first, {"role": "assistant", "content": described},
                                     {"role": "user", "content": FOLLOW_UP}],
    )  # fmt: skip
    answer = raw.parse().choices[0].message.content or ""
    assert "raw.events" in answer and "partition" in answer.lower()
    assert "which table" not in answer.lower()
    assert "x-lakescout-thread" not in raw.headers  # nothing was kept on the server
    alone = ask(client, [{"role": "user", "content": FOLLOW_UP}])
    assert "raw.events" not in alone  # the history, not some leftover state, resolved "it"


def test_a_named_thread_still_wins_over_the_messages(client: openai.OpenAI, server: str) -> None:
    ask(client, [{"role": "user", "content": DESCRIBE}], user="conformance-thread")
    answer = ask(client, [{"role": "user", "content": FOLLOW_UP}], user="conformance-thread")
    assert "raw.events" in answer
    assert httpx.get(f"{server}/v1/threads/conformance-thread", headers=USER).status_code == 200


def test_json_object_gives_the_answer_and_its_facts(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "count orders by status"}]
    facts = json.loads(ask(client, messages, response_format={"type": "json_object"}))
    assert facts["answer"] and facts["sql"].lower().startswith("select")
    assert "marts.orders" in facts["tables_cited"] and facts["validation"] is not None
    stream = client.chat.completions.create(model="lakescout", messages=messages, stream=True,
                                            response_format={"type": "json_object"})  # fmt: skip
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert json.loads(streamed)["sql"] == facts["sql"]


def test_unfillable_schemas_and_tools_are_refused_with_400(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "count orders by status"}]
    schema = {"type": "object", "properties": {"answer": {"type": "string"}, "price": {"type": "number"}},
              "required": ["answer", "price"]}  # fmt: skip
    with pytest.raises(openai.BadRequestError) as refused:
        ask(client, messages, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert "price" in refused.value.message and refused.value.code == "unsupported_response_format"
    with pytest.raises(openai.BadRequestError) as refused:
        ask(client, messages, response_format={"type": "xml"})
    assert "xml" in refused.value.message
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    with pytest.raises(openai.BadRequestError) as refused:
        ask(client, messages, tools=[tool])
    assert "MCP" in refused.value.message and refused.value.code == "tools_unsupported"


class TableAnswer(BaseModel):
    """What a LangChain app wants back from lakescout."""

    answer: str
    tables_cited: list[str]
    sql: str | None


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
def test_langchain_with_structured_output(server: str, method: str) -> None:
    chat = ChatOpenAI(model="lakescout", base_url=f"{server}/v1", api_key=USER_KEY, max_retries=0)
    structured = chat.with_structured_output(TableAnswer, method=method)
    result = structured.invoke("count orders by status")
    assert isinstance(result, TableAnswer)
    assert "marts.orders" in result.tables_cited and result.sql and result.answer


def test_langchain_chat_keeps_a_stateless_conversation(server: str) -> None:
    chat = ChatOpenAI(model="lakescout", base_url=f"{server}/v1", api_key=USER_KEY, max_retries=0)
    described = chat.invoke(DESCRIBE)
    follow_up = chat.invoke([("human", DESCRIBE), described, ("human", FOLLOW_UP)])
    assert "raw.events" in follow_up.text and (follow_up.usage_metadata or {}).get("total_tokens", 0) >= 0
    streamed = "".join(chunk.text for chunk in chat.stream([("human", DESCRIBE), described, ("human", FOLLOW_UP)]))
    assert "raw.events" in streamed
