"""Lifting the dynamic-provider host's cap of 4 calls at once, from inside a call, for the calls that
wait on the API; the others keep to the pool's 4 threads."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_exo_distributor import _provider
from pulumi_exo_distributor._host import (
    DEFAULT_WORKERS,
    ENV_WORKERS,
    api_wait,
    lift_worker_cap,
)
from pulumi_exo_distributor._provider import DistributorOrganizationProvider


def test_a_call_lifts_the_cap_of_the_pool_that_runs_it() -> None:
    # The SDK's host: ThreadPoolExecutor(max_workers=4) serving gRPC calls.
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert pool.submit(lift_worker_cap, 16).result() == 16
        # 16 calls waiting on the API at once now: each waits for the 15 others; with 4 workers
        # they would time out.
        barrier = threading.Barrier(16, timeout=30)
        calls = [pool.submit(_waiting_on_api, barrier.wait) for _ in range(16)]
        assert sorted(call.result() for call in calls) == list(range(16))


def _waiting_on_api(wait: Callable[[], int]) -> int:
    with api_wait():
        return wait()


def _most_at_once(pool: ThreadPoolExecutor, calls: int) -> int:
    """The most of ``calls`` calls that wait on nothing but take a while running at once."""
    running, most = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    for call in [pool.submit(work) for _ in range(calls)]:
        call.result()
    return most


def test_calls_that_do_not_wait_on_the_api_keep_to_the_pools_four_threads() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert pool.submit(lift_worker_cap, 16).result() == 16
        assert _most_at_once(pool, 32) == 4


def test_a_call_back_from_the_api_goes_on_without_queueing_again() -> None:
    # It holds a lock that the calls started meanwhile wait for: queueing behind them would never end.
    lock = threading.Lock()
    holder_waits, others_started = threading.Event(), threading.Semaphore(0)

    def holder() -> str:
        with lock:
            holder_waits.set()
            with api_wait():
                for _ in range(4):
                    assert others_started.acquire(timeout=10)
                time.sleep(0.05)  # they are now blocked on the lock, in every place
            return "done"

    def other() -> None:
        others_started.release()
        with lock:
            pass

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert pool.submit(lift_worker_cap, 16).result() == 16
        first = pool.submit(holder)
        assert holder_waits.wait(10)
        rest = [pool.submit(other) for _ in range(4)]
        assert first.result(timeout=10) == "done"
        for call in rest:
            call.result(timeout=10)


def test_outside_the_host_a_wait_on_the_api_changes_nothing() -> None:
    with api_wait():
        pass


def test_the_pool_grows_to_the_calls_in_flight_whatever_its_idle_count_says() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        idle = pool._idle_semaphore
        assert pool.submit(lift_worker_cap, 16).result() == 16
        # CPython's pool starts a thread for a call only when its count of idle permits is zero.
        # Permits that outnumber the idle threads (as the host's pool was seen to hold, staying at
        # 5 workers under 8 calls) would let 8 calls that wait for one another share 5 threads.
        for _ in range(4):
            idle.release()
        barrier = threading.Barrier(8, timeout=10)
        calls = [pool.submit(_waiting_on_api, barrier.wait) for _ in range(8)]
        assert sorted(call.result() for call in calls) == list(range(8))


def test_it_never_lowers_the_cap() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert pool.submit(lift_worker_cap, 2).result() == 4
        assert pool._max_workers == 4


def test_outside_a_pool_nothing_changes() -> None:
    assert lift_worker_cap(16) is None


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12), ("4", 4), ("", DEFAULT_WORKERS), ("x", DEFAULT_WORKERS)]
)
def test_the_environment_sets_the_cap(monkeypatch: pytest.MonkeyPatch, value: str, expected: int) -> None:
    monkeypatch.setenv(ENV_WORKERS, value)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert pool.submit(lift_worker_cap).result() == max(4, expected)


def test_configure_lifts_it_in_the_provider_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_provider, "in_dynamic_provider_host", lambda: True)
    monkeypatch.setattr(sys, "tracebacklimit", 1000, raising=False)
    provider = DistributorOrganizationProvider()
    request = ConfigureRequest(Config(raw_config={}, project_name="p"))
    with ThreadPoolExecutor(max_workers=4) as pool:
        pool.submit(provider.configure, request).result()
        barrier = threading.Barrier(DEFAULT_WORKERS, timeout=30)
        calls = [pool.submit(_waiting_on_api, barrier.wait) for _ in range(DEFAULT_WORKERS)]
        assert sorted(call.result() for call in calls) == list(range(DEFAULT_WORKERS))


def test_a_process_runs_until_it_ends_and_is_known_by_its_start_time() -> None:
    # The engine's liveness: a pid alone could be another process's after the engine ended.
    from pulumi_exo_distributor._host import _running, _stat

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = _stat(child.pid)[19]
        assert _running(child.pid, started)
        assert not _running(child.pid, str(int(started) + 1))
        child.kill()
        deadline = time.monotonic() + 10
        while _stat(child.pid)[0] != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _running(child.pid, started)  # killed, not reaped yet: a zombie
    finally:
        child.kill()
        child.wait()
    assert not _running(child.pid, started)  # reaped: gone
