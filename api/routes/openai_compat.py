"""OpenAI-compatible routes: chat completions (whole or streamed chunks) and the model list, over one turn.

A named thread (``X-Lakescout-Thread`` or ``user``) keeps the conversation on the server; without one the
request's own ``messages`` are the history, as for any stateless OpenAI client, and nothing is kept.
``response_format`` is honoured (see ``api.response_format``); ``tools`` are refused: lakescout runs its
own tools, and its MCP server hands them to agents that bring their own loop.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, Header, Request, Response
from sse_starlette import EventSourceResponse

from agent.answers import AgentAnswer, Turn, Usage
from api import schemas
from api.agent_run import AgentRun, run_error, unless_disconnected
from api.auth import Principal
from api.errors import ApiError
from api.lake import Lake
from api.response_format import AnswerFormat
from api.routes import failures, lake_dep, user

MODEL_ID = "lakescout"
TOOLS_REFUSED = (
    "tools: lakescout runs its own tools (catalog search, describe, partitions, SQL validation) and does not "
    "call the client's; to use lakescout's tools in your own agent loop, connect to its MCP server "
    "(`lakescout mcp`, or /mcp on this API)"
)

router = APIRouter(tags=["openai"])


@router.post("/v1/chat/completions", response_model=schemas.ChatCompletion, responses=failures(404, 502, 504))
async def chat_completions(
    body: schemas.CompletionRequest,
    request: Request,
    response: Response,
    principal: Principal = user,
    lake: Lake = lake_dep,
    x_lakescout_thread: str | None = Header(default=None, pattern=r"^[A-Za-z0-9_.:@\-]{1,128}$"),
) -> Any:
    """OpenAI-compatible: the last user message is the question.

    Pass a thread id in ``user`` or the ``X-Lakescout-Thread`` header to keep a conversation on the server;
    the answer's thread id comes back in that header. Either names a thread in the calling key's own space
    (made when new), so the same ``user`` sent with two keys is two conversations. Without one, the user and
    assistant messages before the question are the conversation (system messages are not: lakescout has its
    own), and nothing is kept. ``response_format`` ``json_object`` or ``json_schema`` makes the content JSON
    built from the answer's fields (answer, sql, tables_cited, ...); ``tools`` are refused with 400.
    """
    if body.model != MODEL_ID:
        raise ApiError(404, "model_not_found", f"unknown model '{body.model}'; this server offers '{MODEL_ID}'")
    if body.tools:
        raise ApiError(400, "tools_unsupported", TOOLS_REFUSED)
    answer_format = AnswerFormat(body.response_format)
    question, history = conversation(body.messages)
    thread_id = x_lakescout_thread or body.user
    turn = {"history": history} if thread_id is None else {}
    agent_run = AgentRun(request, lake, question, thread_id, False, principal.thread_owner, **turn)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    headers = {"X-Lakescout-Thread": thread_id} if thread_id else {}

    if not body.stream:
        answer = await unless_disconnected(request, agent_run.answer)
        response.headers.update(headers)
        content = answer_format.render(answer)
        return schemas.ChatCompletion(
            id=completion_id,
            created=created,
            model=MODEL_ID,
            choices=[schemas.CompletionChoice(message=schemas.CompletionChoiceMessage(content=content))],
            usage=completion_usage(answer.usage),
        )

    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, str]:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            **extra,
        }
        return {"data": json.dumps(payload)}

    events = agent_run.events()
    try:
        first = await anext(events, ("error", {"message": "the agent finished without an answer"}))
    except BaseException:  # the client left before the first event: stop the run now
        await events.aclose()
        raise
    if first[0] == "error":  # the model is down, say, before anything was streamed: a proper HTTP error
        await events.aclose()
        raise run_error(first[1])

    async def sse() -> AsyncIterator[dict[str, str]]:
        yield chunk({"role": "assistant", "content": ""})
        streamed = False
        async with aclosing(events):
            async for kind, data in prepend(first, events):
                if kind == "token" and data.get("text") and not answer_format.json:
                    streamed = True
                    yield chunk({"content": data["text"]})
                elif kind == "answer":
                    answer = AgentAnswer.model_validate(data)
                    try:
                        content = None if streamed else answer_format.render(answer)
                    except ApiError as error:
                        yield {"data": json.dumps({"error": {"code": error.code, "message": error.message}})}
                        break
                    if content:
                        yield chunk({"content": content})
                    yield chunk({}, "stop", usage=completion_usage(answer.usage).model_dump())
                elif kind == "error":
                    yield {"data": json.dumps({"error": data})}
        yield {"data": "[DONE]"}

    return EventSourceResponse(sse(), headers=headers)


async def prepend(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    yield first
    async for item in rest:
        yield item


def conversation(messages: list[schemas.CompletionMessage]) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the user and assistant turns with text before it."""
    last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    question = messages[last].text().strip() if last is not None else ""
    if not question:
        raise ApiError(422, "invalid_request", "messages: no user message with text")
    earlier = [(m.role, m.text().strip()) for m in messages[:last] if m.role in ("user", "assistant")]
    return question, [(role, text) for role, text in earlier if text]


def completion_usage(usage: Usage) -> schemas.CompletionUsage:
    return schemas.CompletionUsage(
        prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens, total_tokens=usage.total_tokens
    )


@router.get("/v1/models", response_model=schemas.ModelList, responses=failures())
async def models(_: Any = user) -> schemas.ModelList:
    """What OpenAI-compatible tools list before they chat: the one model, ``lakescout``."""
    return schemas.ModelList(data=[schemas.ModelCard(id=MODEL_ID, created=0)])
