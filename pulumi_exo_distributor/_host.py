"""The dynamic-provider host's worker pool: lift its cap of 4 calls at once.

Pulumi's Python SDK serves a dynamic provider's gRPC calls (``pulumi/dynamic/__main__.py``) with
``futures.ThreadPoolExecutor(max_workers=4)``: whatever ``pulumi up --parallel`` says, at most 4
creates, reads, updates or deletes run at once, and the others queue in the host. Our calls spend
their time waiting on the Partner API, so 4 is the cap of the whole deployment.

The SDK offers no setting for it, so :func:`lift_worker_cap`, called from the provider's
``configure()``, finds the executor that runs the call it is made from (a worker thread of that
executor holds a weak reference to it) and raises its ``_max_workers``. ``ThreadPoolExecutor``
starts a thread only when a call arrives and no thread is idle, so a high cap costs nothing
unless the engine sends that many calls: the engine's ``--parallel`` stays the real cap.

Everything it touches is private to CPython's ``concurrent.futures``; each step is checked, and
where one does not hold (another Python, another host) nothing is changed and the host keeps
its 4 workers. ``EXO_DISTRIBUTOR_PROVIDER_WORKERS`` sets the cap (``4`` keeps the SDK's).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as _futures_thread

__all__ = ["DEFAULT_WORKERS", "ENV_WORKERS", "lift_worker_cap"]

logger = logging.getLogger("pulumi_exo_distributor")

#: The environment variable that sets the cap (a whole number; the SDK's own is 4).
ENV_WORKERS = "EXO_DISTRIBUTOR_PROVIDER_WORKERS"
#: Far above the engine's default ``--parallel`` (4 per core): the engine decides.
DEFAULT_WORKERS = 64


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
    if wanted > current:
        # Read by _adjust_thread_count at every submit: the next queued call gets a new thread.
        executor._max_workers = wanted
        logger.debug("dynamic provider host: up to %d calls at once (was %d)", wanted, current)
        return wanted
    return current
