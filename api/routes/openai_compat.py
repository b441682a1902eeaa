"""OpenAI-compatible routes: chat completions (whole or streamed chunks) and the model list, over one turn."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, Request, Response
from sse_starlette import EventSourceResponse

from agent.service import Usage
from api import schemas
from api.agent_run import AgentRun, unless_disconnected
from api.auth import Principal
from api.errors import ApiError
from api.lake import Lake
from api.routes import failures, lake_dep, user

MODEL_ID = "lakescout"

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
    """OpenAI-compatible: the last user message is the question; earlier turns live in the thread.

    Pass a thread id in ``user`` or the ``X-Lakescout-Thread`` header to keep a conversation; the answer's
    thread id comes back in that header. Either names a thread in the calling key's own space (made when
    new), so the same ``user`` sent with two keys is two conversations.
    """
    if body.model != MODEL_ID:
        raise ApiError(404, "model_not_found", f"unknown model '{body.model}'; this server offers '{MODEL_ID}'")
    question = next((m.text() for m in reversed(body.messages) if m.role == "user"), "").strip()
    if not question:
        raise ApiError(422, "invalid_request", "messages: no user message with text")
    thread_id = x_lakescout_thread or body.user or uuid.uuid4().hex
    agent_run = AgentRun(request, lake, question, thread_id, False, principal.thread_owner)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    headers = {"X-Lakescout-Thread": thread_id}

    if not body.stream:
        answer = await unless_disconnected(request, agent_run.answer)
        response.headers.update(headers)
        return schemas.ChatCompletion(
            id=completion_id,
            created=created,
            model=MODEL_ID,
            choices=[schemas.CompletionChoice(message=schemas.CompletionChoiceMessage(content=answer.answer))],
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

    async def sse() -> AsyncIterator[dict[str, str]]:
        yield chunk({"role": "assistant", "content": ""})
        streamed = False
        async for kind, data in agent_run.events():
            if kind == "token" and data.get("text"):
                streamed = True
                yield chunk({"content": data["text"]})
            elif kind == "answer":
                if not streamed:
                    yield chunk({"content": data["answer"]})
                usage = completion_usage(Usage.model_validate(data["usage"]))
                yield chunk({}, "stop", usage=usage.model_dump())
            elif kind == "error":
                yield {"data": json.dumps({"error": data})}
        yield {"data": "[DONE]"}

    return EventSourceResponse(sse(), headers=headers)


def completion_usage(usage: Usage) -> schemas.CompletionUsage:
    return schemas.CompletionUsage(
        prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens, total_tokens=usage.total_tokens
    )


@router.get("/v1/models", response_model=schemas.ModelList, responses=failures())
async def models(_: Any = user) -> schemas.ModelList:
    """What OpenAI-compatible tools list before they chat: the one model, ``lakescout``."""
    return schemas.ModelList(data=[schemas.ModelCard(id=MODEL_ID, created=0)])
