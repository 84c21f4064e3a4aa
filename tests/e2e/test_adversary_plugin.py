"""Adversarial regressions of the provider plugin, through the real engine: provider resources
(default and explicit, switched, renamed, re-keyed), `pulumi import` of what the stack cannot own,
and organizations moved between resources served by different provider processes. Each test is
named for what must hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from benchmarks.engine import LocalProject
from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor._data import DYNAMIC_RESOURCE_TYPE
from pulumi_exo_distributor.plugin import PLUGIN_EXECUTABLE, TYPE_TOKEN

from .conftest import KEY, OTHER_KEY, OTHER_SECRET, PASSPHRASE, SECRET, org_spec
from .test_plugin import existing, plugin_processes

PROGRAM = Path(__file__).with_name("plugin_providers_program.py")


class Project:
    """One throw-away stack of :data:`PROGRAM`, on a file backend of its own."""

    def __init__(self, simulator: Any, tmp_path: Path, name: str) -> None:
        local = LocalProject(tmp_path, "adv", PROGRAM, PASSPHRASE)
        self.home = tmp_path / "pulumi-home"
        self.workspace = auto.LocalWorkspace(work_dir=str(local.dir), env_vars=dict(local.env))
        self.stack = auto.Stack.create(name, self.workspace)
        self.simulator = simulator
        self.use_key(KEY, SECRET)

    def use_key(self, key: str, secret: str) -> None:
        self.stack.set_all_config(
            {
                "exo-distributor:key": auto.ConfigValue(key),
                "exo-distributor:secret": auto.ConfigValue(secret, secret=True),
                "exo-distributor:endpoint": auto.ConfigValue(self.simulator.url),
            }
        )

    def declare(self, orgs: dict[str, dict[str, Any]], providers: list[str] | None = None) -> None:
        self.stack.set_all_config(
            {
                "orgs": auto.ConfigValue(json.dumps(orgs)),
                "providers": auto.ConfigValue(json.dumps(providers or [])),
            }
        )

    def up(self) -> auto.UpResult:
        return self.stack.up(color="never")

    def ids(self, *, dynamic: bool = False) -> dict[str, str]:
        deployment = self.stack.export_stack().deployment or {}
        kind = DYNAMIC_RESOURCE_TYPE if dynamic else TYPE_TOKEN
        return {
            r["urn"].rsplit("::", 1)[1]: r["id"]
            for r in deployment.get("resources") or []
            if r["type"] == kind and not r.get("delete")
        }


@pytest.fixture
def project(
    pulumi_cli: str, simulator: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Project]:
    if shutil.which(PLUGIN_EXECUTABLE) is None:
        pytest.fail(f"{PLUGIN_EXECUTABLE} is not on PATH: put the venv's bin on PATH", pytrace=False)
    handle = Project(simulator, tmp_path, "a" + request.node.name[:40])
    yield handle
    try:
        handle.use_key(KEY, SECRET)
        handle.stack.destroy(color="never")
    finally:
        handle.workspace.remove_stack(handle.stack.name, force=True)
        assert plugin_processes(handle.home) == []


def status(api: PartnerClient, org_id: str) -> str:
    found = {str(o.id): o.status.value for o in api.list_organizations()}
    return found.get(org_id, "gone")


def test_switching_default_and_explicit_providers_replaces_no_organization(
    project: Project, api: PartnerClient
) -> None:
    project.declare({"acme": org_spec(client_id="adv-plugin-switch")})
    project.up()
    org_id = project.ids()["acme"]
    # To an explicit provider, then a renamed one (no alias), then back to the default provider.
    for providers, provider in ((["p1"], "p1"), (["p2"], "p2"), ([], None)):
        project.declare({"acme": org_spec(client_id="adv-plugin-switch", provider=provider)}, providers)
        result = project.up()
        assert result.summary.resource_changes is not None
        assert "replace" not in result.summary.resource_changes, result.stdout
        assert project.ids() == {"acme": org_id}
        assert status(api, org_id) == "active"


def test_another_distributors_key_on_the_provider_neither_forgets_nor_touches_the_organization(
    project: Project, api: PartnerClient
) -> None:
    project.declare({"acme": org_spec(client_id="adv-plugin-rekey")}, ["p1"])
    project.declare({"acme": org_spec(client_id="adv-plugin-rekey", provider="p1")}, ["p1"])
    project.up()
    org_id = project.ids()["acme"]
    project.use_key(OTHER_KEY, OTHER_SECRET)
    project.up()  # the provider's configuration is updated; the organization is not touched
    with pytest.raises(auto.CommandError, match="another distributor account"):
        project.stack.refresh(color="never")
    with pytest.raises(auto.CommandError, match="another distributor account"):
        project.stack.destroy(color="never")
    assert project.ids() == {"acme": org_id}
    assert status(api, org_id) == "active"
    # Back to the right key: a destroy uses the provider's configuration recorded by the last `up`.
    project.use_key(KEY, SECRET)
    project.up()


def test_an_organization_moved_to_a_resource_of_another_provider_is_never_purged_by_its_old_one(
    project: Project, api: PartnerClient
) -> None:
    # Created on an explicit provider, with the default policy (purge).
    project.declare({"acme": org_spec(client_id="adv-plugin-move", provider="p1")}, ["p1"])
    project.up()
    org_id = project.ids()["acme"]
    # Moved, in one `up`, to a new resource of the default provider that adopts it: the same move
    # within one provider leaves the organization to its new resource.
    project.declare({"acme2": org_spec(client_id="adv-plugin-move", adopt_id=org_id)}, ["p1"])
    result = project.up()
    assert "now managed by resource 'acme2'" in result.stdout, result.stdout
    assert project.ids() == {"acme2": org_id}
    assert status(api, org_id) == "active", "the stack manages an organization that was purged"


def test_an_organization_moved_from_the_dynamic_resource_to_the_plugin_in_one_up_is_never_purged(
    project: Project, api: PartnerClient
) -> None:
    # The guide's move, without its first step (retain, then up): removal and adoption in one `up`.
    project.declare({"acme": org_spec(client_id="adv-plugin-from-dynamic", frontend="dynamic")})
    project.up()
    org_id = project.ids(dynamic=True)["acme"]
    project.declare({"acme2": org_spec(client_id="adv-plugin-from-dynamic", adopt_id=org_id)})
    project.up()
    assert project.ids() == {"acme2": org_id}
    assert status(api, org_id) == "active", "the stack manages an organization that was purged"


def test_one_organization_adopted_by_resources_of_two_providers_is_refused(
    project: Project, api: PartnerClient
) -> None:
    org_id = existing(api, "adv-plugin-twice")
    project.declare(
        {
            "a": org_spec(client_id="adv-plugin-twice", adopt_id=org_id),
            "b": org_spec(client_id="adv-plugin-twice", adopt_id=org_id, provider="p1"),
        },
        ["p1"],
    )
    with pytest.raises(auto.CommandError, match="already managed by resource|declared by two resources"):
        project.up()
    assert status(api, org_id) == "active"


def test_pulumi_import_refuses_what_the_stack_cannot_own_and_a_second_import_cannot_be_declared(
    project: Project, api: PartnerClient, simulator: Any
) -> None:
    project.declare({})
    project.up()
    with PartnerClient(OTHER_KEY, OTHER_SECRET, simulator.url) as other:
        foreign = existing(other, "adv-plugin-foreign")
    terminated = existing(api, "adv-plugin-terminated")
    api.terminate_organization(terminated)

    def pulumi_import(name: str, org_id: str) -> str:
        found = subprocess.run(
            [
                "pulumi",
                "import",
                TYPE_TOKEN,
                name,
                org_id,
                "--yes",
                "--generate-code=false",
                "--protect=false",
            ],
            cwd=project.workspace.work_dir,
            env={**os.environ, **project.workspace.env_vars, "PULUMI_STACK": project.stack.name},
            capture_output=True,
            text=True,
            check=False,
        )
        return found.stdout + found.stderr if found.returncode else ""

    assert "no organization with this id is visible" in pulumi_import("f", foreign)
    assert "it is terminated" in pulumi_import("t", terminated)
    assert project.ids() == {}
    # One organization imported under two names: each import alone cannot know of the other; the
    # program that declares both is refused before any call, and a destroy leaves it running.
    org_id = existing(api, "adv-plugin-imported")
    assert pulumi_import("one", org_id) == "" and pulumi_import("two", org_id) == ""
    spec = org_spec(client_id="adv-plugin-imported", adopt_id=org_id)
    project.declare({"one": spec, "two": spec})
    with pytest.raises(auto.CommandError, match="already managed by resource|also the client id"):
        project.up()
    project.stack.destroy(color="never")
    assert status(api, org_id) == "active"
    with PartnerClient(OTHER_KEY, OTHER_SECRET, simulator.url) as other:
        assert status(other, foreign) == "active"
