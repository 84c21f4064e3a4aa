"""The wire models: kebab-case on the wire, strict on what is sent, lenient on what is read."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from pulumi_exo_distributor._models import (
    BillingAddress,
    Organization,
    OrganizationInput,
    OrganizationStatus,
    PurgeResult,
    UsageStatement,
)

ORG_ID = "6f2b3d6c-0b7e-4c52-9d55-2f1d1c8a0c01"
WIRE_ADDRESS: dict[str, Any] = {
    "name": "Acme SA",
    "country": "CH",
    "city": "Lausanne",
    "postal-code": "1003",
    "street-name": "Rue du Lac",
}
ADDRESS = {key.replace("-", "_"): value for key, value in WIRE_ADDRESS.items()}


def org(**fields: Any) -> Organization:
    return Organization.model_validate({"id": ORG_ID, "status": "active", **fields})


# -- statuses -------------------------------------------------------------------------------


def test_the_known_statuses_are_the_members() -> None:
    for member in OrganizationStatus:
        assert OrganizationStatus(member.value) is member
    assert {m.value for m in OrganizationStatus} == {"active", "created", "suspended", "terminated"}


def test_a_status_the_api_adds_later_is_kept_as_the_api_says_it() -> None:
    status = org(status="archived").status
    assert isinstance(status, OrganizationStatus)
    assert status.value == "archived"
    assert status == "archived"
    assert status not in set(OrganizationStatus)
    assert org(status="archived").to_wire()["status"] == "archived"


@pytest.mark.parametrize("status", ["", None, 1], ids=["empty", "null", "number"])
def test_a_status_that_is_no_word_is_refused(status: object) -> None:
    with pytest.raises(ValidationError, match="status"):
        org(status=status)


# -- what is read ---------------------------------------------------------------------------


def test_an_organization_reads_kebab_case_and_ignores_fields_it_does_not_know() -> None:
    read = org(
        **{"billing-address": {**WIRE_ADDRESS, "region": "eu"}, "client-id": "ACME-1", "created-at": "x"}
    )
    assert read.id == UUID(ORG_ID)
    assert read.client_id == "ACME-1"
    assert read.billing_address == BillingAddress(**ADDRESS)
    assert "created-at" not in read.to_wire()


def test_an_organization_without_an_address_or_client_id_reads() -> None:
    read = org()
    assert (read.billing_address, read.client_id) == (None, None)
    assert read.to_wire() == {"id": ORG_ID, "status": "active"}


@pytest.mark.parametrize(
    ("stored", "kept"),
    [
        ({"name": "N" * 400}, {"name": "N" * 400}),
        ({"country": "Switzerland"}, {"country": "Switzerland"}),
        ({"postal-code": ""}, {"postal_code": ""}),
    ],
    ids=["long-name", "country-name", "empty-postal-code"],
)
def test_an_address_the_server_stores_otherwise_is_read_as_it_says(
    stored: dict[str, Any], kept: dict[str, Any]
) -> None:
    read = org(**{"billing-address": {**WIRE_ADDRESS, **stored}}).billing_address
    assert read is not None
    assert read.model_dump(exclude_none=True) == {**ADDRESS, **kept}


def test_an_address_missing_a_field_reads_that_field_as_empty() -> None:
    partial = {"country": "XX", "city": "Lausanne", "postal-code": 1003, "street-name": ["Rue"]}
    read = org(**{"billing-address": partial}).billing_address
    assert read is not None
    assert (read.country, read.city) == ("XX", "Lausanne")
    # Never an AttributeError for the command or the functions that print it.
    assert (read.name, read.postal_code, read.street_name) == ("", "", "")
    assert (read.building_number, read.address) == (None, None)


@pytest.mark.parametrize("stored", ["Rue du Lac 1, Lausanne", ["Acme"], 42])
def test_an_address_that_is_not_an_object_reads_as_none(stored: object) -> None:
    assert org(**{"billing-address": stored}).billing_address is None


@pytest.mark.parametrize("fields", [{"id": "not-a-uuid"}, {"id": None}], ids=["bad-id", "no-id"])
def test_an_organization_without_a_uuid_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="id"):
        org(**fields)


# -- what is sent ---------------------------------------------------------------------------


def new_org(**overrides: Any) -> OrganizationInput:
    fields: dict[str, Any] = {
        "display_name": "Acme SA",
        "owner_email": "ops@acme.example",
        "billing_address": ADDRESS,
        **overrides,
    }
    return OrganizationInput.model_validate(fields)


def test_a_create_body_is_kebab_case_without_unset_fields() -> None:
    body = new_org(billing_address={**ADDRESS, "country": "ch"}).to_wire()
    assert body == {
        "display-name": "Acme SA",
        "owner-email": "ops@acme.example",
        "billing-address": {**WIRE_ADDRESS, "country": "CH"},
    }
    assert new_org(client_id="ACME-1").to_wire()["client-id"] == "ACME-1"


def test_a_create_body_may_be_built_from_wire_names() -> None:
    from_wire = OrganizationInput.model_validate(
        {"display-name": "Acme SA", "owner-email": "ops@acme.example", "billing-address": WIRE_ADDRESS}
    )
    assert from_wire == new_org()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"owner_email": "not-an-email"}, "owner_email"),
        ({"client_id": ""}, "client_id"),
        ({"billing_address": {**ADDRESS, "country": "XX"}}, "country"),
        ({"billing_address": {**ADDRESS, "country": "CHE"}}, "country"),
        ({"billing_address": {k: v for k, v in ADDRESS.items() if k != "city"}}, "city"),
        ({"billing_address": {**ADDRESS, "building_number": ""}}, "building_number"),
    ],
    ids=["display-name", "email", "client-id", "country", "country-alpha-3", "no-city", "building-number"],
)
def test_a_create_body_refuses_what_the_api_would(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        new_org(**overrides)


def test_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        new_org().display_name = "Other"


# -- usage and purge ------------------------------------------------------------------------


def test_usage_amounts_are_exact_decimals_and_dates_are_aware() -> None:
    statement = UsageStatement.model_validate(
        {
            "currency": "CHF",
            "total-incl-vat": "10.81",
            "start-date": "2026-10-01T00:00:00Z",
            "usage": [{"product": "compute", "quantity": 0.1, "total-excl-vat": 10}],
            "discount": {"new": "field"},
        }
    )
    assert statement.total_incl_vat == Decimal("10.81")
    assert statement.usage[0].quantity == Decimal("0.1")
    assert statement.start_date == dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
    assert statement.end_date is None
    assert UsageStatement.model_validate({}).usage == []


def test_a_purge_answer_says_whether_it_was_scheduled() -> None:
    assert PurgeResult.model_validate({"scheduled": True}).scheduled is True
    with pytest.raises(ValidationError, match="scheduled"):
        PurgeResult.model_validate({"message": "purged"})


def test_the_address_checker_is_imported_by_the_first_address_checked() -> None:
    # A provider's reads, refreshes and deletes check no address: their start does not pay for it.
    code = (
        "import sys, pulumi_exo_distributor._client as c, pulumi_exo_distributor._provider; "
        "before = 'email_validator' in sys.modules; "
        "c.OrganizationInput.model_validate({'display-name': 'A', 'owner-email': 'ops@acme.example', "
        "'billing-address': {'name': 'A', 'country': 'CH', 'city': 'B', 'postal-code': '1', "
        "'street-name': 'C'}}); "
        "print(before, 'email_validator' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
