"""The simulator's sense of time, injectable so that tests never race a deadline."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["Clock", "ManualClock"]

#: Epoch seconds, like :func:`time.time`: what the simulator reads whenever time matters to the
#: simulated world (creation dates, purge deadlines, the current month of usage, rate limits).
Clock = Callable[[], float]


class ManualClock:
    """A clock that moves only when told to: pass it to :func:`run_simulator` or
    :func:`create_app` and a test decides when a purge deadline passes.

    It starts at ``start`` (default: the real time when it is made) and is thread-safe.
    Request signatures are still checked against the real time, since clients sign with theirs.
    """

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._now = time.time() if start is None else float(start)

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0) and return the new time."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"a clock only moves forward: cannot advance by {seconds}")
        with self._lock:
            self._now += seconds
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self():.3f})"
