"""Chat routes: one question answered whole or as Server-Sent Events, and the threads that keep turns.

A thread belongs to the key that made it (``Principal.thread_owner``): every other key gets the 404 an
unknown thread gets, so a thread id reveals nothing. Admin keys list every thread and, naming its
``owner``, read or delete any of them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Query, Request, Response
from sse_starlette import EventSourceResponse

from agent.answers import ThreadInfo
from api import schemas
from api.agent_run import AgentRun, unless_disconnected
from api.auth import Principal
from api.errors import ApiError
from api.lake import Lake
from api.routes import admin, failures, lake_dep, user

router = APIRouter(tags=["chat"])

OWNER = Query(default=None, max_length=256, description="Admin only: the key whose thread it is (GET /v1/threads).")


def unknown_thread(thread_id: str) -> ApiError:
    return ApiError(404, "unknown_thread", f"no thread '{thread_id}'; leave thread_id out to start one")


async def turn_of(request: Request, lake: Lake, body: schemas.ChatRequest, principal: Principal) -> AgentRun:
    """The turn ``body`` asks for; a thread id must name one of the caller's own threads."""
    owner = principal.thread_owner
    if body.thread_id and not await anyio.to_thread.run_sync(lake.agent.has_thread, body.thread_id, owner):
        raise unknown_thread(body.thread_id)
    return AgentRun(request, lake, body.message, body.thread_id, body.run, owner)


@router.post("/v1/chat", response_model=schemas.ChatResponse, responses=failures(404, 502, 504))
async def chat(
    body: schemas.ChatRequest, request: Request, principal: Principal = user, lake: Lake = lake_dep
) -> schemas.ChatResponse:
    """Ask one question; the answer cites the tables its facts came from. A client gone stops the run."""
    agent_run = await turn_of(request, lake, body, principal)
    return await unless_disconnected(request, agent_run.answer)


@router.post(
    "/v1/chat/stream",
    responses={**failures(404), 200: {"content": {"text/event-stream": {}},
                                  "description": "Events token, tool_start, tool_end, answer, error, then done."}},
)
async def chat_stream(
    body: schemas.ChatRequest, request: Request, principal: Principal = user, lake: Lake = lake_dep
) -> EventSourceResponse:
    """The same turn as Server-Sent Events; closing the connection cancels the run."""
    agent_run = await turn_of(request, lake, body, principal)

    async def sse() -> AsyncIterator[dict[str, str]]:
        async for kind, data in agent_run.events():
            yield {"event": kind, "data": json.dumps(data, default=str)}
        yield {"event": "done", "data": "{}"}

    return EventSourceResponse(sse())


def space_of(principal: Principal, owner: str | None) -> str | None:
    """The thread space a request reads: the caller's own, or (admins only) the named owner's."""
    if owner is None:
        return principal.thread_owner
    if not principal.allows("admin"):
        raise ApiError(403, "forbidden", "owner needs an admin key; leave it out to use your own threads")
    return owner


@router.get("/v1/threads", response_model=schemas.ThreadList, responses=failures())
async def threads(_: Principal = admin, lake: Lake = lake_dep) -> schemas.ThreadList:
    """Every key's threads (admin), most recently written first."""
    found: list[ThreadInfo] = await anyio.to_thread.run_sync(lake.agent.threads)
    return schemas.ThreadList(threads=found)


@router.get("/v1/threads/{thread_id}", response_model=schemas.ThreadHistory, responses=failures(404))
async def thread_history(
    thread_id: schemas.ThreadId, owner: str | None = OWNER, principal: Principal = user, lake: Lake = lake_dep
) -> schemas.ThreadHistory:
    messages = await anyio.to_thread.run_sync(lake.agent.history, thread_id, space_of(principal, owner))
    if messages is None:
        raise unknown_thread(thread_id)
    return schemas.ThreadHistory.model_validate({"thread_id": thread_id, "messages": messages})


@router.delete("/v1/threads/{thread_id}", status_code=204, responses=failures(404))
async def delete_thread(
    thread_id: schemas.ThreadId, owner: str | None = OWNER, principal: Principal = user, lake: Lake = lake_dep
) -> Response:
    if not await anyio.to_thread.run_sync(lake.agent.delete_thread, thread_id, space_of(principal, owner)):
        raise unknown_thread(thread_id)
    return Response(status_code=204)
