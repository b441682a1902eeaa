"""Chat routes: one question answered whole or as Server-Sent Events, and the threads that keep turns."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from sse_starlette import EventSourceResponse

from api import schemas
from api.agent_run import AgentRun
from api.errors import ApiError
from api.lake import Lake
from api.routes import failures, lake_dep, user

router = APIRouter(tags=["chat"])


@router.post("/v1/chat", response_model=schemas.ChatResponse, responses=failures(504))
async def chat(
    body: schemas.ChatRequest, request: Request, _: Any = user, lake: Lake = lake_dep
) -> schemas.ChatResponse:
    """Ask one question; the answer cites the tables its facts came from."""
    return await AgentRun(request, lake, body.message, body.thread_id, body.run).answer()


@router.post(
    "/v1/chat/stream",
    responses={**failures(), 200: {"content": {"text/event-stream": {}},
                               "description": "Events token, tool_start, tool_end, answer, error, then done."}},
)
async def chat_stream(
    body: schemas.ChatRequest, request: Request, _: Any = user, lake: Lake = lake_dep
) -> EventSourceResponse:
    """The same turn as Server-Sent Events; closing the connection cancels the run."""
    agent_run = AgentRun(request, lake, body.message, body.thread_id, body.run)

    async def sse() -> AsyncIterator[dict[str, str]]:
        async for kind, data in agent_run.events():
            yield {"event": kind, "data": json.dumps(data, default=str)}
        yield {"event": "done", "data": "{}"}

    return EventSourceResponse(sse())


@router.get("/v1/threads/{thread_id}", response_model=schemas.ThreadHistory, responses=failures(404))
async def thread_history(thread_id: schemas.ThreadId, _: Any = user, lake: Lake = lake_dep) -> schemas.ThreadHistory:
    messages = await anyio.to_thread.run_sync(lake.agent.history, thread_id)
    if messages is None:
        raise ApiError(404, "unknown_thread", f"no thread '{thread_id}'")
    return schemas.ThreadHistory.model_validate({"thread_id": thread_id, "messages": messages})


@router.delete("/v1/threads/{thread_id}", status_code=204, responses=failures(404))
async def delete_thread(thread_id: schemas.ThreadId, _: Any = user, lake: Lake = lake_dep) -> Response:
    if not await anyio.to_thread.run_sync(lake.agent.delete_thread, thread_id):
        raise ApiError(404, "unknown_thread", f"no thread '{thread_id}'")
    return Response(status_code=204)
