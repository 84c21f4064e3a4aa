"""Statuses, transitions, idempotency, conflicts and purges."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
import requests
from exoscale.api.exceptions import ExoscaleAPIClientException
from exoscale.api.partner import Client

from pulumi_exo_distributor.simulator import ManualClock, SimulatorConfig, run_simulator

from .conftest import ALICE, BOB, assert_conforms, kwargs_of, names, valid_body

CALLS = {
    "activate": ("activate-distributor-organization", "activate_distributor_organization"),
    "suspend": ("suspend-distributor-organization", "suspend_distributor_organization"),
    "terminate": ("terminate-distributor-organization", "terminate_distributor_organization"),
    "schedule-purge": ("schedule-purge-distributor-organization", "schedule_purge_distributor_organization"),
}

# How to reach each status from a fresh (created) organization.
REACH = {"created": [], "active": ["activate"], "suspended": ["suspend"], "terminated": ["terminate"]}

# (from, action) -> resulting status, or 409.
TRANSITIONS: dict[tuple[str, str], str | int] = {
    ("created", "activate"): "active",
    ("created", "suspend"): "suspended",
    ("created", "terminate"): "terminated",
    ("active", "activate"): "active",
    ("active", "suspend"): "suspended",
    ("active", "terminate"): "terminated",
    ("suspended", "activate"): "active",
    ("suspended", "suspend"): "suspended",
    ("suspended", "terminate"): "terminated",
    ("terminated", "activate"): 409,
    ("terminated", "suspend"): 409,
    ("terminated", "terminate"): "terminated",
}


def call(client: Client, action: str, org_id: str) -> Any:
    return getattr(client, CALLS[action][1])(id=org_id)


def fail(client: Client, action: str, org_id: str) -> tuple[int, str]:
    with pytest.raises(ExoscaleAPIClientException) as info:
        call(client, action, org_id)
    response = info.value.response
    assert_conforms(CALLS[action][0], response.status_code, response.json())
    return response.status_code, response.json()["message"]


def status_of(client: Client, org_id: str) -> str:
    status: str = client.get_distributor_organization(id=org_id)["status"]
    return status


@pytest.mark.parametrize(("start", "action"), list(TRANSITIONS), ids=[f"{s}-{a}" for s, a in TRANSITIONS])
def test_transition(client: Client, org: dict[str, Any], start: str, action: str) -> None:
    for step in REACH[start]:
        call(client, step, org["id"])
    assert status_of(client, org["id"]) == start
    expected = TRANSITIONS[start, action]
    if expected == 409:
        status, message = fail(client, action, org["id"])
        assert status == 409
        assert names(message, org["id"]), message
        assert status_of(client, org["id"]) == start
        return
    answer = call(client, action, org["id"])
    assert_conforms(CALLS[action][0], 200, answer)
    if action != "terminate":
        assert answer["status"] == expected
    assert status_of(client, org["id"]) == expected


def test_activate_and_suspend_are_idempotent(client: Client, org: dict[str, Any]) -> None:
    assert call(client, "activate", org["id"]) == call(client, "activate", org["id"])
    assert call(client, "suspend", org["id"]) == call(client, "suspend", org["id"])


def test_terminate_is_idempotent(client: Client, org: dict[str, Any]) -> None:
    first = call(client, "terminate", org["id"])
    second = call(client, "terminate", org["id"])
    assert first == second
    assert status_of(client, org["id"]) == "terminated"
    assert SimulatorConfig().terminate_again == 200


@pytest.mark.parametrize("again", [200, 404, 409])
@pytest.mark.parametrize("start", ["created", "active", "suspended"])
def test_terminate_again_answers_as_configured(again: Literal[200, 404, 409], start: str) -> None:
    with run_simulator(SimulatorConfig(credentials=(ALICE,), terminate_again=again)) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        org = client.create_distributor_organization(**kwargs_of(valid_body()))
        for step in REACH[start]:
            call(client, step, org["id"])
        first = call(client, "terminate", org["id"])  # the first terminate succeeds in every mode
        assert_conforms(CALLS["terminate"][0], 200, first)
        if again == 200:
            assert call(client, "terminate", org["id"]) == first
        else:
            status, message = fail(client, "terminate", org["id"])
            assert status == again
            assert org["id"] in message
        # Whatever the answer, the organization is as it was: terminated, readable, purgeable.
        assert status_of(client, org["id"]) == "terminated"
        assert sim.stats()["terminate-distributor-organization"] == 2
        call(client, "schedule-purge", org["id"])
        assert_gone(client, org["id"])


def test_a_terminated_organization_is_still_listed(client: Client, org: dict[str, Any]) -> None:
    call(client, "terminate", org["id"])
    listed = {item["id"]: item for item in client.list_distributor_organizations()["organizations"]}
    assert listed[org["id"]]["status"] == "terminated"


@pytest.mark.parametrize("start", ["created", "active", "suspended"])
def test_purge_needs_a_terminated_organization(client: Client, org: dict[str, Any], start: str) -> None:
    for step in REACH[start]:
        call(client, step, org["id"])
    status, message = fail(client, "schedule-purge", org["id"])
    assert status == 409
    assert names(message, org["id"]), message
    assert status_of(client, org["id"]) == start


def assert_gone(client: Client, org_id: str) -> None:
    for action in ("activate", "suspend", "terminate", "schedule-purge"):
        status, _ = fail(client, action, org_id)
        assert status == 404, action
    for method in ("get_distributor_organization", "list_distributor_organization_usage"):
        with pytest.raises(ExoscaleAPIClientException) as info:
            getattr(client, method)(id=org_id)
        assert info.value.response.status_code == 404
    assert org_id not in {item["id"] for item in client.list_distributor_organizations()["organizations"]}


def test_immediate_purge_is_200_and_the_organization_is_gone(client: Client, org: dict[str, Any]) -> None:
    call(client, "terminate", org["id"])
    answer = call(client, "schedule-purge", org["id"])
    assert_conforms("schedule-purge-distributor-organization", 200, answer)
    assert names(answer["message"], org["id"]), answer
    assert_gone(client, org["id"])


def schedule_purge(client: Client, url: str, org_id: str) -> requests.Response:
    # By hand: the official client hides the status code, and 202 is what matters here.
    response: requests.Response = client.http_client.put(
        url + f"/distributor/organization/{org_id}:schedule-purge"
    )
    return response


def test_delayed_purge_is_202_and_the_organization_goes_at_the_deadline() -> None:
    clock = ManualClock(start=1_800_000_000.0)
    config = SimulatorConfig(credentials=(ALICE,), purge_delay_s=60.0)
    with run_simulator(config, clock=clock) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        org = client.create_distributor_organization(**kwargs_of(valid_body()))
        terminated = call(client, "terminate", org["id"])
        response = schedule_purge(client, sim.url, org["id"])
        assert response.status_code == 202
        assert_conforms("schedule-purge-distributor-organization", 202, response.json())
        # The deadline it announces: 1_800_000_000 + 60 s.
        assert "2027-01-15T08:01:00Z" in response.json()["message"]
        # Until the deadline: still there, terminated, and a repeat is 202 again.
        clock.advance(59.0)
        assert status_of(client, org["id"]) == "terminated"
        again = schedule_purge(client, sim.url, org["id"])
        assert again.status_code == 202
        assert again.json() == response.json()  # the same deadline: a retry does not postpone it
        assert call(client, "terminate", org["id"]) == terminated  # still idempotent
        clock.advance(0.999)
        assert status_of(client, org["id"]) == "terminated"
        clock.advance(0.001)  # the deadline itself
        assert_gone(client, org["id"])


def test_a_scheduled_purge_survives_a_restart(tmp_path: Path) -> None:
    # One clock for both runs: the deadline is stored, and only the clock decides it has passed.
    clock = ManualClock()
    config = SimulatorConfig(credentials=(ALICE,), purge_delay_s=30.0, db_path=str(tmp_path / "sim.db"))
    with run_simulator(config, clock=clock) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        org = client.create_distributor_organization(**kwargs_of(valid_body()))
        kept = client.create_distributor_organization(**kwargs_of(valid_body()))
        call(client, "terminate", org["id"])
        assert schedule_purge(client, sim.url, org["id"]).status_code == 202
    clock.advance(29.0)
    with run_simulator(config, clock=clock) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        assert status_of(client, org["id"]) == "terminated"
        # A restart does not reset the deadline either.
        assert schedule_purge(client, sim.url, org["id"]).status_code == 202
    clock.advance(1.0)
    with run_simulator(config, clock=clock) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        assert_gone(client, org["id"])
        assert client.get_distributor_organization(id=kept["id"]) == kept


def test_initial_status_can_be_active() -> None:
    with run_simulator(SimulatorConfig(credentials=(ALICE,), initial_status="active")) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        org = client.create_distributor_organization(**kwargs_of(valid_body()))
        assert org["status"] == "active"
        assert status_of(client, org["id"]) == "active"


def test_client_id_is_not_unique_by_default(client: Client) -> None:
    body = valid_body(**{"client-id": "shared-by-default"})
    first = client.create_distributor_organization(**kwargs_of(body))
    second = client.create_distributor_organization(**kwargs_of(body))
    assert first["id"] != second["id"]


def test_client_id_uniqueness_can_be_enforced_per_distributor() -> None:
    with run_simulator(SimulatorConfig(credentials=(ALICE, BOB), unique_client_id=True)) as sim:
        alice = Client(ALICE.key, ALICE.secret, url=sim.url)
        bob = Client(BOB.key, BOB.secret, url=sim.url)
        body = valid_body(**{"client-id": "unique-1"})
        first = alice.create_distributor_organization(**kwargs_of(body))
        with pytest.raises(ExoscaleAPIClientException) as info:
            alice.create_distributor_organization(**kwargs_of(body))
        assert info.value.response.status_code == 409
        assert_conforms("create-distributor-organization", 409, info.value.response.json())
        assert first["id"] in info.value.response.json()["message"]
        # Another distributor may use the same client-id.
        bob.create_distributor_organization(**kwargs_of(body))
        # Organizations without client-id never collide.
        for _ in range(2):
            alice.create_distributor_organization(**kwargs_of(valid_body(**{"client-id": None})))
        # A terminated organization still holds its client-id; a purged one frees it.
        call(alice, "terminate", first["id"])
        with pytest.raises(ExoscaleAPIClientException):
            alice.create_distributor_organization(**kwargs_of(body))
        call(alice, "schedule-purge", first["id"])
        assert alice.create_distributor_organization(**kwargs_of(body))["client-id"] == "unique-1"
