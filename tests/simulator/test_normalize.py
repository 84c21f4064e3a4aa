"""--normalize: the billing address stored and echoed normalised, and fields the document does
not list on every organization. The document allows them; the product must be stable either way."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from exoscale.api.exceptions import ExoscaleAPIClientException
from exoscale.api.partner import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_exo_distributor.simulator import ManualClock, RunningSimulator, SimulatorConfig, run_simulator
from pulumi_exo_distributor.simulator._normalize import normalize_address, tidy, upper_case

from .conftest import (
    ALICE,
    SPEC,
    assert_conforms,
    kwargs_of,
    names,
    outside_lengths_once_tidied,
    resolve,
    valid_body,
)

CREATE = "create-distributor-organization"
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z
DOCUMENTED = {"id", "status", "billing-address", "client-id"}

MESSY = {
    "name": "  Acme \t  SA ",
    "country": "ch",
    "city": "Lausanne\n",
    "postal-code": "sw1a   1aa",
    "street-name": "Rue   du  Lac",
    "building-number": " 12 ",
}
TIDY = {
    "name": "Acme SA",
    "country": "CH",
    "city": "Lausanne",
    "postal-code": "SW1A 1AA",
    "street-name": "Rue du Lac",
    "building-number": "12",
    "address": "Rue du Lac 12, SW1A 1AA Lausanne, CH",
}


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(start=START)


@pytest.fixture(scope="module")
def normalizing(clock: ManualClock) -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig(credentials=(ALICE,), normalize=True), clock=clock) as sim:
        yield sim


@pytest.fixture(scope="module")
def alice(normalizing: RunningSimulator) -> Client:
    return Client(ALICE.key, ALICE.secret, url=normalizing.url)


def create(client: Client, address: dict[str, str], **overrides: Any) -> dict[str, Any]:
    org: dict[str, Any] = client.create_distributor_organization(
        **kwargs_of(valid_body(**{"billing-address": address}, **overrides))
    )
    return org


def test_it_is_off_by_default(client: Client) -> None:
    assert SimulatorConfig().normalize is False
    org = create(client, MESSY)
    assert org["billing-address"] == MESSY
    assert set(org) == DOCUMENTED


def test_the_address_is_stored_and_echoed_normalised(alice: Client) -> None:
    org = create(alice, MESSY)
    assert org["billing-address"] == {**TIDY, "region": "europe"}
    assert alice.get_distributor_organization(id=org["id"]) == org
    listed = {item["id"]: item for item in alice.list_distributor_organizations()["organizations"]}
    assert listed[org["id"]] == org


def test_the_client_id_is_kept_as_sent(alice: Client) -> None:
    org = create(alice, MESSY, **{"client-id": "  acme  001 "})
    assert org["client-id"] == "  acme  001 "


def test_a_given_address_is_tidied_not_replaced(alice: Client) -> None:
    org = create(alice, {**MESSY, "address": "  c/o  Finance\n PO Box 7 "})
    assert org["billing-address"]["address"] == "c/o Finance PO Box 7"


def test_the_address_is_filled_without_a_building_number(alice: Client) -> None:
    address = {key: value for key, value in MESSY.items() if key != "building-number"}
    assert create(alice, address)["billing-address"]["address"] == "Rue du Lac, SW1A 1AA Lausanne, CH"
    empty = create(alice, {**MESSY, "building-number": "   "})["billing-address"]
    assert empty["building-number"] == ""
    assert empty["address"] == "Rue du Lac, SW1A 1AA Lausanne, CH"


def test_upper_case_keeps_lengths(alice: Client) -> None:
    # "ß" upper-cases to "SS": two characters where the document allows exactly two for a country.
    org = create(alice, {**MESSY, "country": "çh", "postal-code": "d-ß1"})
    assert org["billing-address"]["country"] == "ÇH"
    assert org["billing-address"]["postal-code"] == "D-ß1"
    assert org["billing-address"]["region"] == "rest-of-world"
    assert upper_case("ßx") == "ßX"


def test_every_organization_carries_the_extra_fields(alice: Client, clock: ManualClock) -> None:
    org = create(alice, MESSY)
    assert set(org) == DOCUMENTED | {"created-at", "updated-at"}
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock()))
    assert org["created-at"] == org["updated-at"] == created
    clock.advance(3600)
    activated = alice.activate_distributor_organization(id=org["id"])
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock()))
    assert activated == {**org, "status": "active", "updated-at": later}
    # An answer that changes nothing does not move updated-at.
    clock.advance(60)
    assert alice.activate_distributor_organization(id=org["id"]) == activated
    suspended = alice.suspend_distributor_organization(id=org["id"])
    assert suspended["created-at"] == created
    assert suspended["updated-at"] > later
    assert alice.get_distributor_organization(id=org["id"]) == suspended
    for item in alice.list_distributor_organizations()["organizations"]:
        assert {"created-at", "updated-at"} <= set(item)
        assert "region" in item["billing-address"]


@pytest.mark.parametrize(
    "operation",
    [
        "create-distributor-organization",
        "get-distributor-organization",
        "list-distributor-organizations",
        "activate-distributor-organization",
        "suspend-distributor-organization",
    ],
)
def test_the_answers_hold_to_the_document_but_not_to_the_strict_check(alice: Client, operation: str) -> None:
    org = create(alice, MESSY)
    body = {
        "create-distributor-organization": lambda: org,
        "get-distributor-organization": lambda: alice.get_distributor_organization(id=org["id"]),
        "list-distributor-organizations": alice.list_distributor_organizations,
        "activate-distributor-organization": lambda: alice.activate_distributor_organization(id=org["id"]),
        "suspend-distributor-organization": lambda: alice.suspend_distributor_organization(id=org["id"]),
    }[operation]()
    assert_conforms(operation, 200, body, strict=False)
    # What makes this mode worth testing against: it says more than the document lists.
    with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
        assert_conforms(operation, 200, body)


def test_the_document_does_not_forbid_extra_fields() -> None:
    # If it ever did, --normalize would be outside the contract and have to go.
    assert "additionalProperties" not in json.dumps(SPEC)
    output = resolve(SPEC["components"]["schemas"]["organization-output"])
    jsonschema.Draft202012Validator(output).validate(
        {
            "id": "6c1d0000-0000-4000-8000-000000000000",
            "status": "active",
            "created-at": "2027-01-15T08:00:00Z",
            "billing-address": {**TIDY, "region": "europe"},
        }
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", " \t "), ("country", " C"), ("city", "\n"), ("street-name", "  "), ("address", " ")],
)
def test_what_normalisation_would_empty_is_400(alice: Client, field: str, value: str) -> None:
    # Each value is valid as sent (long enough); only normalised is it too short.
    with pytest.raises(ExoscaleAPIClientException) as info:
        create(alice, {**MESSY, field: value})
    assert info.value.response.status_code == 400
    assert_conforms(CREATE, 400, info.value.response.json())
    assert names(info.value.response.json()["message"], f"billing-address.{field}"), info.value.response.text


def test_unknown_fields_ignored_are_dropped_before_normalising() -> None:
    config = SimulatorConfig(credentials=(ALICE,), normalize=True, unknown_fields="ignore")
    with run_simulator(config) as sim:
        client = Client(ALICE.key, ALICE.secret, url=sim.url)
        response = client.http_client.post(
            sim.url + "/distributor/organization",
            json=valid_body(**{"billing-address": {**MESSY, "street": 42}}),
        )
        assert response.status_code == 200, response.text
        assert response.json()["billing-address"] == {**TIDY, "region": "europe"}


def test_a_database_written_verbatim_gets_the_extra_fields_but_keeps_its_addresses(tmp_path: Any) -> None:
    db = str(tmp_path / "sim.db")
    with run_simulator(SimulatorConfig(credentials=(ALICE,), db_path=db)) as sim:
        org = create(Client(ALICE.key, ALICE.secret, url=sim.url), MESSY)
    with run_simulator(SimulatorConfig(credentials=(ALICE,), db_path=db, normalize=True)) as sim:
        again = Client(ALICE.key, ALICE.secret, url=sim.url).get_distributor_organization(id=org["id"])
    assert again["billing-address"] == {**MESSY, "region": "europe"}
    assert {"created-at", "updated-at"} <= set(again)


ADDRESS_STRINGS = st.text(st.sampled_from(" \t\nabcXYZ-1ßçé"), max_size=12)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    address=st.fixed_dictionaries(
        {key: ADDRESS_STRINGS for key in ("name", "country", "city", "postal-code", "street-name")},
        optional={"building-number": ADDRESS_STRINGS, "address": ADDRESS_STRINGS},
    )
)
def test_normalisation_is_idempotent_and_keeps_within_the_document(address: dict[str, str]) -> None:
    result, errors = normalize_address(address)
    refused = outside_lengths_once_tidied(address)
    if errors or refused:
        # Refused exactly when a field ends up outside the document's lengths, naming each.
        assert refused, errors
        assert all(names("; ".join(errors), field) for field in refused), (refused, errors)
        return
    assert normalize_address(result) == (result, [])
    for key, value in result.items():
        assert value == tidy(value), key
        assert len(value) <= len(address.get(key, value)), key
    assert result["country"] == upper_case(result["country"])
    assert "address" in result
