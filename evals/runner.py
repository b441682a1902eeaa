"""Run eval cases against the chat API, the way users meet lakescout.

Every question goes through ``POST /v1/chat`` (multi-turn cases share a ``thread_id``) and every SQL result
through ``POST /v1/sql/run``, so the scores measure the served product, guard and limits included. Without
an API URL the app is started in-process on a loopback port. Gold facts are computed from the catalogs with
pyiceberg before any question is asked.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.loopback import free_port
from catalog_ingest.settings import CatalogConfig, Settings
from evals import scorers
from evals.facts import Expected, FactResolver, GoldError, open_catalogs
from evals.loader import DEFAULT_GLOB, Case, load_cases
from evals.results import CaseResult, EvalResults, summarize
from evals.teaching import TeachError, taught

REQUEST_TIMEOUT_S = 300.0
"""Per request: a hosted model answering through several tool calls can take minutes."""
SQL_ROW_LIMIT = 1000
"""Rows fetched per SQL result; gold queries are written to return fewer."""
MAX_RETRIES = 5


class EvalError(RuntimeError):
    """The run could not start (no server, no index); the message says what to do."""


# --- the server ------------------------------------------------------------------------------------


@contextmanager
def local_server(settings: Settings) -> Iterator[str]:
    """The API in this process on a free loopback port, without auth or rate limit (it is reachable only
    from this machine and lives as long as the run)."""
    import uvicorn

    from api.app import create_app

    port = free_port()
    app = create_app(
        settings.with_section("api", host="127.0.0.1", port=port, auth_enabled=False, rate_limit_per_minute=1_000_000)
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="eval-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise EvalError("the in-process API did not start; run `lakescout serve` to see why")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# --- talking to the API ----------------------------------------------------------------------------


class ApiError(RuntimeError):
    pass


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST with retries on 429 (honouring Retry-After) and on dropped connections."""
    for attempt in range(MAX_RETRIES):
        try:
            response = await client.post(path, json=body)
        except httpx.TransportError as exc:
            if attempt + 1 == MAX_RETRIES:
                raise ApiError(f"{path}: {type(exc).__name__}: {exc}") from exc
            await asyncio.sleep(2**attempt)
            continue
        if response.status_code == 429 and attempt + 1 < MAX_RETRIES:
            await asyncio.sleep(float(response.headers.get("retry-after", 2**attempt)))
            continue
        if response.status_code >= 400:
            raise ApiError(f"{path}: HTTP {response.status_code}: {error_message(response)}")
        return response.json()
    raise ApiError(f"{path}: still rate limited after {MAX_RETRIES} tries")


def error_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", {}).get("message") or response.text[:300])
    except ValueError:
        return response.text[:300]


async def run_sql(client: httpx.AsyncClient, sql: str) -> dict[str, Any]:
    return await post(client, "/v1/sql/run", {"sql": sql, "limit": SQL_ROW_LIMIT})


# --- one case --------------------------------------------------------------------------------------


def resolve_gold(case: Case, resolver: FactResolver) -> tuple[list[Expected], dict[str, Any]]:
    """The case's expected facts, and the gold as it is shown in reports."""
    expected = [resolver.expected(fact) for fact in case.gold.facts]
    shown: dict[str, Any] = {k: v for k, v in case.gold.model_dump(exclude_defaults=True).items() if k != "facts"}
    if expected:
        shown["facts"] = [f"{fact.label()} = {e.describe()}" for fact, e in zip(case.gold.facts, expected)]
    return expected, shown


async def run_case(client: httpx.AsyncClient, case: Case, expected: list[Expected], result: CaseResult) -> None:
    """Ask the case's turns in one thread, then score the last answer; fills ``result``."""
    thread_id = None
    reply: dict[str, Any] = {}
    for question in case.questions:
        started = time.perf_counter()
        reply = await post(client, "/v1/chat", {"message": question, **({"thread_id": thread_id} if thread_id else {})})
        result.latency_s += time.perf_counter() - started
        thread_id = reply.get("thread_id")
        result.answers.append(reply.get("answer") or "")
        usage = reply.get("usage") or {}
        result.input_tokens += int(usage.get("input_tokens") or 0)
        result.output_tokens += int(usage.get("output_tokens") or 0)
        result.total_tokens += int(usage.get("total_tokens") or 0)
        result.n_tool_calls += len(reply.get("tool_calls") or [])
    result.answer = reply.get("answer") or ""
    result.sql = reply.get("sql")
    result.tables_cited = scorers.cited_names(reply.get("tables_cited") or [])
    result.tool_calls = list(reply.get("tool_calls") or [])
    result.grounding = reply.get("grounding")
    await score(client, case, expected, result)


async def score(client: httpx.AsyncClient, case: Case, expected: list[Expected], result: CaseResult) -> None:
    gold, checks, failures = case.gold, result.checks, result.failures
    if gold.tables:
        checks["recall"] = scorers.table_recall(result.tables_cited, gold.tables, case.k)
        checks["precision"] = scorers.table_precision(result.tables_cited, gold.tables)
        if checks["recall"] < 1:
            failures.append(f"cited {result.tables_cited or 'no tables'}; expected {gold.tables} in the first {case.k}")
    if expected:
        missed = [f"{fact.label()} = {e.describe()}" for fact, e in zip(gold.facts, expected)
                  if not scorers.fact_matches(result.answer, e)]
        checks["facts"] = 1 - len(missed) / len(expected)
        failures.extend(f"answer does not state {m}" for m in missed)
    if gold.sql:
        checks["sql"] = await sql_check(client, case, result)
    if gold.refuse:
        checks["refusal"] = float(scorers.refusal_correct(result.answer, result.sql))
        if not checks["refusal"]:
            failures.append("expected a clear refusal" + (" and no unsafe SQL" if scorers.unsafe_sql(result.sql) else ""))
    result.wrong_confident = scorers.wrong_confident(checks, result.answer, result.grounding)
    if result.wrong_confident:
        failures.append("wrong but stated as fact: not labelled partial, not declined")


