"""The HTTP API: thin routes over the record store, the retriever, the SQL checks and the agent.

Everything a request reads lives in one ``Lake`` object, built at startup and rebuilt after an ingest job;
the app holds a single reference to it, replaced in one assignment, and every request takes that
reference once at its start. So in-flight requests finish on the data they began with, and no request
ever sees a new store next to an old index.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from sse_starlette import EventSourceResponse

from agent.context import AgentContext
from agent.service import LakeAgent, Usage
from api import schemas
from api.auth import KeyRing, requires
from api.errors import NO_INDEX_HINT, ApiError, as_api_error, install_error_handlers
from api.jobs import IngestJob, IngestJobs
from api.metrics import CONTENT_TYPE, Metrics
from api.middleware import RequestContextMiddleware
from api.ratelimit import RateLimiter
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import Settings

log = logging.getLogger("lakescout.api")

MODEL_ID = "lakescout"
CATALOG_PROBE_SECONDS = 30.0
"""How long a catalog reachability result is reused by /readyz: listing a Glue catalog is not free."""
CATALOG_PROBE_TIMEOUT = 10.0
GENERATION_HEADER = "X-Lakescout-Generation"
"""The ingest generation a response's records and search results come from (all of one generation)."""



def failures(*extra: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer, besides those every route can."""
    return {status: {"model": schemas.ErrorBody} for status in (401, 403, 422, 429, 503, *extra)}



@dataclass(frozen=True)
class Lake:
    """The read side: store and retriever (inside the agent context) and the agent over them."""

    context: AgentContext
    agent: Any

    @classmethod
    def load(cls, settings: Settings, agent: Any = None) -> Lake | None:
        """None when nothing was ingested yet; a blocking call (the embedding model loads here)."""
        if not settings.store_path.exists() or LexicalIndex.saved_location(settings.lexical_path) is None:
            return None
        context = AgentContext.from_settings(settings)
        context.retriever.search("warm up", k=1)  # loads the embedding model now, not in the first request
        return cls(context, agent if agent is not None else LakeAgent(context))


class CatalogProbe:
    """Can the configured catalogs be listed? Cached, so /readyz stays cheap under frequent probes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._checked_at = -CATALOG_PROBE_SECONDS
        self._result = "not checked"

    async def check(self) -> str:
        if time.monotonic() - self._checked_at >= CATALOG_PROBE_SECONDS:
            try:
                with anyio.fail_after(CATALOG_PROBE_TIMEOUT):
                    await anyio.to_thread.run_sync(self._list_all, abandon_on_cancel=True)
                self._result = "ok"
            except TimeoutError:
                self._result = f"catalog listing took longer than {CATALOG_PROBE_TIMEOUT:.0f}s"
            except Exception as exc:  # reported, not raised; details only in the log (readyz is public)
                log.warning("catalog probe failed: %s", exc)
                self._result = f"unreachable ({type(exc).__name__}); the server log has details"
            self._checked_at = time.monotonic()
        return self._result

    def _list_all(self) -> None:
        from catalog_ingest.crawlers import crawler_for

        for config in self.settings.effective_catalogs():
            crawler = crawler_for(config, retries=0)
            try:
                crawler.list_tables()
            finally:
                crawler.close()


def create_app(settings: Settings, *, agent: Any = None) -> FastAPI:
    """The API over ``settings``; ``agent`` replaces the one built from settings (kept across re-ingests)."""
    keys = KeyRing(settings.api)  # refuses to build an app nobody could call
    metrics = Metrics()

    async def load_lake() -> None:
        try:
            app.state.lake = await anyio.to_thread.run_sync(Lake.load, settings, agent)
        except Exception:
            log.exception("could not open the index; serving 503 until an ingest succeeds")
            app.state.lake = None

    def swap_lake() -> None:
        """After an ingest: build the new read side completely, then replace the reference."""
        app.state.lake = Lake.load(settings, agent)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await load_lake()
        yield

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
    app.include_router(router)
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


router = APIRouter()
user = Depends(requires("user"))
admin = Depends(requires("admin"))


async def current_lake(request: Request, response: Response) -> Lake:
    lake: Lake | None = request.app.state.lake
    if lake is None:
        raise ApiError(503, "no_index", NO_INDEX_HINT)
    response.headers[GENERATION_HEADER] = str(lake.context.store.generation)
    return lake


lake_dep = Depends(current_lake)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


# Chat ---------------------------------------------------------------------------------------------------


class AgentRun:
    """One agent turn as a stream of (event, data): the single path behind every chat endpoint.

    It owns what all of them share: the deadline (``model.timeout_seconds``, enforced only while the agent
    works, not while a slow client reads), error events instead of exceptions, metrics per outcome, and
    closing the agent's stream when the client goes away, which cancels the run.
    """

    def __init__(self, request: Request, lake: Lake, question: str, thread_id: str | None, run: bool) -> None:
        self.metrics: Metrics = request.app.state.metrics
        self.timeout = settings_of(request).model.timeout_seconds
        self.stream = lake.agent.astream(question, thread_id=thread_id, run=run)

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
                    status = {"timeout": 504, "internal": 500}.get(data.get("code", ""), 502)
                    raise ApiError(status, data.get("code", "agent_error"), data.get("message", "the agent failed"))
        raise ApiError(502, "agent_error", "the agent finished without an answer")


@router.post("/v1/chat", response_model=schemas.ChatResponse, tags=["chat"], responses=failures(504))
async def chat(
    body: schemas.ChatRequest, request: Request, _: Any = user, lake: Lake = lake_dep
) -> schemas.ChatResponse:
    """Ask one question; the answer cites the tables its facts came from."""
    return await AgentRun(request, lake, body.message, body.thread_id, body.run).answer()


@router.post(
    "/v1/chat/stream",
    tags=["chat"],
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


@router.post(
    "/v1/chat/completions",
    response_model=schemas.ChatCompletion,
    tags=["openai"],
    responses=failures(404, 504),
)
async def chat_completions(
    body: schemas.CompletionRequest,
    request: Request,
    response: Response,
    _: Any = user,
    lake: Lake = lake_dep,
    x_lakescout_thread: str | None = Header(default=None, pattern=r"^[A-Za-z0-9_.:@\-]{1,128}$"),
) -> Any:
    """OpenAI-compatible: the last user message is the question; earlier turns live in the thread.

    Pass a thread id in ``user`` or the ``X-Lakescout-Thread`` header to keep a conversation; the answer's
    thread id comes back in that header.
    """
    if body.model != MODEL_ID:
        raise ApiError(404, "model_not_found", f"unknown model '{body.model}'; this server offers '{MODEL_ID}'")
    question = next((m.text() for m in reversed(body.messages) if m.role == "user"), "").strip()
    if not question:
        raise ApiError(422, "invalid_request", "messages: no user message with text")
    thread_id = x_lakescout_thread or body.user or uuid.uuid4().hex
    agent_run = AgentRun(request, lake, question, thread_id, False)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    headers = {"X-Lakescout-Thread": thread_id}

    if not body.stream:
        answer = await agent_run.answer()
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


@router.get("/v1/models", response_model=schemas.ModelList, tags=["openai"], responses=failures())
async def models(_: Any = user) -> schemas.ModelList:
    """What OpenAI-compatible tools list before they chat: the one model, ``lakescout``."""
    return schemas.ModelList(data=[schemas.ModelCard(id=MODEL_ID, created=0)])


@router.get(
    "/v1/threads/{thread_id}",
    response_model=schemas.ThreadHistory,
    tags=["chat"],
    responses=failures(404),
)
async def thread_history(thread_id: schemas.ThreadId, _: Any = user, lake: Lake = lake_dep) -> schemas.ThreadHistory:
    messages = await anyio.to_thread.run_sync(lake.agent.history, thread_id)
    if messages is None:
        raise ApiError(404, "unknown_thread", f"no thread '{thread_id}'")
    return schemas.ThreadHistory.model_validate({"thread_id": thread_id, "messages": messages})


@router.delete(
    "/v1/threads/{thread_id}", status_code=204, tags=["chat"], responses=failures(404)
)
async def delete_thread(thread_id: schemas.ThreadId, _: Any = user, lake: Lake = lake_dep) -> Response:
    if not await anyio.to_thread.run_sync(lake.agent.delete_thread, thread_id):
        raise ApiError(404, "unknown_thread", f"no thread '{thread_id}'")
    return Response(status_code=204)


# Catalog ------------------------------------------------------------------------------------------------


@router.get("/v1/search", response_model=schemas.SearchResponse, tags=["catalog"], responses=failures())
async def search(
    q: str = Query(min_length=1, max_length=1000, description="What you are looking for, in your words."),
    k: int = Query(default=5, ge=1, le=100),
    namespace: str | None = Query(default=None, max_length=256),
    _: Any = user,
    lake: Lake = lake_dep,
) -> schemas.SearchResponse:
    """Retrieval only (no model): tables with scores and the columns that matched."""
    hits = await anyio.to_thread.run_sync(lambda: lake.context.retriever.search(q, k=k, namespace=namespace))
    return schemas.SearchResponse(query=q, hits=[schemas.SearchHit.model_validate(asdict(h)) for h in hits])


@router.get("/v1/tables", response_model=schemas.TableList, tags=["catalog"], responses=failures())
async def tables(
    namespace: str | None = Query(default=None, max_length=256), _: Any = user, lake: Lake = lake_dep
) -> schemas.TableList:
    rows = await anyio.to_thread.run_sync(lambda: lake.context.store.list(namespace=namespace))
    return schemas.TableList(
        tables=[
            schemas.TableEntry(
                name=r.full_name, namespace=r.namespace, catalog=r.catalog, kind=r.kind, comment=r.comment
            )
            for r in rows
        ]
    )


@router.get(
    "/v1/tables/{name}", response_model=TableRecord, tags=["catalog"], responses=failures(404)
)
async def table(name: str, _: Any = user, lake: Lake = lake_dep) -> TableRecord:
    """The stored record of ``namespace.table`` (or ``catalog.namespace.table``), partitions included."""
    record = await anyio.to_thread.run_sync(lake.context.store.get, name)
    if record is None:
        raise ApiError(404, "unknown_table", f"no table '{name}' in the index; GET /v1/tables lists them")
    return record


# SQL ----------------------------------------------------------------------------------------------------


@router.post("/v1/sql/validate", response_model=schemas.ValidateResponse, tags=["sql"], responses=failures())
async def sql_validate(body: schemas.SqlRequest, _: Any = user, lake: Lake = lake_dep) -> schemas.ValidateResponse:
    """The agent's checks without running anything: read-only guard, tables, columns, partition filters."""
    return await anyio.to_thread.run_sync(validate_and_estimate, lake.context, body.sql)


def validate_and_estimate(context: AgentContext, sql: str) -> schemas.ValidateResponse:
    from agent.sql.estimate import estimate_scan
    from agent.sql.validate import validate_sql
    from agent.tools import as_dict

    result = validate_sql(sql, context.records(), context.settings.sql)
    estimate = None
    if result.ok:
        try:
            # partitions are read only for the tables the query names, as the agent's estimate_scan tool does
            estimate = as_dict(estimate_scan(sql, context.partition_lookup()))
        except ValueError as exc:  # UnsafeSQL is a ValueError too: no estimate, the validation stands
            log.info("no scan estimate: %s", exc)
    return schemas.ValidateResponse(
        ok=result.ok,
        errors=[issue_out(i) for i in result.error_issues],
        warnings=[issue_out(i) for i in result.warning_issues],
        tables=result.tables,
        sql=result.sql,
        scan_estimate=estimate,
    )


def issue_out(issue: Any) -> schemas.Issue:
    """A validator finding (``agent.sql.validate.ValidationIssue``) as the API shows it; severity is the list."""
    return schemas.Issue.model_validate(asdict(issue))


@router.post(
    "/v1/sql/run", response_model=schemas.RunResponse, tags=["sql"], responses=failures(504)
)
async def sql_run(
    body: schemas.RunRequest, request: Request, _: Any = user, lake: Lake = lake_dep
) -> schemas.RunResponse:
    """Run read-only SQL through the agent's engine: same guard, row cap, PII masking and timeout."""
    row_limit = settings_of(request).sql.row_limit
    cap = min(body.limit or row_limit, row_limit)
    result = await anyio.to_thread.run_sync(lambda: lake.context.engine().run(body.sql, cap))
    return schemas.RunResponse(
        columns=result.columns,
        rows=[list(row) for row in result.rows],
        truncated=result.truncated,
        masked_columns=result.masked_columns,
        elapsed_ms=result.elapsed_ms,
    )


# Ingest -------------------------------------------------------------------------------------------------


def job_out(job: IngestJob) -> schemas.IngestJobOut:
    data = asdict(job)
    return schemas.IngestJobOut(job=data.pop("id"), **data)


@router.post(
    "/v1/ingest",
    status_code=202,
    response_model=schemas.IngestJobOut,
    tags=["ingest"],
    responses=failures(409),
)
async def start_ingest(
    request: Request, body: schemas.IngestRequest | None = None, _: Any = admin
) -> schemas.IngestJobOut:
    """Re-ingest in the background (admin); the new data is served once the job succeeds."""
    jobs: IngestJobs = request.app.state.jobs
    return job_out(jobs.submit(full=body.full if body else False))


@router.get(
    "/v1/ingest/{job_id}",
    response_model=schemas.IngestJobOut,
    tags=["ingest"],
    responses=failures(404),
)
async def ingest_status(job_id: str, request: Request, _: Any = admin) -> schemas.IngestJobOut:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "unknown_job", f"no ingest job '{job_id}'")
    return job_out(job)


# Operations ---------------------------------------------------------------------------------------------


@router.get("/healthz", response_model=schemas.Health, tags=["operations"])
async def healthz() -> schemas.Health:
    """The process is up and its event loop answers: never waits on the agent, the index or a catalog."""
    return schemas.Health()


@router.get(
    "/readyz", response_model=schemas.Readiness, tags=["operations"], responses={503: {"model": schemas.Readiness}}
)
async def readyz(request: Request, response: Response) -> schemas.Readiness:
    """Ready when the index is loaded and complete and the catalogs answer; 503 (with what is wrong) otherwise."""
    lake: Lake | None = request.app.state.lake
    checks = {
        "index": lake.context.retriever.health() if lake is not None else NO_INDEX_HINT,
        "catalog": await request.app.state.catalog_probe.check(),
    }
    problems = [f"{name}: {state}" for name, state in checks.items() if state != "ok"]
    response.status_code = 503 if problems else 200
    error = schemas.ErrorDetail(code="not_ready", message="; ".join(problems)) if problems else None
    return schemas.Readiness(ready=not problems, checks=checks, error=error)


@router.get("/metrics", tags=["operations"], responses={**failures(), 200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(request: Request, _: Any = user) -> Response:
    """Prometheus text format: requests and latencies by route, agent runs, tool calls, model tokens."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
