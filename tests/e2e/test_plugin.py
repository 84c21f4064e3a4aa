"""The provider plugin through the real engine: found on PATH with nothing downloaded, its version
recorded in the state, the lifecycle, `pulumi import` of an organization the program did not
create, the schema, and no plugin process outliving the engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor._models import BillingAddress, OrganizationInput
from pulumi_exo_distributor.plugin import PLUGIN_EXECUTABLE, TYPE_TOKEN, plugin_version

from .conftest import ADDRESS, SECRET, Stack, changes, make_stack, org_spec, processes_with, resources


def plugin_processes(home: Path) -> list[int]:
    """The plugin processes started for this test's stack (its own PULUMI_HOME)."""
    return [
        pid for pid, command in processes_with(f"PULUMI_HOME={home}").items() if PLUGIN_EXECUTABLE in command
    ]


@pytest.fixture
def plugin_stack(
    pulumi_cli: str, simulator: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    if shutil.which(PLUGIN_EXECUTABLE) is None:
        pytest.fail(
            f"{PLUGIN_EXECUTABLE} is not on PATH: put the venv's bin on PATH (make test does)", pytrace=False
        )
    name = "p" + request.node.name[:40]
    handle, workspace = make_stack(simulator, tmp_path, name, credentials_in="config", frontend="plugin")
    yield handle
    try:
        handle.stack.destroy(color="never")
    finally:
        workspace.remove_stack(name, force=True)
        assert plugin_processes(tmp_path / "pulumi-home") == []


def organizations(stack: Stack) -> dict[str, dict[str, Any]]:
    return {r["urn"].rsplit("::", 1)[1]: r for r in resources(stack.stack) if r["type"] == TYPE_TOKEN}


def test_lifecycle_through_the_engine(plugin_stack: Stack, api: PartnerClient, tmp_path: Path) -> None:
    stack = plugin_stack
    # A BillingAddressArgs (snake_case getters) reaches the plugin under the schema's names.
    stack.set_orgs({"acme": org_spec(client_id="plugin-e2e-life", typed_address=True)})
    up = stack.up()
    assert changes(up.summary.resource_changes) == {"create": 2}
    org = organizations(stack)["acme"]
    org_id = org["id"]
    assert api.get_organization(org_id).status.value == "active"
    # Same rules, same records: the effective policy in the inputs, camelCase names.
    assert org["inputs"]["deletionPolicy"] == "purge"
    assert org["inputs"]["defaultClientId"] == f"pulumi:e2e/{stack.stack.name}/acme"
    assert stack.outputs()["acme"]["billing_address"]["postal_code"] == ADDRESS["postal_code"]
    # The plugin's version is in the state: the default provider of that version.
    providers = [r for r in resources(stack.stack) if r["type"] == "pulumi:providers:exo-distributor"]
    assert [p["inputs"].get("version") for p in providers] == [plugin_version()]
    assert org["provider"].startswith(providers[0]["urn"])
    # The secret never reaches the state in the clear (the backend's files, as written).
    written = [path for path in stack.backend.rglob("*.json") if SECRET in path.read_text()]
    assert written == []
    secret = providers[0]["inputs"]["secret"]
    assert isinstance(secret, dict) and "4dabf18193072939515e22adb298388d" in secret  # a secret value
    # Nothing changed: a clean preview, with the real CLI.
    clean = stack.cli("preview", "--expect-no-changes")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # A status change is an update in place.
    stack.set_orgs({"acme": org_spec(client_id="plugin-e2e-life", status="suspended")})
    preview = stack.preview(diff=True)
    assert changes(preview.change_summary) == {"update": 1, "same": 1}
    assert 'status: "active" => "suspended"' in preview.stdout
    stack.up()
    assert api.get_organization(org_id).status.value == "suspended"
    # A create-only change is refused at preview, naming the schema's field.
    stack.set_orgs(
        {"acme": org_spec(client_id="plugin-e2e-life", status="suspended", display_name="Acme AG")}
    )
    refused = stack.cli("preview")
    assert refused.returncode != 0
    assert "displayName" in refused.stdout + refused.stderr
    # Removed from the program: the preview shows the policy, the up purges.
    stack.set_orgs({})
    gone = stack.preview(diff=True)
    assert re.search(r'DistributorOrganization: \(delete\)[^$]*deletionPolicy\s*: "purge"', gone.stdout), (
        gone.stdout
    )
    stack.up()
    assert org_id not in {str(o.id) for o in api.list_organizations() if o.status.value != "terminated"}
    assert plugin_processes(tmp_path / "pulumi-home") == []


def existing(api: PartnerClient, client_id: str) -> str:
    body = OrganizationInput(
        display_name="Imported SA",
        owner_email="owner@imported.example",
        billing_address=BillingAddress.model_validate(ADDRESS),
        client_id=client_id,
    )
    return str(api.activate_organization(api.create_organization(body).id).id)


def test_pulumi_import_then_the_program_previews_clean_and_destroy_retains(
    plugin_stack: Stack, api: PartnerClient
) -> None:
    stack = plugin_stack
    org_id = existing(api, "plugin-e2e-imported")
    stack.set_orgs({})
    stack.up()
    # An id no organization has: refused with the plugin's message alone (no Python frames).
    missing = "00000000-0000-4000-8000-000000000000"
    wrong = stack.cli("import", TYPE_TOKEN, "nothing", missing, "--yes", "--generate-code=false")
    said = wrong.stdout + wrong.stderr
    assert wrong.returncode != 0
    assert f"cannot import organization {missing}: no organization with this id" in said, said
    assert 'File "' not in said and "Traceback" not in said and SECRET not in said
    imported = stack.cli(
        "import", TYPE_TOKEN, "acme", org_id, "--yes", "--generate-code=false", "--protect=false"
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "failed to validate" not in imported.stdout + imported.stderr
    org = organizations(stack)["acme"]
    assert org["inputs"]["adoptId"] == org_id and org["inputs"]["deletionPolicy"] == "retain"
    # The program declares it, with a display name and owner e-mail the API never returns.
    declared = org_spec(
        client_id="plugin-e2e-imported",
        adopt_id=org_id,
        display_name="Imported SA (as the program says)",
        owner_email="someone@imported.example",
    )
    stack.set_orgs({"acme": declared})
    clean = stack.cli("preview", "--expect-no-changes", "--diff")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # Without adoptId nor a policy, the program would purge what it did not create: refused.
    stack.set_orgs({"acme": org_spec(client_id="plugin-e2e-imported")})
    refused = stack.cli("preview")
    assert refused.returncode != 0 and "adoptId" in refused.stdout + refused.stderr
    # Declared and up: then removed, it is left running (retain).
    stack.set_orgs({"acme": declared})
    stack.up()
    stack.set_orgs({})
    result = stack.up()
    assert api.get_organization(org_id).status.value == "active"
    assert f"organization {org_id}" in result.stdout and "left running" in result.stdout


def test_the_engine_gets_the_schema_from_the_plugin_on_path(plugin_stack: Stack) -> None:
    found = shutil.which(PLUGIN_EXECUTABLE)
    assert found is not None
    shown = subprocess.run(
        ["pulumi", "package", "get-schema", found],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **plugin_stack.stack.workspace.env_vars},
    )
    assert shown.returncode == 0, shown.stderr
    schema = json.loads(shown.stdout)
    assert schema["version"] == plugin_version()
    assert TYPE_TOKEN in schema["resources"]


def test_the_import_resource_option_adopts_an_organization_the_program_declares(
    plugin_stack: Stack, api: PartnerClient
) -> None:
    stack = plugin_stack
    org_id = existing(api, "plugin-e2e-import-option")
    declared = org_spec(client_id="plugin-e2e-import-option", adopt_id=org_id, display_name="Any name")
    stack.set_orgs({"acme": {**declared, "import_id": org_id}})
    _, calls = stack.calls(stack.up)
    assert "create-distributor-organization" not in calls
    org = organizations(stack)["acme"]
    assert org["id"] == org_id and org["inputs"]["deletionPolicy"] == "retain"
    # The option kept or not, nothing changes; removed from the program, it is left running.
    stack.set_orgs({"acme": declared})
    assert stack.cli("preview", "--expect-no-changes").returncode == 0
    stack.set_orgs({})
    stack.up()
    assert api.get_organization(org_id).status.value == "active"


def test_the_functions_are_invokes_of_the_plugin(plugin_stack: Stack, api: PartnerClient) -> None:
    stack = plugin_stack
    program = Path(__file__).with_name("plugin_functions_program.py")
    shutil.copy(program, Path(stack.stack.workspace.work_dir) / "__main__.py")
    org_id = existing(api, "plugin-e2e-invoked")
    stack.stack.set_config("target", auto.ConfigValue(org_id))
    stack.up()
    outputs = stack.outputs()
    assert org_id in outputs["listed"]
    assert outputs["target"]["clientId"] == "plugin-e2e-invoked"
    assert outputs["target"]["billingAddress"]["postalCode"] == ADDRESS["postal_code"]
    # An id no organization has: the plugin's message, no frames, no secret.
    stack.stack.set_config("target", auto.ConfigValue("00000000-0000-4000-8000-000000000000"))
    failed = stack.cli("preview")
    said = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "cannot get organization 00000000-0000-4000-8000-000000000000" in said
    # The program's own traceback may follow; no frame of the plugin's (the SDK's servicer adds them).
    assert "pulumi_exo_distributor/plugin" not in said and "pulumi_exo_distributor/core" not in said, said
    assert SECRET not in said
