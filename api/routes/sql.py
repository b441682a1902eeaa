"""SQL routes: the agent's checks without running anything (with a scan estimate), and read-only runs."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import APIRouter, Request

from agent.context import AgentContext
from agent.sql.issues import ValidationIssue
from api import schemas
from api.agent_run import unless_disconnected
from api.lake import Lake
from api.routes import failures, lake_dep, user

if TYPE_CHECKING:
    from agent.sql.engines.base import QueryResult

log = logging.getLogger("lakescout.api")

router = APIRouter(tags=["sql"])


@router.post("/v1/sql/validate", response_model=schemas.ValidateResponse, responses=failures(504))
async def sql_validate(body: schemas.SqlRequest, _: Any = user, lake: Lake = lake_dep) -> schemas.ValidateResponse:
    """The agent's checks without running anything: read-only guard, tables, columns, partition filters."""
    return await anyio.to_thread.run_sync(validate_and_estimate, lake.context, body.sql)


def validate_and_estimate(context: AgentContext, sql: str) -> schemas.ValidateResponse:
    from agent.sql.estimate import estimate_scan
    from agent.sql.validate import validate_sql  # with DuckDB's SQL gate: loaded on the first check, not at start

    records = context.records()
    result = validate_sql(sql, records, context.settings.sql)
    estimate = None
    if result.ok:
        try:
            # partitions are read only for the tables the query names, as the agent's estimate_scan tool does
            estimate = asdict(estimate_scan(sql, context.partition_lookup(), records.values()))
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


def issue_out(issue: ValidationIssue) -> schemas.Issue:
    """A validator finding as the API shows it; its severity is the list it is in."""
    return schemas.Issue.model_validate(asdict(issue))


@router.post("/v1/sql/run", response_model=schemas.RunResponse, responses=failures(504))
async def sql_run(
    body: schemas.RunRequest, request: Request, _: Any = user, lake: Lake = lake_dep
) -> schemas.RunResponse:
    """Run read-only SQL through the agent's engine: same gate, row and byte caps, PII masking and timeout."""
    from agent.sql.deadline import Deadline

    row_limit = request.app.state.settings.sql.row_limit
    cap = min(body.limit or row_limit, row_limit)
    deadline = Deadline(request.app.state.settings.sql.timeout_seconds)  # one deadline: gate, plan, run, mask, cap

    async def work() -> QueryResult:
        try:
            return await anyio.to_thread.run_sync(lambda: lake.context.engine().run(body.sql, cap, deadline),
                                                  abandon_on_cancel=True)  # fmt: skip
        except anyio.get_cancelled_exc_class():
            deadline.cancel()  # the client went away: interrupt DuckDB instead of finishing the query
            raise

    result = await unless_disconnected(request, work)
    return schemas.RunResponse(
        columns=result.columns,
        rows=[list(row) for row in result.rows],
        truncated=result.truncated,
        truncated_by=result.truncated_by,
        masked_columns=result.masked_columns,
        elapsed_ms=result.elapsed_ms,
    )
