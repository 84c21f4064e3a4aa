"""The client-wide throttle: a 429 pauses every request and halves those in flight, once per wave."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import stamina

from pulumi_exo_distributor._throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def real_retries() -> Iterator[None]:
    with stamina.set_testing(False):
        yield


def test_no_cap_until_a_429() -> None:
    throttle = Throttle(Clock())
    with ExitStack() as stack:
        for _ in range(100):
            stack.enter_context(throttle.slot())
    assert throttle.cap is None


def test_a_wave_of_429s_halves_the_cap_once_and_pauses_everyone() -> None:
    clock = Clock()
    throttle = Throttle(clock)
    with ExitStack() as stack:
        reports = [stack.enter_context(throttle.slot()) for _ in range(8)]
        for report in reports:  # the whole wave is refused
            report(1.0)
        assert throttle.cap == 4
    assert throttle._resume_at == clock.now + 1.0
    # The next wave, after the pause: four in flight, a 429 halves again.
    clock.now += 1.0
    with ExitStack() as stack:
        reports = [stack.enter_context(throttle.slot()) for _ in range(4)]
        reports[-1](1.0)
    assert throttle.cap == 2


def test_the_cap_grows_by_one_per_second_without_a_429_and_then_goes() -> None:
    clock = Clock()
    throttle = Throttle(clock)
    with ExitStack() as stack:
        reports = [stack.enter_context(throttle.slot()) for _ in range(4)]
        reports[0](None)  # no Retry-After: no pause, still fewer in flight
    assert throttle.cap == 2
    assert throttle._resume_at == 0.0
    clock.now += 3.5
    assert throttle.cap == 5
    clock.now += Throttle.UNCAPPED
    assert throttle.cap is None


def test_stamina_testing_turns_it_off() -> None:
    throttle = Throttle(Clock())
    with stamina.set_testing(True), throttle.slot() as report:
        report(3600.0)
    assert throttle.cap is None
    assert throttle._resume_at == 0.0
