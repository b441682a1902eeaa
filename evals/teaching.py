"""Cases that teach first (``teach:``): their question->SQL pairs are posted as verified before the question
and deleted after it, so no case sees another's teaching.

Posting needs an admin key (the in-process server has auth off, so its caller is an admin). A pair marked
``stale: true`` is made stale the way a schema change would leave it (in the in-process server's store:
a running server's lake cannot be changed from here), to check that stale queries are never used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field

from catalog_ingest.verified import VerifiedStore, verified_path


class TeachPair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    sql: str = Field(min_length=1)
    stale: bool = False
    """Taught, then marked stale as if a schema change had broken it."""


class TeachError(RuntimeError):
    """A pair could not be taught (not an admin key, SQL refused by the gate, ...)."""


def mark_stale(data_dir: Path | None, query_id: str) -> None:
    if data_dir is None:
        raise TeachError("a `stale: true` pair needs the in-process server (no --api)")
    store = VerifiedStore(verified_path(data_dir))
    try:
        store.update(query_id, status="stale", stale_reason="marked stale by the eval case")
    finally:
        store.close()


@asynccontextmanager
async def taught(client: httpx.AsyncClient, pairs: list[TeachPair], data_dir: Path | None) -> AsyncIterator[None]:
    """The pairs verified on the server while the block runs; every one is deleted afterwards."""
    ids: list[str] = []
    try:
        for pair in pairs:
            response = await client.post("/v1/verified", json={"question": pair.question, "sql": pair.sql})
            if response.status_code != 201:
                raise TeachError(f"teaching '{pair.question}' failed: HTTP {response.status_code}: {response.text[:300]}")
            ids.append(response.json()["id"])
            if response.json()["status"] != "verified":
                raise TeachError(f"teaching '{pair.question}' left it {response.json()['status']}: use an admin key")
            if pair.stale:
                mark_stale(data_dir, ids[-1])
        yield
    finally:
        for query_id in ids:
            await client.delete(f"/v1/verified/{query_id}")
