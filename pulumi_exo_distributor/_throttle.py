"""One client's requests share what a 429 taught: a pause, then fewer requests in flight.

Retries alone honour ``Retry-After`` one request at a time: every request in flight when the
API's rate limit is reached gets its own 429, waits the same ``Retry-After`` and comes back at the
same moment as the others, so with many in flight most of each wave is refused again and some
requests run out of attempts (measured with the simulator: 64 threads against 10 requests per
second lost 35 of 100 creates). A :class:`Throttle` makes the client's threads act as one:

- a 429 pauses every request of the client until its ``Retry-After`` has passed;
- it halves the number of requests the client lets in flight (once per wave: the other 429s of
  the same wave change nothing more), and each second without a 429 lets one more in, until the
  cap is gone again.

Waiting for a slot is not an attempt: it costs no retry. ``stamina.set_testing(True)`` turns the
throttle off, as it makes retries instant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Protocol

import stamina

__all__ = ["Throttle"]


class Condition(Protocol):
    """What the throttle needs of a :class:`threading.Condition`: a test may give one whose
    waits run on a clock of its own."""

    def __enter__(self) -> object: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...

    def notify_all(self) -> None: ...


class Throttle:
    """Shared by the threads of one client. ``clock`` and ``condition`` are for tests: a clock
    and a condition whose ``wait`` times out on that clock."""

    #: Past this many requests in flight the cap is lifted (the provider host runs up to 64 calls).
    UNCAPPED = 64

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, condition: Condition | None = None
    ) -> None:
        self._clock = clock
        self._cond: Condition = threading.Condition() if condition is None else condition
        self._in_flight = 0
        #: None: no cap. Else the most requests in flight.
        self._cap: int | None = None
        #: No request starts before this (a Retry-After).
        self._resume_at = 0.0
        #: Counts the halvings: a request's 429 halves the cap only if none happened since it started.
        self._wave = 0
        #: When the cap last changed: it grows by one per second without a 429.
        self._since = 0.0

    @property
    def cap(self) -> int | None:
        with self._cond:
            self._grow(self._clock())
            return self._cap

    @contextmanager
    def slot(self) -> Iterator[Callable[[float | None], None]]:
        """Hold a slot for one request; the callable it yields reports a 429 (with its
        ``Retry-After`` in seconds, or None)."""
        if stamina.is_testing():
            yield _ignore
            return
        with self._cond:
            while True:
                now = self._clock()
                self._grow(now)
                if now < self._resume_at:
                    self._cond.wait(self._resume_at - now)
                elif self._cap is not None and self._in_flight >= self._cap:
                    self._cond.wait(1.0)  # a slot frees up, or the cap grows
                else:
                    break
            self._in_flight += 1
            wave = self._wave

        def throttled(retry_after: float | None) -> None:
            self._throttled(wave, retry_after)

        try:
            yield throttled
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def _throttled(self, wave: int, retry_after: float | None) -> None:
        with self._cond:
            now = self._clock()
            if retry_after:
                self._resume_at = max(self._resume_at, now + retry_after)
            if wave == self._wave:
                self._wave += 1
                in_flight = self._in_flight if self._cap is None else min(self._cap, self._in_flight)
                self._cap = max(1, in_flight // 2)
                self._since = max(now, self._resume_at)
            self._cond.notify_all()

    def _grow(self, now: float) -> None:
        if self._cap is None or now <= self._since:
            return
        seconds = int(now - self._since)
        if seconds:
            self._cap += seconds
            self._since += seconds
            if self._cap >= self.UNCAPPED:
                self._cap = None
            self._cond.notify_all()


def _ignore(retry_after: float | None) -> None:
    return None
