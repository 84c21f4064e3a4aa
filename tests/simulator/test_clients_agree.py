"""Our client and the official one, on the same simulator, see the same organizations and errors;
our client's retries carry it through the simulator's faults, and create is never doubled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stamina
from exoscale.api.exceptions import ExoscaleAPIClientException
from exoscale.api.partner import Client

from pulumi_exo_distributor import (
    BillingAddress,
    ConflictError,
    NotFoundError,
    OrganizationInput,
    PartnerClient,
    RetryPolicy,
    ServerError,
    TransportError,
)
from pulumi_exo_distributor.simulator import Credential, ManualClock, SimulatorConfig, run_simulator

CAROL = Credential("EXOcarol000000000000000003", "carol-secret")
ADDRESS = {
    "name": "Acme SA",
    "country": "CH",
    "city": "Lausanne",
    "postal-code": "1003",
    "street-name": "Rue",
}
NEW = OrganizationInput(
    display_name="Acme SA",
    owner_email="ops@acme.example",
    billing_address=BillingAddress.model_validate(ADDRESS),
    client_id="acme-1",
)


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    # A frozen clock: both clients ask for "this month" and must get the same one.
    with run_simulator(SimulatorConfig(credentials=(CAROL,)), clock=ManualClock()) as running:
        yield running


@pytest.fixture
def both(sim: Any) -> Iterator[tuple[PartnerClient, Client]]:
    with PartnerClient(CAROL.key, CAROL.secret, sim.url) as ours:
        yield ours, Client(CAROL.key, CAROL.secret, url=sim.url)


def test_both_clients_see_the_same_organizations(both: tuple[PartnerClient, Client]) -> None:
    ours, official = both
    made_by_us = ours.create_organization(NEW)
    made_by_them = official.create_distributor_organization(
        display_name="Globex", owner_email="it@globex.example", billing_address=ADDRESS
    )
    for org_id in (str(made_by_us.id), made_by_them["id"]):
        assert ours.get_organization(org_id).to_wire() == official.get_distributor_organization(id=org_id)
    assert sorted((o.to_wire() for o in ours.list_organizations()), key=lambda o: str(o["id"])) == sorted(
        official.list_distributor_organizations()["organizations"], key=lambda o: str(o["id"])
    )
    assert ours.suspend_organization(made_by_them["id"]).to_wire() == official.get_distributor_organization(
        id=made_by_them["id"]
    )
    ours_usage = [
        s.model_dump(mode="json", by_alias=True) for s in ours.list_organization_usage(made_by_us.id)
    ]
    theirs = official.list_distributor_organization_usage(id=str(made_by_us.id))
    assert len(ours_usage) == len(theirs)
    for mine, their in zip(ours_usage, theirs, strict=True):
        assert float(mine["total-incl-vat"]) == their["total-incl-vat"]
        assert mine["currency"] == their["currency"]
        assert len(mine["usage"]) == len(their["usage"])


def test_both_clients_see_the_same_errors(both: tuple[PartnerClient, Client]) -> None:
    ours, official = both
    org = ours.create_organization(NEW)
    ours.terminate_organization(org.id)
    with pytest.raises(ConflictError) as mine:
        ours.activate_organization(org.id)
    with pytest.raises(ExoscaleAPIClientException) as theirs:
        official.activate_distributor_organization(id=str(org.id))
    assert theirs.value.response.status_code == mine.value.status_code == 409
    assert theirs.value.response.json()["message"] == mine.value.message
    ours.schedule_purge_organization(org.id)
    with pytest.raises(NotFoundError):
        ours.get_organization(org.id)
    with pytest.raises(ExoscaleAPIClientException) as theirs:
        official.get_distributor_organization(id=str(org.id))
    assert theirs.value.response.status_code == 404


@pytest.fixture
def fast_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=12):
        yield


@pytest.mark.usefixtures("fast_retries")
def test_retries_carry_idempotent_operations_through_faults() -> None:
    faults = SimulatorConfig(
        credentials=(CAROL,),
        fault_rate=0.5,
        seed=7,
        fault_kinds=("429", "500", "503", "reset-before", "reset-after"),
    )
    with run_simulator(faults) as sim, PartnerClient(CAROL.key, CAROL.secret, sim.url) as client:
        # Only 429 is surely harmless for create: retry until the simulator lets one through.
        created = None
        for _ in range(50):  # bounded: at a 50 % fault rate one of these gets through
            if created is not None:
                break
            try:
                created = client.create_organization(NEW)
            except (TransportError, ServerError):
                # A reset or a 5xx: not retried for create, the server may have acted.
                continue
        assert created is not None
        for _ in range(10):
            assert client.get_organization(created.id).id == created.id
            assert client.suspend_organization(created.id).status.value == "suspended"
            assert client.activate_organization(created.id).status.value == "active"
            assert created.id in {o.id for o in client.list_organizations()}
        stats = sim.stats()
        # The faults really happened, and the retries hid them.
        assert stats["get-distributor-organization"] > 10


@pytest.mark.usefixtures("fast_retries")
def test_create_is_retried_on_429_and_never_doubled() -> None:
    config = SimulatorConfig(credentials=(CAROL,), fault_rate=0.6, seed=3, fault_kinds=("429",))
    with run_simulator(config) as sim, PartnerClient(CAROL.key, CAROL.secret, sim.url) as client:
        ids = {client.create_organization(NEW).id for _ in range(8)}
        assert len(ids) == 8
        assert {o.id for o in client.list_organizations()} == ids
        assert sim.stats()["create-distributor-organization"] > 8  # some 429s were retried


@pytest.mark.usefixtures("fast_retries")
def test_create_is_not_retried_after_a_reset() -> None:
    config = SimulatorConfig(credentials=(CAROL,), fault_rate=1.0, seed=1, fault_kinds=("reset-after",))
    with (
        run_simulator(config) as sim,
        PartnerClient(CAROL.key, CAROL.secret, sim.url, retry=RetryPolicy(attempts=5)) as client,
    ):
        with pytest.raises(TransportError) as caught:
            client.create_organization(NEW)
        assert caught.value.request_sent is True
        assert sim.stats()["create-distributor-organization"] == 1
