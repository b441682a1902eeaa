"""Re-ingest as a background job: one at a time, progress through the ingest progress protocol.

The job runs in a thread (ingest is blocking I/O and embedding). When it succeeds, ``on_success`` builds
the new read side and swaps it in; requests already running keep the objects they started with. The ingest
modules (the crawlers: PyIceberg, PyArrow) are imported by the first job, not when the server starts.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from catalog_ingest.settings import Settings
from catalog_ingest.store_backends import IngestBusy

log = logging.getLogger("lakescout.api")

KEEP_JOBS = 50
"""Finished jobs remembered for GET /v1/ingest/{job}; older ones are forgotten."""

JobStatus = Literal["running", "succeeded", "failed"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class IngestJob:
    """A job's state; also the progress object handed to ``ingest``."""

    id: str
    full: bool
    status: JobStatus = "running"
    started_at: datetime = field(default_factory=_now)
    finished_at: datetime | None = None
    catalog: str | None = None
    total: int = 0
    done: int = 0
    current: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def start(self, catalog: str, total: int) -> None:
        self.catalog = catalog
        self.total += total

    def advance(self, table: str, status: str) -> None:
        self.done += 1
        self.current = table


class IngestJobs:
    def __init__(self, settings: Settings, on_success: Callable[[], None]) -> None:
        self.settings = settings
        self.on_success = on_success
        self._jobs: OrderedDict[str, IngestJob] = OrderedDict()
        self._running: IngestJob | None = None
        self._lock = threading.Lock()

    def submit(self, *, full: bool = False) -> IngestJob:
        """Start a job; IngestBusy when one runs here or an ingest (say, the CLI) holds the data directory."""
        from catalog_ingest.ingest import ingest_lock

        with self._lock:
            if self._running is not None:
                raise IngestBusy("an ingest is already running")
            with ingest_lock(self.settings.data_dir):
                pass  # another process's ingest holds it: refuse now rather than fail in the thread
            job = self._running = IngestJob(id=uuid.uuid4().hex, full=full)
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(job,), name=f"ingest-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> IngestJob | None:
        return self._jobs.get(job_id)

    def _run(self, job: IngestJob) -> None:
        from catalog_ingest.ingest import ingest

        try:
            report = ingest(self.settings, full=job.full, progress=job)
            job.counts = report.counts()
            self.on_success()
            job.status = "succeeded"
        except Exception as exc:  # the job reports it; the server keeps serving the previous data
            log.exception("ingest job failed", extra={"job": job.id})
            job.status = "failed"
            job.error = str(exc) or type(exc).__name__
        finally:
            job.finished_at = _now()
            with self._lock:
                self._running = None
