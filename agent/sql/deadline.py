"""One deadline for a whole SQL request: checking, planning, running, reporting and capping the result.

The caller (the API, the agent's tool, a test) starts it when the request arrives and hands the same object
to the gate and the engine; each stage checks it, and the engine interrupts DuckDB when it passes or when
the caller cancels it (the client went away).
"""

from __future__ import annotations

import threading
import time

from agent.sql.errors import SqlTimeout


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self._cancelled = threading.Event()

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def cancel(self) -> None:
        """Stop the request at its next check, and interrupt a running query."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def over(self) -> bool:
        return self.cancelled or time.monotonic() >= self.expires_at

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` (less if the deadline comes first); True when the request is over."""
        self._cancelled.wait(min(seconds, self.remaining()))
        return self.over

    def check(self, stage: str) -> None:
        """Raise SqlTimeout when the request is over; ``stage`` says what it was doing."""
        if self.cancelled:
            raise SqlTimeout(f"the request was cancelled while {stage}")
        if time.monotonic() >= self.expires_at:
            raise SqlTimeout(
                f"query stopped after {self.seconds:g}s while {stage}; filter on partition columns or aggregate"
            )
