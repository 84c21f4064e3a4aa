"""examples/fleet through the real engine: the customers file drives the fleet, protect guards it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from pulumi_exo_distributor import OrganizationStatus, PartnerClient

from .conftest import Stack, resources

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet"
TYPE = "pulumi-python:dynamic/exoscale:DistributorOrganization"


@pytest.fixture
def fleet(stack: Stack) -> Iterator[Stack]:
    work = Path(stack.stack.workspace.work_dir)
    shutil.copy(EXAMPLE / "__main__.py", work / "__main__.py")
    shutil.copy(EXAMPLE / "customers.yaml", work / "customers.yaml")
    yield stack
    # Protected resources would make the fixture's destroy fail.
    stack.cli("state", "unprotect", "--all", "--yes")


def edit(stack: Stack, old: str, new: str) -> None:
    path = Path(stack.stack.workspace.work_dir) / "customers.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def organizations(stack: Stack) -> dict[str, dict[str, object]]:
    return {r["urn"].rsplit("::", 1)[1]: r for r in resources(stack.stack) if r["type"] == TYPE}


def test_the_fleet_example(fleet: Stack, api: PartnerClient) -> None:
    preview, calls = fleet.calls(fleet.preview)
    assert preview.change_summary == {"create": 4}  # the stack and three customers
    assert calls == {"list-distributor-organizations": 1}  # are the declared client ids free?

    result, calls = fleet.calls(fleet.up)
    assert result.summary.result == "succeeded"
    # What the file asks for, one call each. The provider may also look its client ids up first
    # (one list for the whole run), which is its own business, not the file's.
    assert calls.pop("list-distributor-organizations", 0) <= 1
    assert calls == {
        "create-distributor-organization": 3,
        "activate-distributor-organization": 2,
        "suspend-distributor-organization": 1,
    }
    state = organizations(fleet)
    assert {name: r.get("protect", False) for name, r in state.items()} == {
        "acme": True,
        "globex": True,
        "nordlys": True,
    }
    outputs = fleet.outputs()
    assert outputs["globex"]["status"] == "suspended"
    nordlys = api.get_organization(outputs["nordlys"]["id"])
    # Written without quotes in the file, kept as text: Norway, and the postal code's leading zero.
    assert nordlys.billing_address is not None
    assert (nordlys.billing_address.country, nordlys.billing_address.postal_code) == ("NO", "0150")

    # Sales re-activates a customer: one call.
    edit(fleet, "    client_id: globex-001\n    status: suspended\n", "    client_id: globex-001\n")
    result, calls = fleet.calls(fleet.up)
    assert calls == {"activate-distributor-organization": 1}
    assert api.get_organization(outputs["globex"]["id"]).status is OrganizationStatus.ACTIVE

    # Sales removes a protected customer: refused before any API call.
    path = Path(fleet.stack.workspace.work_dir) / "customers.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"\n  acme:\n(    .*\n)+", "\n", text), encoding="utf-8")
    before = fleet.simulator.stats()
    with pytest.raises(auto.CommandError) as exc:
        fleet.up()
    assert fleet.simulator.stats() == before
    assert "protected" in str(exc.value)
    assert api.get_organization(outputs["acme"]["id"]).status is OrganizationStatus.ACTIVE
    path.write_text(text, encoding="utf-8")


def test_a_mistake_in_the_file_is_shown_with_its_line(fleet: Stack) -> None:
    edit(fleet, "      country: CH\n", "      country: XX\n")
    edit(fleet, "      postal_code: 80331\n", "      postal_cod: 80331\n")
    lines = (Path(fleet.stack.workspace.work_dir) / "customers.yaml").read_text().splitlines()
    country = lines.index("      country: XX") + 1
    postal = lines.index("      postal_cod: 80331") + 1
    before = fleet.simulator.stats()
    with pytest.raises(auto.CommandError) as exc:
        fleet.preview()
    assert fleet.simulator.stats() == before
    text = str(exc.value)
    assert "customers.yaml: 3 problems, nothing deployed:" in text
    assert (
        f"customers.yaml:{country}: customer 'acme': billing_address.country is 'XX', not an ISO 3166-1 "
        "alpha-2 country code (such as CH, DE, FR)"
    ) in text
    assert (
        f"customers.yaml:{postal}: customer 'globex': billing_address: postal_cod is not a field; "
        "did you mean postal_code?"
    ) in text
    assert "billing_address.postal_code is required" in text
    assert "Traceback" not in text
