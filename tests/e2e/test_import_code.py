"""`exo-distributor import-code` prints a program that adopts the live fleet in one `pulumi up`,
and `exo-distributor orphans` reads the state `pulumi stack export` really writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from pulumi_exo_distributor import BillingAddress, OrganizationInput, OrganizationStatus, PartnerClient
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import ADDRESS, Stack, make_stack

KEY, SECRET = "EXOimportcode0000000000001", "import-code-secret"
COMMAND = Path(sys.executable).with_name("exo-distributor")


@pytest.fixture
def fleet_stack(pulumi_cli: str, tmp_path: Path) -> Iterator[tuple[Stack, PartnerClient]]:
    # A simulator of its own: the program adopts every live organization of the key.
    with run_simulator(SimulatorConfig(credentials=(Credential(KEY, SECRET),))) as simulator:
        handle, workspace = make_stack(simulator, tmp_path, "adopt", credentials_in="neither")
        handle.stack.set_config("exo-distributor:key", auto.ConfigValue(KEY))
        handle.stack.set_config("exo-distributor:secret", auto.ConfigValue(SECRET, secret=True))
        handle.stack.set_config("exo-distributor:endpoint", auto.ConfigValue(simulator.url))
        with PartnerClient(KEY, SECRET, simulator.url) as client:
            try:
                yield handle, client
            finally:
                handle.cli("state", "unprotect", "--all", "--yes")
                handle.stack.destroy(color="never")
                workspace.remove_stack("adopt", force=True)


def command(stack: Stack, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(COMMAND), *args],
        input=stdin,
        env={
            **os.environ,
            "EXOSCALE_API_KEY": KEY,
            "EXOSCALE_API_SECRET": SECRET,
            "EXOSCALE_PARTNER_API_ENDPOINT": stack.simulator.url,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def seed(api: PartnerClient) -> dict[str, str]:
    ids = {}
    for name, client_id, status in (
        ("Alpha SA", "alpha-1", "active"),
        ("Beta AG", "beta-1", "suspended"),
        ("Gamma SARL", None, "created"),
    ):
        org = api.create_organization(
            OrganizationInput(
                display_name=name,
                owner_email="ops@customer.example",
                billing_address=BillingAddress.model_validate({**ADDRESS, "name": name}),
                client_id=client_id,
            )
        )
        if status == "active":
            api.activate_organization(org.id)
        elif status == "suspended":
            api.suspend_organization(org.id)
        ids[name] = str(org.id)
    return ids


def test_import_code_adopts_the_fleet_in_one_up(fleet_stack: tuple[Stack, PartnerClient]) -> None:
    stack, api = fleet_stack
    ids = seed(api)
    program = command(stack, "import-code")
    (Path(stack.stack.workspace.work_dir) / "__main__.py").write_text(program, encoding="utf-8")

    result, calls = stack.calls(stack.up)
    assert result.summary.result == "succeeded"
    # One read per organization; the only change: the `created` one is activated, as the note said.
    assert calls == {"get-distributor-organization": 3, "activate-distributor-organization": 1}
    assert api.get_organization(ids["Beta AG"]).status is OrganizationStatus.SUSPENDED

    export: dict[str, Any] = dict(stack.stack.export_stack().deployment or {})
    adopted = {r["id"]: r for r in export["resources"] if r["type"].endswith(":DistributorOrganization")}
    assert set(adopted) == set(ids.values())
    assert all(r["protect"] and r["outputs"]["deletion_policy"] == "retain" for r in adopted.values())

    preview, calls = stack.calls(stack.preview)
    assert preview.change_summary == {"same": 4}
    assert calls == {}

    # The real export format: nothing is left unmanaged.
    exported = json.dumps({"version": 3, "deployment": export})
    found = json.loads(command(stack, "orphans", "--stack-state", "-", "-o", "json", stdin=exported))
    assert found == {"unmanaged": [], "duplicate_client_ids": {}, "gone": []}
    assert (
        command(stack, "import-code", "--stack-state", "-", stdin=exported).count("DistributorOrganization(")
        == 0
    )
