"""Time that passes only while every thread taking part waits: real waits, made instant, in order.

A test of threads that wait (a ``Retry-After``, a backoff, a pause they share) would otherwise
wait in real time. On a :class:`VirtualTime` the clock stands still while any thread taking part
runs; when all of them wait, it jumps to the earliest deadline and wakes the threads waiting for
it. The threads see the events of a real run in the same order, as if their work and their I/O
took no time, and the test takes as long as that work, not as long as the waits.

Taking part: :meth:`VirtualTime.start` says how many threads will, each calls
:meth:`VirtualTime.done` when it ends; they wait with :meth:`VirtualTime.sleep` or on a
:meth:`VirtualTime.condition`. Threads that do not take part (a server answering them) may read
the clock but must not wait on it.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from types import TracebackType

__all__ = ["VirtualTime"]

#: A bound on any one real wait: a thread still blocked after it means that every thread waits
#: for something that never comes (a deadlock of the code under test), not a slow machine.
STUCK_AFTER = 120.0


@dataclass(eq=False)
class _Waiter:
    deadline: float
    #: The waiters of the condition this one waits on, if any: a notify wakes them all.
    group: list[_Waiter] | None
    event: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False


class VirtualTime:
    """A clock (epoch-like seconds, from ``start``) and the waits that run on it."""

    def __init__(self, start: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._now = start
        #: Threads taking part that are not waiting.
        self._running = 0
        self._waiting: list[_Waiter] = []
        #: How many waits the threads made: a test can check that they did wait on this clock.
        self.waits = 0

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def start(self, threads: int) -> None:
        """``threads`` more threads take part from now on."""
        with self._lock:
            self._running += threads

    def done(self) -> None:
        """The calling thread takes part no more."""
        with self._lock:
            self._running -= 1
            self._advance()

    def sleep(self, seconds: float) -> None:
        self._block(self._wait(seconds, None))

    def condition(self) -> Condition:
        """A :class:`threading.Condition` (one lock, ``wait`` and ``notify_all``) on this clock."""
        return Condition(self)

    # -- the scheduler, under self._lock --------------------------------------------------------

    def _wait(self, timeout: float | None, group: list[_Waiter] | None) -> _Waiter:
        with self._lock:
            deadline = math.inf if timeout is None else self._now + max(0.0, timeout)
            waiter = _Waiter(deadline, group)
            self.waits += 1
            self._running -= 1
            self._waiting.append(waiter)
            if group is not None:
                group.append(waiter)
            self._advance()
            return waiter

    def _notify(self, group: list[_Waiter]) -> None:
        with self._lock:
            for waiter in list(group):
                self._wake(waiter, timed_out=False)

    def _advance(self) -> None:
        """When no thread taking part runs, move to the earliest deadline and wake its waiters."""
        if self._running > 0 or not self._waiting:
            return
        deadline = min(waiter.deadline for waiter in self._waiting)
        if deadline == math.inf:
            return  # every thread waits for a notification that nothing can send: _block says so
        self._now = max(self._now, deadline)
        for waiter in [w for w in self._waiting if w.deadline <= self._now]:
            self._wake(waiter, timed_out=True)

    def _wake(self, waiter: _Waiter, *, timed_out: bool) -> None:
        self._waiting.remove(waiter)
        if waiter.group is not None:
            waiter.group.remove(waiter)
        # Running again from now on, before the thread itself wakes: the clock must not move
        # past what it is about to do.
        self._running += 1
        waiter.timed_out = timed_out
        waiter.event.set()

    @staticmethod
    def _block(waiter: _Waiter) -> None:
        if not waiter.event.wait(STUCK_AFTER):
            raise RuntimeError(
                f"every thread waits and none can wake the others (deadline {waiter.deadline})"
            )


class Condition:
    """A condition variable whose ``wait(timeout)`` times out on a :class:`VirtualTime`."""

    def __init__(self, time: VirtualTime) -> None:
        self._time = time
        self._lock = threading.Lock()
        self._waiters: list[_Waiter] = []

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait (the lock held) for a notification or for ``timeout`` virtual seconds."""
        waiter = self._time._wait(timeout, self._waiters)
        self._lock.release()
        try:
            self._time._block(waiter)
        finally:
            self._lock.acquire()
        return not waiter.timed_out

    def notify_all(self) -> None:
        self._time._notify(self._waiters)
