"""Feedback on answers: a thumbs up or down on one answer of the caller's thread, with corrected SQL if any.

The rated answer is found by its ``message_id`` (every answer carries one) in the caller's own thread, so
the question and its SQL come from the server's record, not the client. Feedback is stored at once. When it
brings SQL (the answer's own on a thumbs up, or a correction), it also proposes a verified pair: pending until
an admin approves it (``POST /v1/verified/{id}/approve``), verified at once from an admin key or when
``api.user_feedback_verified`` is set. Corrected SQL that fails the SQL gate is refused (422) and nothing is
stored.
"""

from __future__ import annotations

from typing import Literal

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from agent.verified_view import PairRefused, answered_turn, lake_embedder, new_pair, verified_store
from api.auth import Principal
from api.errors import ApiError
from api.lake import Lake
from api.routes import failures, lake_dep, user
from api.routes.verified import sql_refused, verified_at_once
from api.schemas import Strict, ThreadId
from catalog_ingest.verified import Feedback, VerifiedQuery, new_id, now


class FeedbackRequest(Strict):
    thread_id: ThreadId
    message_id: str = Field(min_length=1, max_length=256, description="The rated answer's `message_id`.",
                            examples=["run-7d0c1b5e-0a9f-4c1e-9b57-2f4f1d3e8a61-0"])  # fmt: skip
    rating: Literal["up", "down"]
    corrected_sql: str | None = Field(
        None, min_length=1, max_length=50_000, description="The SQL the answer should have given.",
        examples=["SELECT region, SUM(amount) AS refunded FROM finance.refunds GROUP BY region"],
    )  # fmt: skip
    note: str | None = Field(None, max_length=2_000, examples=["amount, not a row count"])


class FeedbackResponse(BaseModel):
    feedback: Feedback
    verified: VerifiedQuery | None = Field(
        description="The question->SQL pair this feedback proposed (status pending or verified); null without SQL."
    )


router = APIRouter(tags=["verified"])


@router.post("/v1/feedback", status_code=201, response_model=FeedbackResponse, responses=failures(404))
async def post_feedback(
    body: FeedbackRequest, request: Request, principal: Principal = user, lake: Lake = lake_dep
) -> FeedbackResponse:
    """Rate an answer (up/down), optionally with corrected SQL and a note; proposes a verified query."""

    def work() -> FeedbackResponse:
        messages = lake.agent.thread_messages(body.thread_id, principal.thread_owner)
        turn = answered_turn(messages or [], body.message_id)
        if turn is None:
            raise ApiError(404, "unknown_message", f"no answer '{body.message_id}' in your thread '{body.thread_id}'; "
                           "send the thread_id and message_id of an answer you received")  # fmt: skip
        question, answered_sql = turn
        sql = body.corrected_sql or (answered_sql if body.rating == "up" else None)
        proposal = None
        if sql:
            try:
                proposal = new_pair(lake.context, question, sql, principal.name, verified=verified_at_once(principal, request))
            except PairRefused as refused:
                raise sql_refused(refused) from None
        feedback = Feedback(id=new_id("fb"), thread_id=body.thread_id, message_id=body.message_id, rating=body.rating,
                            question=question, sql=answered_sql, corrected_sql=body.corrected_sql, note=body.note,
                            author=principal.name, created_at=now())  # fmt: skip
        store = verified_store(lake.context.settings.data_dir)
        store.record_feedback(feedback, proposal, lake_embedder(lake.context))
        return FeedbackResponse(feedback=feedback, verified=proposal)

    return await anyio.to_thread.run_sync(work)
