"""One agent turn as a stream of (event, data): the single path behind every chat endpoint.

Streamed answers stop when the client goes (sse-starlette cancels the generator); ``unless_disconnected``
does the same for whole answers, which Starlette would otherwise compute for a client long gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import anyio
from fastapi import Request

from api import schemas
from api.errors import ApiError, as_api_error
from api.lake import Lake
from api.metrics import Metrics

log = logging.getLogger("lakescout.api")

T = TypeVar("T")


async def unless_disconnected(request: Request, work: Callable[[], Awaitable[T]]) -> T:
    """``work()``, cancelled as soon as the client disconnects (its request body has been read by then).

    The cancellation reaches the agent run (``AgentRun.events`` closes its stream, which stops the turn at
    its next event) or whatever ``work`` awaits; the client is gone, so nothing is sent.
    """
    done: list[T] = []
    failed: list[Exception] = []
    async with anyio.create_task_group() as group:

        async def run() -> None:
            try:
                done.append(await work())
            except Exception as exc:  # raised below, outside the task group (which would wrap it)
                failed.append(exc)
            group.cancel_scope.cancel()

        async def watch() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            log.info("client disconnected; request cancelled")
            group.cancel_scope.cancel()

        group.start_soon(run)
        group.start_soon(watch)
    if failed:
        raise failed[0]
    if not done:
        raise ApiError(499, "client_closed", "the client closed the connection")
    return done[0]


class AgentRun:
    """One agent turn, owning what every chat endpoint shares.

    The deadline (``model.timeout_seconds``, enforced only while the agent works, not while a slow client
    reads), error events instead of exceptions, metrics per outcome, and closing the agent's stream when
    the client goes away, which cancels the run.
    """

    def __init__(
        self,
        request: Request,
        lake: Lake,
        question: str,
        thread_id: str | None,
        run: bool,
        owner: str | None,
        **turn: Any,
    ) -> None:
        """``owner``: whose thread space ``thread_id`` is in (``Principal.thread_owner``); ``turn``: more of
        the agent's ``astream`` arguments (``history`` for a stateless turn)."""
        self.metrics: Metrics = request.app.state.metrics
        self.model = request.app.state.settings.model
        self.timeout = self.model.timeout_seconds
        self.stream = lake.agent.astream(question, thread_id=thread_id, run=run, owner=owner, **turn)

    async def events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        outcome = "cancelled"
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        event = await anext(self.stream)
                except StopAsyncIteration:
                    break
                if event.type == "answer":
                    self.metrics.observe_answer(schemas.ChatResponse.model_validate(event.data))
                    outcome = "answered"
                elif event.type == "error":
                    outcome = "error"
                    event.data = {"code": "agent_error", **event.data}
                yield event.type, event.data
        except TimeoutError:
            outcome = "timeout"
            message = (f"the agent (model '{self.model.name}') did not finish within {self.timeout:g}s "
                       "(model.timeout_seconds, LAKESCOUT_MODEL__TIMEOUT_SECONDS)")  # fmt: skip
            yield "error", {"code": "timeout", "message": message}
        except Exception as exc:
            error = as_api_error(exc)
            if error is None:
                log.exception("agent run failed")
                error = ApiError(500, "internal", "the agent failed; the server log has details")
            outcome = error.code
            yield "error", {"code": error.code, "message": error.message}
        finally:
            self.metrics.chat_runs.labels(outcome).inc()
            with anyio.CancelScope(shield=True):
                await self.stream.aclose()

    async def answer(self) -> schemas.ChatResponse:
        """The whole turn at once; an error event becomes the matching HTTP error."""
        async with aclosing(self.events()) as events:
            async for kind, data in events:
                if kind == "answer":
                    return schemas.ChatResponse.model_validate(data)
                if kind == "error":
                    raise run_error(data)
        raise ApiError(502, "agent_error", "the agent finished without an answer")


def run_error(data: dict[str, Any]) -> ApiError:
    """The HTTP error an agent's error event stands for: 503 with ``Retry-After`` for a model outage."""
    code = data.get("code", "agent_error")
    status = {"timeout": 504, "internal": 500, "model_unavailable": 503}.get(code, 502)
    wait = {"Retry-After": str(data["retry_after"])} if data.get("retry_after") else None
    return ApiError(status, code, data.get("message", "the agent failed"), wait)
