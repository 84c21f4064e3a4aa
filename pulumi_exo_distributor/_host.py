"""Where a provider process runs: the dynamic-provider host and its worker pool (lift its cap of 4
calls at once), the engine's address and process, the deployment's shared directory.

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

import contextlib
import hashlib
import logging
import os
import shutil
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as _futures_thread
from pathlib import Path

from ._config import package_home

__all__ = [
    "DEFAULT_WORKERS",
    "ENV_WORKERS",
    "deployment_directory",
    "engine_address",
    "in_dynamic_provider_host",
    "lift_worker_cap",
]


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


def _engine_process() -> tuple[int, str]:
    """The engine (the ``pulumi`` CLI) that started this provider process: its pid and start time.

    A plugin is the engine's child; the dynamic-provider host runs under a shell script of the
    engine's: the nearest ancestor running ``pulumi``, else the parent."""
    pid = os.getppid()
    found = pid
    for _ in range(8):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            break
        if exe == "pulumi":
            found = pid
            break
        pid = int(stat[1])
        if pid <= 1:
            break
    try:
        started = Path(f"/proc/{found}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        started = ""
    return found, started


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
