"""Ingest progress: what an ingest reports as it goes, and a plain-line reporter for logs and pipes.

Every progress object takes ``start`` (a catalog's table count) and ``advance`` (one table done). One
that also has ``embedding`` and ``written`` (``EmbeddingProgress``) hears about embedding too: the texts
of the group being embedded, and the documents written, so a display moves while a group of wide tables
is embedded, not only between groups.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Protocol, TextIO, runtime_checkable


class IngestProgress(Protocol):
    def start(self, catalog: str, total: int) -> None: ...

    def advance(self, table: str, status: str) -> None: ...


@runtime_checkable
class EmbeddingProgress(Protocol):
    def embedding(self, done: int, total: int) -> None:
        """``done`` of the current group's ``total`` distinct texts are embedded."""
        ...

    def written(self, documents: int) -> None:
        """A group's ``documents`` are embedded and written."""
        ...


class SilentProgress:
    def start(self, catalog: str, total: int) -> None:
        pass

    def advance(self, table: str, status: str) -> None:
        pass


def format_duration(seconds: float) -> str:
    """``1h02m``, ``4m05s`` or ``12s``: short enough for a log line."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class LineProgress:
    """One line every ``interval`` seconds on ``stream`` (stderr), from a timer thread, for an ingest whose
    stderr is not a terminal (a log, a pipe, a CI job): tables done of total, rate, ETA, documents embedded,
    and the texts of the group being embedded. Use as a context manager; a last line is written when the
    ingest ends without an error (an error prints its own line)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.catalogs: list[str] = []
        self.total = 0
        self.done = 0
        self.documents = 0
        self.group: tuple[int, int] = (0, 0)
        self._started = time.monotonic()
        self._first_table: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-progress", daemon=True)

    def __enter__(self) -> LineProgress:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        if exc_type is None:
            self._write()

    def start(self, catalog: str, total: int) -> None:
        self.catalogs.append(catalog)
        self.total += total
        if self._first_table is None:
            self._first_table = time.monotonic()

    def advance(self, table: str, status: str) -> None:
        self.done += 1

    def embedding(self, done: int, total: int) -> None:
        self.group = (done, total)

    def written(self, documents: int) -> None:
        self.documents += documents
        self.group = (0, 0)

    def line(self) -> str:
        now = time.monotonic()
        if self._first_table is None:
            return f"ingest: listing catalogs ({format_duration(now - self._started)})"
        elapsed = max(now - self._first_table, 1e-9)
        rate = self.done / elapsed
        percent = 100.0 * self.done / self.total if self.total else 100.0
        eta = format_duration((self.total - self.done) / rate) if rate > 0 else "unknown"
        line = (
            f"ingest: {self.done:,}/{self.total:,} tables ({percent:.0f}%), {rate:.1f} tables/s, ETA {eta}, "
            f"{self.documents:,} documents embedded"
        )
        done, total = self.group
        return line + (f", embedding {done:,}/{total:,} texts" if total else "")

    def _write(self) -> None:
        print(self.line(), file=self.stream, flush=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._write()
