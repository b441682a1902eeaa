"""Verified-query routes: teach a question->SQL pair, list them (stale ones with the fix to make), approve, delete.

A pair's SQL passes the one SQL gate and the validator against the served catalog or is refused (422
``sql_refused`` with the validator's message; nothing is stored). Pairs from admin keys are verified at
once; those from user keys wait for an admin's approval unless ``api.user_feedback_verified`` is set.
Listing first re-validates the pairs an ingest marked drifted, so ``?stale=true`` is current; it also lists
the semantic-layer entries a schema change broke (``semantic_entries``), beside the stale pairs.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from agent.verified_view import PairRefused, approve, lake_embedder, new_pair, settle_drifted, verified_store
from api.auth import Principal
from api.errors import ApiError
from api.lake import Lake
from api.routes import admin, failures, lake_dep, user
from api.schemas import Strict
from catalog_ingest.semantic_drift import StaleSemanticEntry, stale_entries
from catalog_ingest.verified import Status, VerifiedQuery

router = APIRouter(tags=["verified"])

QueryId = Annotated[str, Path(pattern=r"^vq_[0-9a-f]{1,64}$", description="A verified query's id.", examples=["vq_3f9a1c2b7d"])]


class TeachRequest(Strict):
    question: str = Field(min_length=1, max_length=2_000, examples=["how many refunds were issued per region?"])
    sql: str = Field(min_length=1, max_length=50_000,
                     examples=["SELECT region, COUNT(*) AS refunds FROM finance.refunds GROUP BY region"])  # fmt: skip


class VerifiedList(BaseModel):
    queries: list[VerifiedQuery]
    semantic_entries: list[StaleSemanticEntry] = Field(
        default_factory=list,
        description="Semantic-layer entries a schema change broke (left out of the served layer until the layer "
        "file is fixed), with the fix to make. Listed unless the filters exclude stale items (stale=false, "
        "a status other than stale, an author); table and text filter them too.",
    )


def sql_refused(refused: PairRefused) -> ApiError:
    return ApiError(422, "sql_refused", f"the SQL was refused, nothing was stored: {refused}")


def unknown_query(query_id: str) -> ApiError:
    return ApiError(404, "unknown_verified_query", f"no verified query '{query_id}'; GET /v1/verified lists them")


def verified_at_once(principal: Principal, request: Request) -> bool:
    """Admins' teaching is verified as given; users' too when the server is set to trust it."""
    return principal.allows("admin") or request.app.state.settings.api.user_feedback_verified


@router.post("/v1/verified", status_code=201, response_model=VerifiedQuery, responses=failures())
async def teach(body: TeachRequest, request: Request, principal: Principal = user, lake: Lake = lake_dep) -> VerifiedQuery:
    """Teach a question->SQL pair: verified at once from an admin key, else pending an admin's approval."""

    def work() -> VerifiedQuery:
        store = verified_store(lake.context.settings.data_dir)
        try:
            pair = new_pair(lake.context, body.question, body.sql, principal.name,
                            verified=verified_at_once(principal, request))  # fmt: skip
        except PairRefused as refused:
            raise sql_refused(refused) from None
        return store.add(pair, lake_embedder(lake.context))

    return await anyio.to_thread.run_sync(work)


@router.get("/v1/verified", response_model=VerifiedList, responses=failures())
async def list_verified(
    table: str | None = Query(None, max_length=512, description="Only pairs reading this table (namespace.table).",
                              examples=["finance.refunds"]),  # fmt: skip
    author: str | None = Query(None, max_length=256, description="Only pairs taught by this key."),
    stale: bool | None = Query(None, description="true: only pairs a schema change broke; false: only the others."),
    status: Status | None = Query(None, description="Only pairs with this status."),
    text: str | None = Query(None, max_length=500, description="Only pairs whose question or SQL contains this text."),
    _: Principal = user,
    lake: Lake = lake_dep,
) -> VerifiedList:
    """Verified pairs, newest first, and the semantic-layer entries a schema change broke; stale ones carry the
    validator's reason and a suggestion."""

    def work() -> VerifiedList:
        settings = lake.context.settings
        store = verified_store(settings.data_dir)
        settle_drifted(lake.context, store)
        found = store.list(table=table, author=author, status=status, text=text)
        lists_stale = stale is not False and status in (None, "stale") and author is None
        entries = stale_entries(settings, table, text) if lists_stale else []
        return VerifiedList(queries=[q for q in found if stale is None or (q.status == "stale") == stale], semantic_entries=entries)

    return await anyio.to_thread.run_sync(work)


@router.get("/v1/verified/{query_id}", response_model=VerifiedQuery, responses=failures(404))
async def get_verified(query_id: QueryId, _: Principal = user, lake: Lake = lake_dep) -> VerifiedQuery:
    found = await anyio.to_thread.run_sync(verified_store(lake.context.settings.data_dir).get, query_id)
    if found is None:
        raise unknown_query(query_id)
    return found


@router.post("/v1/verified/{query_id}/approve", response_model=VerifiedQuery, responses=failures(404))
async def approve_verified(query_id: QueryId, principal: Principal = admin, lake: Lake = lake_dep) -> VerifiedQuery:
    """Admin: verify a pending pair (or a stale one whose tables were fixed) after checking it again."""

    def work() -> VerifiedQuery | None:
        try:
            return approve(lake.context, verified_store(lake.context.settings.data_dir), query_id, principal.name)
        except PairRefused as refused:
            raise sql_refused(refused) from None

    found = await anyio.to_thread.run_sync(work)
    if found is None:
        raise unknown_query(query_id)
    return found


@router.delete("/v1/verified/{query_id}", status_code=204, responses=failures(404))
async def delete_verified(query_id: QueryId, _: Principal = admin, lake: Lake = lake_dep) -> Response:
    """Admin: forget a pair (feedback that proposed it stays, without the link)."""
    if not await anyio.to_thread.run_sync(verified_store(lake.context.settings.data_dir).delete, query_id):
        raise unknown_query(query_id)
    return Response(status_code=204)
