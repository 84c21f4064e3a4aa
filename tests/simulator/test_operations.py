"""The eight operations, driven by the official client; every body checked against the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from exoscale.api.exceptions import ExoscaleAPIClientException, ExoscaleAPIException
from exoscale.api.partner import Client

from pulumi_exo_distributor.simulator import RunningSimulator, SimulatorConfig, run_simulator

from .conftest import ALICE, BOB, OPERATIONS, assert_conforms, kwargs_of, names, valid_body

UUID_NOBODY_HAS = "00000000-0000-4000-8000-000000000000"


def test_the_document_has_exactly_the_eight_operations() -> None:
    assert OPERATIONS == {
        "create-distributor-organization": ("POST", "/distributor/organization"),
        "list-distributor-organizations": ("GET", "/distributor/organization"),
        "get-distributor-organization": ("GET", "/distributor/organization/{id}"),
        "activate-distributor-organization": ("PUT", "/distributor/organization/{id}:activate"),
        "suspend-distributor-organization": ("PUT", "/distributor/organization/{id}:suspend"),
        "terminate-distributor-organization": ("DELETE", "/distributor/organization/{id}:terminate"),
        "schedule-purge-distributor-organization": ("PUT", "/distributor/organization/{id}:schedule-purge"),
        "list-distributor-organization-usage": ("GET", "/distributor/organization/{id}/usage"),
    }


def test_create_returns_the_organization_output(client: Client) -> None:
    body = valid_body()
    org = client.create_distributor_organization(**kwargs_of(body))
    assert_conforms("create-distributor-organization", 200, org)
    assert set(org) == {"id", "status", "billing-address", "client-id"}
    assert org["status"] == "created"
    assert org["billing-address"] == body["billing-address"]
    assert org["client-id"] == body["client-id"]
    # owner-email is writeOnly and display-name is not part of the output.
    assert "owner-email" not in org
    assert "display-name" not in org


def test_client_id_is_absent_when_not_given(client: Client) -> None:
    org = client.create_distributor_organization(**kwargs_of(valid_body(**{"client-id": None})))
    assert_conforms("create-distributor-organization", 200, org)
    assert "client-id" not in org
    assert "client-id" not in client.get_distributor_organization(id=org["id"])


def test_optional_address_fields_round_trip(client: Client) -> None:
    address = {**valid_body()["billing-address"], "address": "c/o Finance, PO Box 7", "building-number": ""}
    org = client.create_distributor_organization(**kwargs_of(valid_body(**{"billing-address": address})))
    assert org["billing-address"] == address
    assert client.get_distributor_organization(id=org["id"])["billing-address"] == address


def test_get_returns_what_create_returned(client: Client, org: dict[str, Any]) -> None:
    fetched = client.get_distributor_organization(id=org["id"])
    assert_conforms("get-distributor-organization", 200, fetched)
    assert fetched == org


def test_get_accepts_an_upper_case_id(client: Client, org: dict[str, Any]) -> None:
    assert client.get_distributor_organization(id=org["id"].upper()) == org


def test_list_holds_the_organizations_in_creation_order(client: Client) -> None:
    first = client.create_distributor_organization(**kwargs_of(valid_body()))
    second = client.create_distributor_organization(**kwargs_of(valid_body()))
    listed = client.list_distributor_organizations()
    assert_conforms("list-distributor-organizations", 200, listed)
    ids = [item["id"] for item in listed["organizations"]]
    assert ids.index(first["id"]) < ids.index(second["id"])
    assert first in listed["organizations"]


def test_activate_and_suspend_return_the_organization(client: Client, org: dict[str, Any]) -> None:
    activated = client.activate_distributor_organization(id=org["id"])
    assert_conforms("activate-distributor-organization", 200, activated)
    assert activated == {**org, "status": "active"}
    suspended = client.suspend_distributor_organization(id=org["id"])
    assert_conforms("suspend-distributor-organization", 200, suspended)
    assert suspended == {**org, "status": "suspended"}


def test_terminate_and_purge_return_a_message(client: Client, org: dict[str, Any]) -> None:
    terminated = client.terminate_distributor_organization(id=org["id"])
    assert_conforms("terminate-distributor-organization", 200, terminated)
    assert org["id"] in terminated["message"]
    purged = client.schedule_purge_distributor_organization(id=org["id"])
    assert_conforms("schedule-purge-distributor-organization", 200, purged)


def test_usage_returns_statements(client: Client, org: dict[str, Any]) -> None:
    usage = client.list_distributor_organization_usage(id=org["id"])
    assert_conforms("list-distributor-organization-usage", 200, usage)
    assert isinstance(usage, list)
    assert len(usage) == 1


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("get-distributor-organization", "get_distributor_organization"),
        ("activate-distributor-organization", "activate_distributor_organization"),
        ("suspend-distributor-organization", "suspend_distributor_organization"),
        ("terminate-distributor-organization", "terminate_distributor_organization"),
        ("schedule-purge-distributor-organization", "schedule_purge_distributor_organization"),
        ("list-distributor-organization-usage", "list_distributor_organization_usage"),
    ],
)
@pytest.mark.parametrize(
    "org_id",
    [
        pytest.param("not-a-uuid", id="not-a-uuid"),
        # Python's UUID() would take it: the simulator must not.
        pytest.param("{" + UUID_NOBODY_HAS + "}", id="uuid-in-braces"),
    ],
)
def test_malformed_ids_are_404(client: Client, operation: str, call: str, org_id: str) -> None:
    # A well-formed id nobody has: TestTenancy, for every operation, with both distributors.
    with pytest.raises(ExoscaleAPIClientException) as info:
        getattr(client, call)(id=org_id)
    assert info.value.response.status_code == 404
    assert_conforms(operation, 404, info.value.response.json())
    assert names(info.value.response.json()["message"], org_id), info.value.response.text


FOREIGN_CALLS = [
    ("get-distributor-organization", "get_distributor_organization"),
    ("activate-distributor-organization", "activate_distributor_organization"),
    ("suspend-distributor-organization", "suspend_distributor_organization"),
    ("terminate-distributor-organization", "terminate_distributor_organization"),
    ("schedule-purge-distributor-organization", "schedule_purge_distributor_organization"),
    ("list-distributor-organization-usage", "list_distributor_organization_usage"),
]


@pytest.fixture(scope="module", params=[404, 403], ids=lambda status: f"foreign-status-{status}")
def tenants(request: pytest.FixtureRequest) -> Iterator[tuple[int, Client, Client]]:
    """(foreign_status, ALICE's client, BOB's client) on a simulator of that choice."""
    config = SimulatorConfig(credentials=(ALICE, BOB), foreign_status=request.param)
    with run_simulator(config) as running:
        yield (
            request.param,
            Client(ALICE.key, ALICE.secret, url=running.url),
            Client(BOB.key, BOB.secret, url=running.url),
        )


def answer_of(client: Client, call: str, org_id: str) -> tuple[int, dict[str, Any]]:
    # The official client raises its authentication error for any 403, a foreign one included.
    with pytest.raises(ExoscaleAPIException) as info:
        getattr(client, call)(id=org_id)
    body: dict[str, Any] = info.value.response.json()
    return info.value.response.status_code, body


class TestTenancy:
    def test_the_default_answer_for_another_distributors_organization_is_404(self) -> None:
        assert SimulatorConfig().foreign_status == 404

    @pytest.mark.parametrize("start", ["created", "terminated"])
    def test_another_distributor_gets_the_foreign_status_and_changes_nothing(
        self, tenants: tuple[int, Client, Client], start: str
    ) -> None:
        foreign_status, client, other_client = tenants
        org = client.create_distributor_organization(**kwargs_of(valid_body()))
        if start == "terminated":
            org = {**org, "status": "terminated"}
            client.terminate_distributor_organization(id=org["id"])
        for operation, call in FOREIGN_CALLS:
            status, body = answer_of(other_client, call, org["id"])
            assert status == foreign_status, call
            assert_conforms(operation, status, body)
            assert org["id"] in body["message"]
        listed = other_client.list_distributor_organizations()["organizations"]
        assert org["id"] not in {item["id"] for item in listed}
        # And nothing it tried changed anything (not even the purge of a terminated one).
        assert client.get_distributor_organization(id=org["id"]) == org

    def test_an_organization_nobody_has_or_a_purged_one_is_404_in_every_mode(
        self, tenants: tuple[int, Client, Client]
    ) -> None:
        _, client, other_client = tenants
        org = client.create_distributor_organization(**kwargs_of(valid_body()))
        client.terminate_distributor_organization(id=org["id"])
        client.schedule_purge_distributor_organization(id=org["id"])
        for org_id in (UUID_NOBODY_HAS, org["id"]):
            for operation, call in FOREIGN_CALLS:
                for who in (client, other_client):
                    status, body = answer_of(who, call, org_id)
                    assert status == 404, (call, org_id)
                    assert_conforms(operation, 404, body)

    def test_each_distributor_lists_only_its_own(self, client: Client, other_client: Client) -> None:
        mine = client.create_distributor_organization(**kwargs_of(valid_body()))
        theirs = other_client.create_distributor_organization(**kwargs_of(valid_body()))
        my_ids = {item["id"] for item in client.list_distributor_organizations()["organizations"]}
        their_ids = {item["id"] for item in other_client.list_distributor_organizations()["organizations"]}
        assert mine["id"] in my_ids
        assert theirs["id"] in their_ids
        assert not my_ids & their_ids


def test_statistics_count_every_request_routed_to_an_operation(sim: RunningSimulator, client: Client) -> None:
    before = sim.stats()
    org = client.create_distributor_organization(**kwargs_of(valid_body()))
    client.get_distributor_organization(id=org["id"])
    with pytest.raises(ExoscaleAPIClientException):
        client.get_distributor_organization(id=UUID_NOBODY_HAS)
    with pytest.raises(ExoscaleAPIClientException):
        client.create_distributor_organization(**kwargs_of(valid_body(**{"display-name": ""})))
    after = sim.stats()
    assert after["create-distributor-organization"] - before["create-distributor-organization"] == 2
    assert after["get-distributor-organization"] - before["get-distributor-organization"] == 2
    assert after["list-distributor-organizations"] == before["list-distributor-organizations"]
