"""Each limit is declared once (_limits), and what enforces or documents it agrees. The limits page
(docs/reference/limits.md) is generated from _limits (tests/docs/test_site.py keeps it current);
the resource reference, written by hand, is checked here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from pulumi_exo_distributor import BillingAddress, OrganizationInput
from pulumi_exo_distributor._inputs import validate
from pulumi_exo_distributor._limits import ADDRESS_LIMITS, ORGANIZATION_LIMITS

#: The resource reference writes ranges with an en dash.
DASH = "\u2013"
REFERENCE = (
    Path(__file__).resolve().parents[2] / "docs" / "reference" / "distributororganization.md"
).read_text(encoding="utf-8")
ADDRESS = {"name": "Acme", "country": "CH", "city": "Lausanne", "postal_code": "1003", "street_name": "Rue"}


@pytest.mark.parametrize("field", [f for f in ADDRESS_LIMITS if f != "country"])
def test_the_resource_reference_states_each_address_limit(field: str) -> None:
    limit = ADDRESS_LIMITS[field]
    assert re.search(rf"`{field}` \([^)]*{limit.min_length}{DASH}{limit.max_length}", REFERENCE), field


@pytest.mark.parametrize("field", ["display_name", "client_id"])
def test_the_resource_reference_states_each_organization_limit(field: str) -> None:
    limit = ORGANIZATION_LIMITS[field]
    row = next(line for line in REFERENCE.splitlines() if line.startswith(f"| `{field}` |"))
    assert f"{limit.min_length}{DASH}{limit.max_length} characters" in row


@pytest.mark.parametrize("field", list(ADDRESS_LIMITS))
def test_the_resource_and_the_wire_model_refuse_one_past_the_limit(field: str) -> None:
    limit = ADDRESS_LIMITS[field]
    value = "C" * (limit.max_length + 1)
    _, problems = validate(
        {
            "display_name": "Acme",
            "owner_email": "ops@acme.example",
            "billing_address": {**ADDRESS, field: value},
        }
    )
    assert [name for name, _ in problems] == [f"billing_address.{field}"]
    with pytest.raises(ValidationError):
        BillingAddress.model_validate({**ADDRESS, field: value})
    at_limit = "C" * limit.max_length if field != "country" else "CH"
    BillingAddress.model_validate({**ADDRESS, field: at_limit})


@pytest.mark.parametrize("field", list(ORGANIZATION_LIMITS))
def test_organization_limits_agree(field: str) -> None:
    limit = ORGANIZATION_LIMITS[field]
    too_long = "x" * (limit.max_length + 1) if field != "owner_email" else "a" * limit.max_length + "@b.ch"
    base = {"display_name": "Acme", "owner_email": "ops@acme.example", "billing_address": ADDRESS}
    _, problems = validate({**base, field: too_long})
    assert field in [name for name, _ in problems]
    with pytest.raises(ValidationError):
        OrganizationInput.model_validate({**base, field: too_long})
