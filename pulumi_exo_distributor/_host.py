"""The dynamic-provider host's worker pool: lift its cap of 4 calls at once.

Pulumi's Python SDK serves a dynamic provider's gRPC calls (``pulumi/dynamic/__main__.py``) with
``futures.ThreadPoolExecutor(max_workers=4)``: whatever ``pulumi up --parallel`` says, at most 4
creates, reads, updates or deletes run at once, and the others queue in the host. Our calls spend
their time waiting on the Partner API, so 4 is the cap of the whole deployment.

The SDK offers no setting for it, so :func:`lift_worker_cap`, called from the provider's
``configure()``, finds the executor that runs the call it is made from (a worker thread of that
executor holds a weak reference to it) and raises its ``_max_workers``. That alone is not enough:
``ThreadPoolExecutor`` starts a thread only when a call arrives and its count of idle permits is
zero, and every finished call adds a permit whether or not its thread is then taken again, so
after a burst the pool stays at a few workers while the engine sends more calls than that
(measured: 5 of 8 destroys of 1,000 organizations ran on 5 workers, 12-13 s instead of 9 s). The
count is replaced by one that is never idle: each queued call starts a worker until the cap is
reached, so the pool really grows to the parallelism the engine asks for, and the engine's
``--parallel`` stays the real cap (an idle worker costs a blocked thread).

Everything it touches is private to CPython's ``concurrent.futures``; each step is checked, and
where one does not hold (another Python, another host) nothing is changed and the host keeps
its 4 workers. ``EXO_DISTRIBUTOR_PROVIDER_WORKERS`` sets the cap (``4`` keeps the SDK's).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as _futures_thread

__all__ = ["DEFAULT_WORKERS", "ENV_WORKERS", "engine_address", "in_dynamic_provider_host", "lift_worker_cap"]


class _NeverIdle:
    """Stands for the executor's count of idle workers (``_idle_semaphore``): none."""

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        return False

    def release(self, n: int = 1) -> None:
        pass


logger = logging.getLogger("pulumi_exo_distributor")

#: The environment variable that sets the cap (a whole number; the SDK's own is 4).
ENV_WORKERS = "EXO_DISTRIBUTOR_PROVIDER_WORKERS"
#: Far above the engine's default ``--parallel`` (4 per core): the engine decides.
DEFAULT_WORKERS = 64


def in_dynamic_provider_host() -> bool:
    """Whether this process is the SDK's dynamic-provider host (``python -m pulumi.dynamic``)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", "") == "pulumi.dynamic.__main__"


def engine_address(args: Sequence[str] | None = None) -> str:
    """The engine's address, which the engine gives every provider plugin it starts: the first of
    ``args`` (default ``sys.argv[1:]``) that is not a flag, as the SDK's provider servers read it."""
    return next((arg for arg in (sys.argv[1:] if args is None else args) if not arg.startswith("-")), "")


def _requested_workers() -> int:
    text = os.environ.get(ENV_WORKERS, "").strip()
    if not text:
        return DEFAULT_WORKERS
    try:
        workers = int(text)
    except ValueError:
        logger.warning("%s=%r is not a whole number: using %d", ENV_WORKERS, text, DEFAULT_WORKERS)
        return DEFAULT_WORKERS
    return max(1, workers)


def _current_executor() -> ThreadPoolExecutor | None:
    """The ThreadPoolExecutor whose worker thread is running this code, if it is one."""
    thread = threading.current_thread()
    target = getattr(thread, "_target", None)
    args = getattr(thread, "_args", None)
    # A worker is Thread(target=_worker, args=(weakref to its executor, ...)) from 3.8 to 3.14.
    if target is not getattr(_futures_thread, "_worker", None) or not isinstance(args, tuple) or not args:
        return None
    reference = args[0]
    if not isinstance(reference, weakref.ref):
        return None
    executor = reference()
    return executor if isinstance(executor, ThreadPoolExecutor) else None


def lift_worker_cap(workers: int | None = None) -> int | None:
    """Let the executor serving this call run up to ``workers`` calls at once (default:
    ``EXO_DISTRIBUTOR_PROVIDER_WORKERS``, else 64). Never lowers it.

    Call it from a provider's ``configure()`` in the dynamic-provider host. Returns the cap now
    in force, or ``None`` if this is not a ThreadPoolExecutor worker or the executor is not
    shaped as expected (then nothing is changed).
    """
    wanted = _requested_workers() if workers is None else max(1, workers)
    executor = _current_executor()
    current = getattr(executor, "_max_workers", None)
    if executor is None or not isinstance(current, int) or not hasattr(executor, "_adjust_thread_count"):
        logger.debug("dynamic provider host: worker pool not found, left as it is")
        return None
    if hasattr(executor, "_idle_semaphore"):
        executor._idle_semaphore = _NeverIdle()  # type: ignore[assignment]
    if wanted > current:
        # Read by _adjust_thread_count at every submit: the next queued call gets a new thread.
        executor._max_workers = wanted
        logger.debug("dynamic provider host: up to %d calls at once (was %d)", wanted, current)
        return wanted
    return current
