"""Where a provider process runs: the dynamic-provider host and its worker pool (a thread more
for each call waiting on the API, beyond the SDK's 4), the engine's address and process, the
deployment's shared directory.

Pulumi's Python SDK serves a dynamic provider's gRPC calls (``pulumi/dynamic/__main__.py``) with
``futures.ThreadPoolExecutor(max_workers=4)``: whatever ``pulumi up --parallel`` says, at most 4
creates, reads, updates or deletes run at once, and the others queue in the host. Our calls spend
their time waiting on the Partner API, so 4 is the cap of the whole deployment.

The SDK offers no setting for it, so :func:`lift_worker_cap`, called from the provider's
``configure()``, finds the executor that runs the call it is made from (a worker thread of that
executor holds a weak reference to it) and gives it a cap (64, or
``EXO_DISTRIBUTOR_PROVIDER_WORKERS``). The pool keeps its 4 threads for calls that run Python.
A call about to wait on the API (:func:`api_wait`, around each operation's requests, retries and
waits), when fewer than 4 threads are not waiting, raises the pool's ``_max_workers`` to 4 plus
the calls waiting and has a thread started, so the next queued call runs meanwhile. The pool so
grows to 4 plus the most calls that waited on the API at once, up to the cap, and the engine's
``--parallel`` is the real bound. A thread once started stays (CPython's pool never ends one).

A thread for each call the engine sends, as before, cost more where calls wait on nothing: a
refresh of 1,000 organizations, whose reads wait on nothing once the organizations are listed,
took 7 % longer on 8 or 64 threads than on 4 (8 calls running Python at once only compete for one
interpreter). Threads beyond the need parked after their call would keep that to 4, but cost 7 %
on an ``up`` and ``destroy`` of 200 organizations, whose calls go in and out of their waits.

``ThreadPoolExecutor`` starts a thread only when its count of idle permits is zero, and every
finished call adds a permit whether or not its thread is then taken again: after a burst the
count says idle while no thread is (measured: 5 of 8 destroys of 1,000 organizations ran on 5
threads, 12-13 s instead of 9 s). The count is replaced by one that is never idle, so a thread is
started whenever the pool has fewer than ``_max_workers``.

Everything it touches is private to CPython's ``concurrent.futures``; each step is checked, and
where one does not hold (another Python, another host) nothing is changed and the host keeps
its 4 workers. ``EXO_DISTRIBUTOR_PROVIDER_WORKERS`` sets the cap (``4`` keeps the SDK's).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as _futures_thread
from pathlib import Path
from typing import TYPE_CHECKING

from ._config import package_home

if TYPE_CHECKING:
    from .core.claims import Claims

__all__ = [
    "DEFAULT_WORKERS",
    "ENV_WORKERS",
    "api_wait",
    "deployment_claims",
    "deployment_directory",
    "engine_address",
    "engine_liveness",
    "in_dynamic_provider_host",
    "lift_worker_cap",
]


logger = logging.getLogger("pulumi_exo_distributor")

#: The environment variable that sets the cap (a whole number; the SDK's own is 4).
ENV_WORKERS = "EXO_DISTRIBUTOR_PROVIDER_WORKERS"
#: Far above the engine's default ``--parallel`` (4 per core): the engine decides.
DEFAULT_WORKERS = 64


class _Pool:
    """Which of a pool's threads take calls: its own count (the SDK's 4), plus one for each call
    waiting on the API, up to ``cap`` threads in all.

    It stands for the pool's count of idle threads (``_idle_semaphore``), which the pool asks at
    each submit: it says none is idle, so the pool starts a thread whenever it has fewer than
    ``_max_workers``, which a wait on the API raises."""

    def __init__(self, executor: ThreadPoolExecutor, cap: int) -> None:
        self._executor = weakref.ref(executor)
        self.cap = cap
        self._base: int = executor._max_workers
        self._lock = threading.Lock()
        self._waiting = 0

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        return False

    def release(self, n: int = 1) -> None:
        pass

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        executor = self._executor()
        with self._lock:
            self._waiting += 1
            if executor is not None and len(executor._threads) - self._waiting < self._base:
                with executor._shutdown_lock:  # submit's own: the pool starts its threads under it
                    if not executor._shutdown:
                        # Never lowered: CPython's pool never ends a thread anyway. The next
                        # submits start threads up to it too.
                        wanted = min(self.cap, self._base + self._waiting)
                        executor._max_workers = max(executor._max_workers, wanted)
                        executor._adjust_thread_count()
        del executor
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1


#: The pools whose cap :func:`lift_worker_cap` lifted.
_pools: weakref.WeakKeyDictionary[ThreadPoolExecutor, _Pool] = weakref.WeakKeyDictionary()


def api_wait() -> contextlib.AbstractContextManager[None]:
    """Around a wait on the API. In a call of the dynamic-provider host, once its cap is lifted,
    another thread takes the next queued call meanwhile (up to the cap); back from the wait, the
    call goes on at once. Anywhere else, nothing."""
    executor = _current_executor()
    pool = _pools.get(executor) if executor is not None else None
    return pool.waiting() if pool is not None else contextlib.nullcontext()


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
    """Let the executor serving this call run up to ``workers`` calls at once, counting those
    waiting on the API (default: ``EXO_DISTRIBUTOR_PROVIDER_WORKERS``, else 64). Never lowers it.

    Call it from a provider's ``configure()`` in the dynamic-provider host. Returns the cap now
    in force, or ``None`` if this is not a ThreadPoolExecutor worker or the executor is not
    shaped as expected (then nothing is changed).
    """
    wanted = _requested_workers() if workers is None else max(1, workers)
    executor = _current_executor()
    current = getattr(executor, "_max_workers", None)
    if (
        executor is None
        or not isinstance(current, int)
        or not all(
            hasattr(executor, name)
            for name in ("_adjust_thread_count", "_idle_semaphore", "_shutdown_lock", "_shutdown", "_threads")
        )
    ):
        logger.debug("dynamic provider host: worker pool not found, left as it is")
        return None
    if wanted <= current:
        return current
    pool = _pools.get(executor)
    if pool is None:
        pool = _pools[executor] = _Pool(executor, wanted)
        executor._idle_semaphore = pool  # type: ignore[assignment]
    pool.cap = max(pool.cap, wanted)
    logger.debug(
        "dynamic provider host: up to %d calls at once, waiting on the API (was %d)", pool.cap, current
    )
    return pool.cap


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command's name: its state first, its start time
    at 19. OSError or IndexError where there is no such process (or no /proc)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _engine_process() -> tuple[int, str]:
    """The engine (the ``pulumi`` CLI) that started this provider process: its pid and start time.

    A plugin is the engine's child; the dynamic-provider host runs under a shell script of the
    engine's: the nearest ancestor running ``pulumi``, else the parent."""
    pid = os.getppid()
    found = pid
    for _ in range(8):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            stat = _stat(pid)
        except (OSError, IndexError):
            break
        if exe == "pulumi":
            found = pid
            break
        pid = int(stat[1])
        if pid <= 1:
            break
    try:
        started = _stat(found)[19]
    except (OSError, IndexError):
        started = ""
    return found, started


