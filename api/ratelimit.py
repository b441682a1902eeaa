"""A token bucket per API key: bursts up to a minute's allowance, then a steady rate.

In memory, per process: with several workers each holds its own buckets, so the effective limit is
``workers x rate_limit_per_minute``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_BUCKETS = 10_000
"""Past this many keys, buckets that have refilled completely are forgotten (they hold no state)."""


class RateLimiter:
    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0 when allowed, else the seconds until a token is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        if len(self._buckets) <= MAX_BUCKETS:
            return
        full = [k for k, (tokens, last) in self._buckets.items() if tokens + (now - last) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]
