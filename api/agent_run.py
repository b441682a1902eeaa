"""One agent turn as a stream of (event, data): the single path behind every chat endpoint."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
from fastapi import Request

from api import schemas
from api.errors import ApiError, as_api_error
from api.lake import Lake
from api.metrics import Metrics

log = logging.getLogger("lakescout.api")


class AgentRun:
    """One agent turn, owning what every chat endpoint shares.

    The deadline (``model.timeout_seconds``, enforced only while the agent works, not while a slow client
    reads), error events instead of exceptions, metrics per outcome, and closing the agent's stream when
    the client goes away, which cancels the run.
    """

    def __init__(
        self, request: Request, lake: Lake, question: str, thread_id: str | None, run: bool, **turn: Any
    ) -> None:
        """``turn``: more of the agent's ``astream`` arguments (``history`` for a stateless turn)."""
        self.metrics: Metrics = request.app.state.metrics
        self.model = request.app.state.settings.model
        self.timeout = self.model.timeout_seconds
        self.stream = lake.agent.astream(question, thread_id=thread_id, run=run, **turn)

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