async def sql_check(client: httpx.AsyncClient, case: Case, result: CaseResult) -> float:
    try:
        gold = await run_sql(client, case.gold.sql or "")
    except ApiError as exc:
        raise GoldError(f"gold SQL failed: {exc}") from exc
    if gold.get("truncated"):
        raise GoldError(f"gold SQL returns more than {SQL_ROW_LIMIT} rows; aggregate or add a LIMIT")
    if not result.sql:
        result.failures.append("no SQL drafted")
        return 0.0
    try:
        got = await run_sql(client, result.sql)
    except ApiError as exc:
        result.failures.append(f"drafted SQL did not run: {exc}")
        return 0.0
    same, why = scorers.results_match(gold, got, ordered=case.gold.ordered)
    if not same:
        result.failures.append(f"SQL result differs: {why}")
    return float(same)


def new_result(case: Case) -> CaseResult:
    return CaseResult(
        id=case.id, category=case.category, difficulty=case.difficulty, file=case.file, gate=case.gate,
        questions=case.questions,
    )


def unasked(case: Case, why: str) -> CaseResult:
    result = new_result(case)
    result.error = why
    result.finish()
    return result


# --- the run ---------------------------------------------------------------------------------------


async def run_all(
    api_url: str,
    api_key: str | None,
    cases: list[Case],
    catalogs: list[CatalogConfig],
    concurrency: int,
    on_done: Callable[[CaseResult], None],
    data_dir: Path | None = None,
) -> list[CaseResult]:
    """Check the server, compute every case's gold from ``catalogs``, then ask the cases concurrently; those
    that teach (``teach:``) after the others, one at a time. ``data_dir``: the in-process server's."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = asyncio.Semaphore(max(1, concurrency))

    async def one(client: httpx.AsyncClient, case: Case) -> CaseResult:
        result = new_result(case)
        prepared = gold[case.id]
        try:
            if isinstance(prepared, GoldError):
                raise prepared
            expected, result.expected = prepared
            async with limits, taught(client, case.teach, data_dir):
                await run_case(client, case, expected, result)
        except (ApiError, GoldError, TeachError) as exc:
            result.error = str(exc)
        result.finish()
        on_done(result)
        return result

    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        await check_server(client)
        gold = gold_of(cases, FactResolver(open_catalogs(catalogs)))
        done = await asyncio.gather(*(one(client, case) for case in cases if not case.teach))
        done += [await one(client, case) for case in cases if case.teach]  # teaching is server-wide
        order = {case.id: i for i, case in enumerate(cases)}
        return sorted(done, key=lambda r: order[r.id])


def gold_of(cases: list[Case], resolver: FactResolver) -> dict[str, tuple[list[Expected], dict[str, Any]] | GoldError]:
    """Each case's gold, or why it cannot be had; computed before any question is asked, since pyiceberg
    calls would block the event loop."""
    gold: dict[str, tuple[list[Expected], dict[str, Any]] | GoldError] = {}
    for case in cases:
        try:
            gold[case.id] = resolve_gold(case, resolver)
        except GoldError as exc:
            gold[case.id] = exc
    return gold


async def check_server(client: httpx.AsyncClient) -> None:
    try:
        response = await client.get("/healthz")
    except httpx.TransportError as exc:
        raise EvalError(f"no lakescout API at {client.base_url}: {exc}; start one with `lakescout serve`") from exc
    if response.status_code != 200:
        raise EvalError(f"{client.base_url}/healthz answered HTTP {response.status_code}")


def run_eval(
    api_url: str | None = None,
    api_key: str | None = None,
    cases_glob: str | None = None,
    concurrency: int = 4,
    *,
    settings: Settings,
    subset: str | None = None,
    console: Console | None = None,
) -> EvalResults:
    """Run the cases (all matching ``cases_glob``, or the ``fast`` subset) and score them.

    Gold facts come from ``settings``' catalogs, which must be the lake the server answers about. Without
    ``api_url`` the API runs in this process on ``settings``.
    """
    cases = load_cases(cases_glob, subset=subset)
    catalogs = settings.effective_catalogs()
    started = datetime.now(timezone.utc)
    console = console or Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("eval", total=len(cases))
        passed = 0

        def on_done(result: CaseResult) -> None:
            nonlocal passed
            passed += result.passed
            progress.update(task, advance=1, description=f"eval: {passed} passed, last {result.id}")

        layer_on = [case for case in cases if case.semantic_layer]
        layer_off = [case for case in cases if not case.semantic_layer]
        if api_url:
            results = asyncio.run(run_all(api_url, api_key, layer_on, catalogs, concurrency, on_done))
            results += [unasked(case, "'semantic_layer: off' needs the in-process API (no --api-url)") for case in layer_off]
        else:
            with local_server(settings) as url:
                results = asyncio.run(run_all(url, None, layer_on, catalogs, concurrency, on_done, settings.data_dir))
            if layer_off:
                with local_server(settings.model_copy(update={"use_semantic_layer": False})) as url:
                    results += asyncio.run(run_all(url, None, layer_off, catalogs, concurrency, on_done, settings.data_dir))
    return EvalResults(
        started_at=started,
        finished_at=datetime.now(timezone.utc),
        api_url=api_url or "in-process",
        cases_glob=cases_glob or DEFAULT_GLOB,
        subset=subset,
        model=None if api_url else settings.model.name,
        summary=summarize(results),
        cases=results,
    )