def _running(pid: int, started: str) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs (not ended, nor a zombie)."""
    try:
        fields = _stat(pid)
    except (OSError, IndexError):
        return False
    return fields[0] != "Z" and fields[19] == started


def engine_liveness() -> Callable[[], bool]:
    """Whether the engine that started this provider process still runs. The engine starts its
    plugins in process groups of their own: killed alone, it leaves them finishing their calls,
    whose answers then reach no state. Always true where that cannot be told (no /proc)."""
    pid, started = _engine_process()
    if not started:
        return lambda: True
    return lambda: _running(pid, started)


def deployment_claims(engine_address: str | None) -> Claims | None:
    """The organizations' claims shared with the deployment's other provider processes; None when
    the engine's address is not known (the claims then stay the process's own)."""
    from .core.claims import Claims

    return Claims(shared=deployment_directory(engine_address)) if engine_address else None


def deployment_directory(engine_address: str) -> Path:
    """Where the deployment that started this process keeps the organizations' claims, shared by
    every provider process it started (the default provider, each explicit one, the
    dynamic-provider host): see :class:`pulumi_exo_distributor.core.claims.Claims`.

    The deployment is named by its engine's address and the engine process (with its start time,
    so that a reused port or pid names another one). Directories of past deployments are removed
    after a day.
    """
    root = package_home() / "deployment-claims"
    engine, started = _engine_process()
    name = hashlib.sha256(f"{engine_address}\0{engine}\0{started}".encode()).hexdigest()[:24]
    with contextlib.suppress(OSError):
        for old in root.iterdir():
            if old.name != name and time.time() - old.stat().st_mtime > 86400:
                shutil.rmtree(old, ignore_errors=True)
    return root / name
