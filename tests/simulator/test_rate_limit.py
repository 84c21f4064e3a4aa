"""--rate-limit: a token bucket per key on the simulator's clock, 429 with or without Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from exoscale.api.exceptions import ExoscaleAPIClientException
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth

from pulumi_exo_distributor.simulator import (
    Credential,
    ManualClock,
    RunningSimulator,
    SimulatorConfig,
    run_simulator,
)
from pulumi_exo_distributor.simulator._app import simulator_of

from .conftest import ALICE, BOB, assert_conforms, valid_body

LIST = "list-distributor-organizations"


@contextmanager
def limited(rate: float, **options: object) -> Iterator[tuple[RunningSimulator, ManualClock]]:
    # The clock stands still unless a test moves it: the bucket refills only when told to.
    clock = ManualClock()
    config = SimulatorConfig(credentials=(ALICE, BOB), rate_limit=rate, **options)  # type: ignore[arg-type]
    with run_simulator(config, clock=clock) as sim:
        yield sim, clock


def session(who: Credential = ALICE) -> requests.Session:
    result = requests.Session()
    result.auth = ExoscaleV2Auth(who.key, who.secret)
    return result


def list_status(http: requests.Session, sim: RunningSimulator) -> requests.Response:
    return http.get(sim.url + "/distributor/organization")


def assert_limited(response: requests.Response, retry_after: str | None) -> None:
    assert response.headers["content-type"] == "application/json"
    assert_conforms(LIST, response.status_code, response.json(), rate_limited=True)
    assert response.status_code == 429
    assert response.headers.get("retry-after") == retry_after


def test_there_is_no_limit_by_default() -> None:
    assert SimulatorConfig().rate_limit == 0
    assert SimulatorConfig().retry_after_header is True


def test_a_burst_then_429_until_the_bucket_refills() -> None:
    with limited(2.0) as (sim, clock), session() as http:
        assert [list_status(http, sim).status_code for _ in range(2)] == [200, 200]
        assert_limited(list_status(http, sim), retry_after="1")
        assert_limited(list_status(http, sim), retry_after="1")  # refused requests take nothing
        clock.advance(0.5)  # one token at 2 per second
        assert list_status(http, sim).status_code == 200
        assert_limited(list_status(http, sim), retry_after="1")
        clock.advance(10.0)  # the bucket holds 2, not 20
        assert [list_status(http, sim).status_code for _ in range(3)] == [200, 200, 429]
        # Every request reached an operation, so every one is counted, refused or not.
        assert sim.stats()[LIST] == 9


def test_retry_after_is_the_wait_in_whole_seconds_rounded_up() -> None:
    with limited(0.25) as (sim, clock), session() as http:  # one request per 4 s
        assert list_status(http, sim).status_code == 200
        assert_limited(list_status(http, sim), retry_after="4")
        clock.advance(2.5)
        assert_limited(list_status(http, sim), retry_after="2")  # 1.5 s left
        clock.advance(1.5)
        assert list_status(http, sim).status_code == 200


def test_a_refused_create_creates_nothing() -> None:
    with limited(1.0) as (sim, _), session() as http:
        url = sim.url + "/distributor/organization"
        assert http.post(url, json=valid_body()).status_code == 200
        assert_limited(http.post(url, json=valid_body()), retry_after="1")
        assert len(simulator_of(sim.app).store.list(ALICE.key)) == 1
        assert sim.stats()["create-distributor-organization"] == 2


def test_each_key_has_its_own_budget() -> None:
    with limited(1.0) as (sim, _), session(ALICE) as alice, session(BOB) as bob:
        assert list_status(alice, sim).status_code == 200
        assert list_status(alice, sim).status_code == 429
        assert list_status(bob, sim).status_code == 200
        assert list_status(bob, sim).status_code == 429


def test_unsigned_requests_take_nothing_from_a_keys_budget() -> None:
    with limited(1.0) as (sim, _), session() as http:
        wrong = Client(ALICE.key, "not-the-secret", url=sim.url)
        for _ in range(5):
            with pytest.raises(Exception, match="403"):
                wrong.list_distributor_organizations()
        assert list_status(http, sim).status_code == 200


def test_the_limit_holds_for_unknown_paths_too() -> None:
    # A gateway counts what a key sends, before it knows whether the path exists.
    with limited(1.0) as (sim, _), session() as http:
        assert http.get(sim.url + "/no/such/thing").status_code == 404
        assert_limited(list_status(http, sim), retry_after="1")


@pytest.mark.parametrize("header", [True, False])
def test_retry_after_can_be_left_out_of_limits_and_faults(header: bool) -> None:
    with limited(1.0, retry_after_header=header) as (sim, _), session() as http:
        list_status(http, sim)
        assert_limited(list_status(http, sim), retry_after="1" if header else None)
    faults = SimulatorConfig(
        credentials=(ALICE,), fault_rate=1.0, fault_kinds=("429",), retry_after_header=header
    )
    with run_simulator(faults) as sim, session() as http:
        assert_limited(list_status(http, sim), retry_after="1" if header else None)


def test_the_official_client_sees_a_429() -> None:
    with limited(1.0) as (sim, _):
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        client.list_distributor_organizations()
        with pytest.raises(ExoscaleAPIClientException) as info:
            client.list_distributor_organizations()
        assert info.value.response.status_code == 429
        assert_conforms(LIST, 429, info.value.response.json(), rate_limited=True)
