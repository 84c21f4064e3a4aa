"""`exo-distributor import-code` prints a program that adopts the live fleet in one `pulumi up`,
and `exo-distributor orphans` reads the state `pulumi stack export` really writes. Whatever the
fleet's names and client ids, both of its outputs load and preview."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from pulumi_exo_distributor import (
    BillingAddress,
    OrganizationInput,
    OrganizationStatus,
    PartnerClient,
    load_customers,
)
from pulumi_exo_distributor._resource import default_client_id
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import ADDRESS, Stack, make_stack

KEY, SECRET = "EXOimportcode0000000000001", "import-code-secret"
COMMAND = Path(sys.executable).with_name("exo-distributor")
FLEET_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet"


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
    return run_command(stack, *args, stdin=stdin).stdout


def run_command(stack: Stack, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
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
    return done


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
    assert found == {"unmanaged": [], "duplicate_client_ids": {}, "gone": [], "terminated": []}
    assert (
        command(stack, "import-code", "--stack-state", "-", stdin=exported).count("DistributorOrganization(")
        == 0
    )


def seed_awkward(api: PartnerClient) -> dict[str, str]:
    """Organizations whose names and client ids make poor keys: the long client id another stack
    derived, unicode, a script with no ASCII letters, and one client id shared by two."""
    ids = {}
    for name, client_id in (
        ("Société Générale des Eaux", "pulumi:fleet/prod/société"),
        ("Long Name SA", default_client_id("fleet", "prod", "customer-with-a-long-resource-name-" * 6)),
        ("Zürcher Käserei AG", None),
        ("株式会社テスト", None),
        ("Twin One SA", "twin-001"),
        ("Twin Two SA", "twin-001"),
    ):
        org = api.create_organization(
            OrganizationInput(
                display_name=name,
                owner_email="ops@customer.example",
                billing_address=BillingAddress.model_validate({**ADDRESS, "name": name}),
                client_id=client_id,
            )
        )
        api.activate_organization(org.id)
        ids[name] = str(org.id)
    return ids


def test_import_code_of_an_awkward_fleet_loads_and_previews(fleet_stack: tuple[Stack, PartnerClient]) -> None:
    stack, api = fleet_stack
    ids = seed_awkward(api)
    work = Path(stack.stack.workspace.work_dir)

    # The customers file: load_customers takes every entry, under keys kept to its rules.
    generated = run_command(stack, "import-code", "--format", "yaml")
    assert "warning: client id 'twin-001' is shared by 2 live organizations" in generated.stderr
    shutil.copy(FLEET_EXAMPLE / "__main__.py", work / "__main__.py")
    (work / "customers.yaml").write_text(generated.stdout, encoding="utf-8")
    customers = {
        customer.inputs["adopt_id"]: customer for customer in load_customers(work / "customers.yaml")
    }
    assert set(customers) == set(ids.values())
    keys = {name: customers[org_id].name for name, org_id in ids.items()}
    assert keys["Société Générale des Eaux"] == "societe"
    assert keys["Zürcher Käserei AG"] == "zurcher-kaserei-ag"
    assert keys["株式会社テスト"] == f"org-{ids['株式会社テスト'][:8]}"
    assert len(keys["Long Name SA"]) <= 60 and keys["Long Name SA"].startswith(
        "customer-with-a-long-resource"
    )
    assert {keys["Twin One SA"], keys["Twin Two SA"]} == {"twin-001", "twin-001-2"}
    assert customers[ids["Long Name SA"]].inputs["display_name"] == "Long Name SA"
    assert not any("client_id" in customers[ids[twin]].inputs for twin in ("Twin One SA", "Twin Two SA"))

    preview = stack.preview()
    assert preview.change_summary == {"create": len(ids) + 1}  # the stack and every organization

    # The program: the same names, and it previews too.
    program = command(stack, "import-code")
    (work / "__main__.py").write_text(program, encoding="utf-8")
    (work / "customers.yaml").unlink()
    names = re.findall(r'^DistributorOrganization\(\n    "([^"]+)",$', program, flags=re.MULTILINE)
    assert sorted(names) == sorted(keys.values())
    preview = stack.preview()
    assert preview.change_summary == {"create": len(ids) + 1}
