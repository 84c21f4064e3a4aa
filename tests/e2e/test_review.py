"""`exo-distributor review` on what the real engine previews, then `pulumi up` does what it said.

One stack holds organizations with each deletion policy; the program then drops three of them,
suspends one, takes an existing organization over and declares a new one, while another
organization was suspended outside Pulumi. `pulumi preview --json --refresh` (as the fleet's
workflow runs it) goes through the console script, which must name every consequence; the `up`
that follows must do exactly that, and the review must have needed no API call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pulumi_exo_distributor import BillingAddress, OrganizationInput, OrganizationStatus, PartnerClient
from pulumi_exo_distributor._review import EXIT_DESTRUCTIVE

from .conftest import ADDRESS, Stack, org_spec

SCRIPT = Path(sys.executable).with_name("exo-distributor")


def test_the_review_of_a_mixed_preview_names_each_consequence(
    stack: Stack, api: PartnerClient, tmp_path: Path
) -> None:
    declared = {
        "purged": org_spec(display_name="Purged SA", deletion_policy="purge"),
        "retained": org_spec(display_name="Retained SA", deletion_policy="retain"),
        "terminated": org_spec(display_name="Terminated SA", deletion_policy="terminate"),
        "suspended": org_spec(display_name="Suspended SA", client_id="suspended-1"),
        "drifted": org_spec(display_name="Drifted SA"),
    }
    stack.set_orgs(declared)
    stack.up()
    ids = {name: value["id"] for name, value in stack.outputs().items()}
    legacy = api.create_organization(
        OrganizationInput(
            display_name="Legacy SA",
            owner_email="legacy@acme.example",
            client_id="legacy-1",
            billing_address=BillingAddress.model_validate({**ADDRESS, "name": "Legacy SA"}),
        )
    )
    api.activate_organization(legacy.id)
    api.suspend_organization(ids["drifted"])  # a change made outside Pulumi

    stack.set_orgs(
        {
            "suspended": org_spec(display_name="Suspended SA", client_id="suspended-1", status="suspended"),
            "drifted": declared["drifted"],
            "legacy": org_spec(
                display_name="Legacy SA",
                owner_email="legacy@acme.example",
                client_id="legacy-1",
                billing_address={**ADDRESS, "name": "Legacy SA"},
                adopt_id=str(legacy.id),
            ),
            "newbie": org_spec(display_name="Newbie SA"),
        }
    )
    preview = stack.cli("preview", "--json", "--refresh")
    assert preview.returncode == 0, preview.stderr
    path = tmp_path / "preview.json"
    path.write_text(preview.stdout)

    done, calls = stack.calls(
        lambda: subprocess.run(
            [str(SCRIPT), "review", str(path), "--output", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    )
    assert calls == {}  # the review reads the preview alone
    assert done.returncode == EXIT_DESTRUCTIVE, done.stderr
    review = json.loads(done.stdout)
    found = {
        change["resource"]: (change["consequence"], change["organization_id"]) for change in review["changes"]
    }
    assert found == {
        "purged": ("terminate-and-purge", ids["purged"]),
        "terminated": ("terminate", ids["terminated"]),
        "retained": ("leave-running", ids["retained"]),
        "suspended": ("suspend", ids["suspended"]),
        "drifted": ("reactivate", ids["drifted"]),
        "legacy": ("take-over", str(legacy.id)),
        "newbie": ("create", None),
    }
    assert all(change["stack"] == stack.stack.name for change in review["changes"])
    assert review["verdict"] == "destructive"
    assert review["errors"] == []

    # `up` does what the review said.
    stack.up(refresh=True)
    listed = {str(org.id): org.status for org in api.list_organizations()}
    assert ids["purged"] not in listed
    assert listed[ids["terminated"]] is OrganizationStatus.TERMINATED
    assert listed[ids["retained"]] is OrganizationStatus.ACTIVE
    assert listed[ids["suspended"]] is OrganizationStatus.SUSPENDED
    assert listed[ids["drifted"]] is OrganizationStatus.ACTIVE
    assert stack.outputs()["legacy"]["id"] == str(legacy.id)
    assert listed[stack.outputs()["newbie"]["id"]] is OrganizationStatus.ACTIVE
