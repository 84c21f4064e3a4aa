"""A token bucket per API key, on the simulator's clock."""

from __future__ import annotations

import threading

from ._clock import Clock

__all__ = ["RateLimiter"]


class RateLimiter:
    """Allows ``rate`` requests per second per key, in bursts of up to ``max(1, rate)``.

    Each key has a bucket of ``max(1, rate)`` tokens, full at first, refilled continuously at
    ``rate`` tokens per second. A request takes one token; without a whole token it is refused
    and takes nothing, so refused requests do not push the next allowed one further away.
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        if not rate > 0:
            raise ValueError(f"a rate limit must be positive, not {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (tokens, when they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0 if the request may go on, else the seconds until it could."""
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (self.capacity, now))
            # max(): a clock set back must not drain the bucket.
            tokens = min(self.capacity, tokens + max(0.0, now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
