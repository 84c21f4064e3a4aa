"""Injected faults, each kind alone at rate 1.0, as a client sees them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
import requests
from exoscale.api.exceptions import ExoscaleAPIClientException, ExoscaleAPIServerException
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth

from pulumi_exo_distributor.simulator import RunningSimulator, SimulatorConfig, run_simulator
from pulumi_exo_distributor.simulator._app import simulator_of

from .conftest import ALICE, assert_conforms, kwargs_of, valid_body

CREATE = "create-distributor-organization"


@contextmanager
def faulty(kind: str, slow_s: float = 30.0) -> Iterator[RunningSimulator]:
    config = SimulatorConfig(credentials=(ALICE,), fault_rate=1.0, fault_kinds=(kind,), seed=1, slow_s=slow_s)
    with run_simulator(config) as sim:
        yield sim


def stored(sim: RunningSimulator) -> int:
    """How many organizations ALICE has, read from the store, behind the faults' back."""
    return len(simulator_of(sim.app).store.list(ALICE.key))


def create(sim: RunningSimulator, client: httpx.Client) -> httpx.Response:
    request = requests.Request("POST", sim.url + "/distributor/organization", json=valid_body()).prepare()
    ExoscaleV2Auth(ALICE.key, ALICE.secret)(request)
    assert isinstance(request.body, bytes)
    headers = {name: str(value) for name, value in request.headers.items()}
    return client.post(request.url or "", content=request.body, headers=headers)


@pytest.mark.parametrize(("kind", "status"), [("429", 429), ("500", 500), ("503", 503)])
def test_error_faults_answer_and_do_nothing(kind: str, status: int) -> None:
    with faulty(kind) as sim:
        with httpx.Client() as client:
            response = create(sim, client)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        assert isinstance(response.json()["message"], str)
        assert set(response.json()) == {"message"}
        if kind == "429":
            assert response.headers["retry-after"] == "1"
        else:
            assert "retry-after" not in response.headers
        assert sim.stats()[CREATE] == 1
        assert stored(sim) == 0


def test_the_official_client_sees_the_error_faults() -> None:
    with faulty("503") as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        with pytest.raises(ExoscaleAPIServerException):
            client.list_distributor_organizations()
    with faulty("429") as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        with pytest.raises(ExoscaleAPIClientException) as info:
            client.list_distributor_organizations()
        assert info.value.response.status_code == 429


def test_reset_before_drops_the_connection_and_does_nothing() -> None:
    with faulty("reset-before") as sim:
        with httpx.Client() as client, pytest.raises(httpx.TransportError) as info:
            create(sim, client)
        # A lost connection, not an HTTP answer of any kind.
        assert isinstance(info.value, (httpx.RemoteProtocolError, httpx.ReadError))
        assert sim.stats()[CREATE] == 1
        assert stored(sim) == 0


def test_reset_after_commits_then_drops_the_connection() -> None:
    with faulty("reset-after") as sim:
        with httpx.Client() as client, pytest.raises(httpx.TransportError) as info:
            create(sim, client)
        assert isinstance(info.value, (httpx.RemoteProtocolError, httpx.ReadError))
        assert stored(sim) == 1


def test_the_official_client_sees_a_reset_as_a_connection_error() -> None:
    with faulty("reset-after") as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        with pytest.raises(requests.ConnectionError):
            client.create_distributor_organization(**kwargs_of(valid_body()))
        assert stored(sim) == 1


def test_slow_answers_normally_after_the_delay() -> None:
    with faulty("slow", slow_s=0.4) as sim:
        with httpx.Client() as client:
            started = time.monotonic()
            response = create(sim, client)
            elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert_conforms(CREATE, 200, response.json())
        assert elapsed >= 0.4
        # A client that gives up sooner times out, though the work is done. When the server
        # commits is not ours to know: wait for the commit itself, not for a guessed delay.
        # Only the wait for the answer is short: a connect timeout on a busy machine is no
        # answer to this question.
        with httpx.Client(timeout=httpx.Timeout(30.0, read=0.1)) as client, pytest.raises(httpx.ReadTimeout):
            create(sim, client)
        assert eventually(lambda: stored(sim) == 2)


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Whether ``condition`` becomes true within ``timeout`` s (a bound, never an expectation)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_faults_never_hit_the_sim_endpoints() -> None:
    with faulty("500") as sim:
        for _ in range(5):
            stats = httpx.get(sim.root_url + "/_sim/stats")
            assert stats.status_code == 200
            assert httpx.post(sim.root_url + "/_sim/reset-stats").status_code == 200


def test_unknown_paths_draw_no_fault() -> None:
    with faulty("500") as sim:
        response = requests.get(sim.url + "/nothing/here", auth=ExoscaleV2Auth(ALICE.key, ALICE.secret))
        assert response.status_code == 404


def test_a_fault_rate_is_a_probability_and_a_seed_makes_it_repeatable() -> None:
    def outcomes(seed: int) -> list[int]:
        config = SimulatorConfig(credentials=(ALICE,), fault_rate=0.5, fault_kinds=("500", "503"), seed=seed)
        with run_simulator(config) as sim, requests.Session() as session:
            session.auth = ExoscaleV2Auth(ALICE.key, ALICE.secret)
            return [session.get(sim.url + "/distributor/organization").status_code for _ in range(60)]

    first = outcomes(42)
    assert first == outcomes(42)
    assert first != outcomes(43)
    assert set(first) == {200, 500, 503}
    assert 15 <= first.count(200) <= 45


def test_mixed_kinds_keep_the_server_healthy() -> None:
    config = SimulatorConfig(credentials=(ALICE,), fault_rate=0.7, seed=5, slow_s=0.01)
    with run_simulator(config) as sim:
        seen = set()
        for _ in range(40):
            with requests.Session() as session:
                session.auth = ExoscaleV2Auth(ALICE.key, ALICE.secret)
                try:
                    response = session.post(sim.url + "/distributor/organization", json=valid_body())
                    seen.add(response.status_code)
                    json.loads(response.text)
                except requests.ConnectionError:
                    seen.add(0)
        assert seen == {0, 200, 429, 500, 503}
        assert sim.stats()[CREATE] == 40
