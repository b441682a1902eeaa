"""The read side every request uses: the current ``Lake`` and its leases.

Everything a request reads lives in one ``Lake`` object, built at startup and rebuilt after an ingest job;
the app holds a single reference to it (``app.state.lake``), replaced in one assignment, and every request
takes a lease on that object once, at its start, through ``current_lake``. So in-flight requests finish on
the data they began with, no request ever sees a new store next to an old index, and a replaced Lake
closes its Chroma client, SQL engine and store once the last request using it is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from fastapi import Request, Response

from agent.context import AgentContext
from api.errors import NO_INDEX_HINT, ApiError
from catalog_ingest.embeddings import Embedder
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore


GENERATION_HEADER = "X-Lakescout-Generation"
"""The ingest generation a response's records and search results come from (all of one generation)."""


class Lake:
    """The read side: store and retriever (inside the agent context) and the agent over them.

    Requests hold leases on it; once it is retired (replaced, or the app stops), the last lease to end
    closes what it opened. An agent handed in from outside (kept across re-ingests) is not the Lake's to close.
    The Lake's own agent is built on first use (``agent``): its modules (LangChain, LangGraph, LangSmith) take
    about a second to import, which searches and the server's readiness need not wait for.
    """

    def __init__(self, context: AgentContext, agent: Any = None, owns_agent: bool = True) -> None:
        self.context = context
        self.owns_agent = owns_agent
        self._agent = agent
        self._leases = 0
        self._retired = False
        self._lock = threading.Lock()
        self._agent_lock = threading.Lock()

    @classmethod
    def load(cls, settings: Settings, agent: Any = None, embedder: Embedder | None = None) -> Lake | None:
        """None when nothing was ingested yet; a blocking call (the embedding model loads here, unless
        ``embedder`` already has)."""
        if settings.store_url:  # a replica's own data dir may hold no index files: they are built from the records
            ingested = bool(RecordStore.published_at(settings.store_url))
        else:
            ingested = settings.store_path.exists() and LexicalIndex.saved_location(settings.lexical_path) is not None
        if not ingested:
            return None
        context = AgentContext.from_settings(settings, embedder)
        context.retriever.search("warm up", k=1)  # loads the embedding model now, not in the first request
        return cls(context, agent, owns_agent=agent is None)

    @property
    def agent(self) -> Any:
        """The agent over this Lake's context: the one handed in, else this Lake's own, built on first use."""
        with self._agent_lock:
            if self._agent is None:
                from agent.service import LakeAgent

                self._agent = LakeAgent(self.context)
            return self._agent

    def lease(self) -> bool:
        """Count one more request on this Lake; False once it is retired (take the current one instead)."""
        with self._lock:
            if self._retired:
                return False
            self._leases += 1
            return True

    def release(self) -> bool:
        """End one lease; True when that was the last one on a retired Lake, which the caller then closes."""
        with self._lock:
            self._leases -= 1
            return self._retired and self._leases == 0

    def retire(self) -> bool:
        """No new leases from now on; True when none is held, so the caller closes the Lake right away."""
        with self._lock:
            self._retired = True
            return self._leases == 0

    def close(self) -> None:
        """Release the Chroma client, the SQL engine, the store connection and, if it is ours and was built,
        the agent."""
        self.context.close()
        with self._agent_lock:
            if self.owns_agent and self._agent is not None:
                self._agent.close()


def replace_lake(state: Any, lake: Lake | None) -> None:
    """Serve ``lake`` from now on; the one it replaces closes once no request uses it (blocking: call in a thread)."""
    old: Lake | None = state.lake
    state.lake = lake
    if old is not None and old.retire():
        old.close()
    if lake is not None:
        keep_out_of_collections(lake_replaced=old is not None)


def keep_out_of_collections(lake_replaced: bool) -> None:
    """Leave what the process holds now (a Lake's indexes: millions of objects at 10,000 tables) out of the
    cyclic garbage collector's full passes, which otherwise walk all of it every few hundred searches (1.6 ms
    of CPU a search at 20 clients). Refcounting still frees those objects; after a replaced Lake, one full
    pass first collects what earlier Lakes left in cycles."""
    if lake_replaced:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def leased_lake(state: Any) -> Lake | None:
    """A lease on the Lake served now (None before any ingest); the holder ends it with ``Lake.release``."""
    while True:
        lake: Lake | None = state.lake
        if lake is None or lake.lease():
            return lake
        # a Lake retired between the read and the lease was already replaced: read again


@contextmanager
def leased_context(state: Any) -> Iterator[AgentContext | None]:
    """The served Lake's agent context, leased for the block (the MCP route's calls): a re-ingest that replaces
    the Lake meanwhile closes it only after the block ends."""
    lake = leased_lake(state)
    try:
        yield lake.context if lake is not None else None
    finally:
        if lake is not None and lake.release():
            lake.close()


async def current_lake(request: Request, response: Response) -> AsyncIterator[Lake]:
    """The Lake a request reads, leased until its response is sent (streamed bodies included); the response
    names the ingest generation it reads (``X-Lakescout-Generation``)."""
    lake = leased_lake(request.app.state)
    if lake is None:
        raise ApiError(503, "no_index", NO_INDEX_HINT)
    response.headers[GENERATION_HEADER] = str(lake.context.store.generation)
    try:
        yield lake
    finally:
        if lake.release():
            with anyio.CancelScope(shield=True):  # a client gone mid-stream must not leave the Lake open
                await anyio.to_thread.run_sync(lake.close)
