"""Ingest routes (admin): start a background re-ingest and follow its job."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request

from api import schemas
from api.errors import ApiError
from api.jobs import IngestJob, IngestJobs
from api.routes import admin, failures

router = APIRouter(tags=["ingest"])


def job_out(job: IngestJob) -> schemas.IngestJobOut:
    data = asdict(job)
    return schemas.IngestJobOut(job=data.pop("id"), **data)


@router.post("/v1/ingest", status_code=202, response_model=schemas.IngestJobOut, responses=failures(409))
async def start_ingest(
    request: Request, body: schemas.IngestRequest | None = None, _: Any = admin
) -> schemas.IngestJobOut:
    """Re-ingest in the background (admin); the new data is served once the job succeeds."""
    jobs: IngestJobs = request.app.state.jobs
    return job_out(jobs.submit(full=body.full if body else False))


@router.get("/v1/ingest/{job_id}", response_model=schemas.IngestJobOut, responses=failures(404))
async def ingest_status(job_id: str, request: Request, _: Any = admin) -> schemas.IngestJobOut:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "unknown_job", f"no ingest job '{job_id}'")
    return job_out(job)
