"""The HTTP API: builds the FastAPI app, a thin layer over the record store, retriever, SQL checks and agent.

``create_app`` wires the app's state (settings, keys, rate limiter, metrics, ingest jobs, catalog probe and
the current ``Lake``, see ``api.lake``), the error handlers, the middleware and one router per resource
(``api.routes``). The Lake loads at startup and is replaced after each successful ingest job, and when an
ingest outside the server publishes a new generation (checked every ``api.follow_ingests_seconds``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.auth import KeyRing
from api.errors import install_error_handlers
from api.jobs import IngestJobs
from api.lake import GENERATION_HEADER, Lake, leased_context, replace_lake
from api.metrics import Metrics
from api.middleware import RequestContextMiddleware
from api.ratelimit import RateLimiter
from api.readiness import CatalogProbe
from api.routes import catalog, charts, chat, feedback, ingest, openai_compat, ops, sql, verified
from catalog_ingest.embeddings import Embedder
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore
from mcp_server.mount import mount_mcp

log = logging.getLogger("lakescout.api")

ROUTERS = (chat.router, openai_compat.router, catalog.router, charts.router, sql.router, ingest.router, ops.router,
           feedback.router, verified.router)


def create_app(settings: Settings, *, agent: Any = None, embedder: Embedder | None = None) -> FastAPI:
    """The API over ``settings``; ``agent`` replaces the one built from settings (kept across re-ingests);
    ``embedder`` (default: the settings') may already be loading its model, and serves every Lake."""
    keys = KeyRing(settings.api)  # refuses to build an app nobody could call
    metrics = Metrics()

    def load_lake() -> None:
        try:
            lake = Lake.load(settings, agent, embedder)
        except Exception:
            log.exception("could not open the index; serving 503 until an ingest succeeds")
            lake = None
        replace_lake(app.state, lake)

    swapping = threading.Lock()

    def swap_lake() -> None:
        """After an ingest: build the new read side completely, then replace the old one."""
        with swapping:
            replace_lake(app.state, Lake.load(settings, agent, embedder))

    def follow_published() -> None:
        """Switch to a generation some other ingest published (see ``api.follow_ingests_seconds``)."""
        with swapping:
            served = app.state.lake.context.store.generation if app.state.lake is not None else None
            published = RecordStore.published_at(settings.store_location)
            if published is not None and published != served:
                log.info("serving generation %s, published by an ingest outside this server", published)
                replace_lake(app.state, Lake.load(settings, agent, embedder))

    async def follow_ingests(every: float) -> None:
        while True:
            await anyio.sleep(every)
            try:
                await anyio.to_thread.run_sync(follow_published)
            except Exception:
                log.exception("could not open the newly published index; still serving the previous one")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(app.state.catalog_probe.check)  # the first /readyz finds it done (it runs meanwhile)
            await anyio.to_thread.run_sync(load_lake)
            if settings.api.follow_ingests_seconds:
                tasks.start_soon(follow_ingests, settings.api.follow_ingests_seconds)
            yield
            tasks.cancel_scope.cancel()
        await anyio.to_thread.run_sync(replace_lake, app.state, None)

    app = FastAPI(
        title="lakescout",
        summary="Ask about your data lake: table search, records, checked SQL and a chat agent.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = keys
    app.state.limiter = RateLimiter(settings.api.rate_limit_per_minute)
    app.state.metrics = metrics
    app.state.lake = None
    app.state.jobs = IngestJobs(settings, on_success=swap_lake)
    app.state.catalog_probe = CatalogProbe(settings)

    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_mcp(app, settings, keys, lambda: leased_context(app.state), limiter=app.state.limiter)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-Lakescout-Thread"],
            expose_headers=["X-Request-ID", "X-Lakescout-Thread", GENERATION_HEADER, "Retry-After"],
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, max_body_bytes=settings.api.max_body_bytes)
    return app
