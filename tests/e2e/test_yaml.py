"""Pulumi YAML programs through the real engine, with the YAML language host that
scripts/ensure-pulumi-yaml.sh builds (``make test`` puts it first on PATH).

Each test runs the `pulumi` CLI itself, as a user would, in a project of its own on a file backend,
and checks afterwards that nothing it started is still running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from benchmarks.engine import kill_tree, offline_env
from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import processes_with

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "yaml-passphrase"
#: The longest any one command of these tests may take before its whole process tree is killed.
TIMEOUT = 300


@pytest.fixture(scope="session")
def yaml_host(pulumi_cli: str) -> str:
    found = shutil.which("pulumi-language-yaml")
    if found is None:
        pytest.fail(
            "pulumi-language-yaml is not on PATH: run the tests with `make test`, which builds it "
            "(scripts/ensure-pulumi-yaml.sh), or put its directory on PATH",
            pytrace=False,
        )
    return found


class YamlProject:
    """A Pulumi YAML project in ``workdir/project`` with one stack, on the file backend
    ``workdir/backend``; every command runs the `pulumi` CLI on PATH with ``env``."""

    def __init__(self, workdir: Path, program: str, stack: str = "dev", **env: str) -> None:
        self.workdir = workdir
        self.dir = workdir / "project"
        self.dir.mkdir(parents=True)
        (self.dir / "Pulumi.yaml").write_text(program)
        (workdir / "backend").mkdir()
        self.stack = stack
        self.env = {
            **os.environ,
            **offline_env(workdir, PASSPHRASE),
            "PULUMI_BACKEND_URL": f"file://{workdir / 'backend'}",
            **env,
        }
        self.run("stack", "init", stack, stack_arg=False)

    def run(self, *args: str, check: bool = True, stack_arg: bool = True) -> subprocess.CompletedProcess[str]:
        """``pulumi ARGS`` in the project; on a timeout its whole process tree is killed first."""
        command = ["pulumi", *args, "--non-interactive", "--color", "never"]
        if stack_arg:
            command += ["--stack", self.stack]
        process = subprocess.Popen(
            command, cwd=self.dir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            process.communicate()
            raise
        done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        if check and done.returncode != 0:
            pytest.fail(
                f"pulumi {' '.join(args)} exited {done.returncode}:\n{stdout}\n{stderr}", pytrace=False
            )
        return done

    def config(self, values: Mapping[str, str], *, secret: bool = False) -> None:
        for key, value in values.items():
            self.run("config", "set", key, value, *(["--secret"] if secret else []))

    def outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout))


@pytest.fixture
def yaml_project(yaml_host: str, tmp_path: Path) -> Iterator[type[YamlProject]]:
    """YamlProject, for projects under ``tmp_path``; afterwards, no process the engine started for
    them may still run (any that does is killed, and the test fails)."""
    yield YamlProject
    left = [f"{pid}: {command}" for pid, command in processes_with(str(tmp_path)).items()]
    for line in left:
        kill_tree(int(line.split(":", 1)[0]))
    assert not left, f"still running after the test: {left}"


#: A YAML program of config and outputs only: no provider, so it proves the host alone.
CONFIG_ONLY = """\
name: yaml-host-check
runtime: yaml
description: config and outputs only, evaluated by pulumi-language-yaml
config:
  customers:
    type: string
  seats:
    type: integer
    default: 3
  token:
    type: string
    secret: true
variables:
  names:
    fn::split:
      - ","
      - ${customers}
outputs:
  first: ${names[0]}
  names: ${names}
  joined:
    fn::join:
      - " + "
      - - ${names[1]}
        - ${names[0]}
  seats: ${seats}
  token: ${token}
"""


def test_the_yaml_host_runs_a_program_of_config_and_outputs(
    yaml_project: type[YamlProject], yaml_host: str, tmp_path: Path
) -> None:
    project = yaml_project(tmp_path, CONFIG_ONLY)
    project.config({"customers": "acme,globex"})
    project.config({"token": "s3cret"}, secret=True)
    up = project.run("up", "--yes", "--skip-preview")
    assert "error" not in up.stdout.lower(), up.stdout
    assert project.outputs() == {
        "first": "acme",
        "names": ["acme", "globex"],
        "joined": "globex + acme",
        "seats": 3,
        "token": "s3cret",
    }
    # The engine ran the host found on PATH (the one make test built), and says so.
    assert f"using pulumi-language-yaml from $PATH at {yaml_host}" in up.stdout + up.stderr
    # The secret stays one in the state.
    state = project.run("stack", "export").stdout
    assert "s3cret" not in state
    # A changed config value shows in the next preview, then an up applies it.
    project.config({"seats": "5"})
    preview = project.run("preview", "--diff")
    assert "seats" in preview.stdout and "5" in preview.stdout, preview.stdout
    project.run("up", "--yes", "--skip-preview")
    assert project.outputs()["seats"] == 5
    project.run("preview", "--expect-no-changes")
    # The host type-checks the config it declares: an integer that is not one stops the program.
    project.config({"seats": "many"})
    refused = project.run("preview", check=False)
    assert refused.returncode != 0
    assert "seats" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
    project.run("destroy", "--yes", "--skip-preview")


EXAMPLE = ROOT / "examples" / "yaml" / "Pulumi.yaml"
#: A YAML program that only reads, through the plugin's invokes.
LOOKUP = """\
name: exo-distributor-lookup
runtime: yaml
variables:
  globex:
    fn::invoke:
      function: exo-distributor:index:getOrganization
      arguments:
        id: ORG_ID
  everyone:
    fn::invoke:
      function: exo-distributor:index:listOrganizations
outputs:
  status: ${globex.status}
  clientId: ${globex.clientId}
  organizations: ${everyone.organizations}
"""
KEY, SECRET = "EXOyamlexample000000000001", "yaml-example-secret-never-shown"


@pytest.fixture
def own_simulator() -> Iterator[Any]:
    """A simulator of this test alone: its organizations are exactly the example's."""
    with run_simulator(SimulatorConfig(credentials=(Credential(KEY, SECRET),))) as running:
        yield running


def test_the_yaml_example_creates_suspends_and_destroys_per_each_deletion_policy(
    yaml_project: type[YamlProject], own_simulator: Any, tmp_path: Path
) -> None:
    project = yaml_project(tmp_path, EXAMPLE.read_text())
    project.config({"exo-distributor:key": KEY, "exo-distributor:endpoint": own_simulator.url})
    project.config({"exo-distributor:secret": SECRET}, secret=True)

    project.run("up", "--yes", "--skip-preview")
    ids = {name: value["id"] for name, value in project.outputs().items()}
    assert sorted(ids) == ["acme", "globex", "initech"]
    with PartnerClient(KEY, SECRET, own_simulator.url) as api:
        orgs = {str(org.id): org for org in api.list_organizations()}
        assert set(orgs) == set(ids.values())
        by_name = {name: orgs[org_id] for name, org_id in ids.items()}
        assert {name: org.status.value for name, org in by_name.items()} == dict.fromkeys(ids, "active")
        assert {name: org.client_id for name, org in by_name.items()} == {
            "acme": "acme-ch",
            "globex": "globex-de",
            "initech": "initech-fr",
        }
        assert by_name["globex"].billing_address is not None
        assert by_name["globex"].billing_address.city == "München"
        # The plugin's resources in the state (no dynamic provider), and nothing secret.
        state = project.run("stack", "export").stdout
        assert SECRET not in state
        kinds = sorted(r["type"] for r in json.loads(state)["deployment"]["resources"])
        assert kinds == [
            *["exo-distributor:index:DistributorOrganization"] * 3,
            "pulumi:providers:exo-distributor",
            "pulumi:pulumi:Stack",
        ]

        # A status change through config: one update, in place, then nothing left to do.
        project.config({"globexStatus": "suspended"})
        preview = project.run("preview", "--diff")
        assert re.search(
            r"~ exo-distributor:index:DistributorOrganization: \(update\)\s+\[id=", preview.stdout
        )
        assert "1 to update" in preview.stdout, preview.stdout
        project.run("up", "--yes", "--skip-preview")
        status = {name: api.get_organization(org_id).status.value for name, org_id in ids.items()}
        assert status == {"acme": "active", "globex": "suspended", "initech": "active"}
        assert project.outputs()["globex"] == {"id": ids["globex"], "status": "suspended"}
        project.run("preview", "--expect-no-changes")

        # Another YAML program reads them with the plugin's invokes, as docs/guides/plugin.md shows.
        lookup = yaml_project(tmp_path / "lookup", LOOKUP.replace("ORG_ID", ids["globex"]))
        lookup.config({"exo-distributor:key": KEY, "exo-distributor:endpoint": own_simulator.url})
        lookup.config({"exo-distributor:secret": SECRET}, secret=True)
        lookup.run("up", "--yes", "--skip-preview")
        found = lookup.outputs()
        assert (found["status"], found["clientId"]) == ("suspended", "globex-de")
        assert sorted(org["id"] for org in found["organizations"]) == sorted(ids.values())
        lookup.run("destroy", "--yes", "--skip-preview")

        # destroy: each organization as its deletionPolicy says.
        before = own_simulator.stats()
        destroyed = project.run("destroy", "--yes", "--skip-preview")
        purges = own_simulator.stats().get("schedule-purge-distributor-organization", 0) - before.get(
            "schedule-purge-distributor-organization", 0
        )
        assert purges == 1  # acme's, the default policy; none for the others
        remaining = {str(org.id): org.status.value for org in api.list_organizations()}
        assert remaining.get(ids["acme"], "terminated") == "terminated"
        assert remaining[ids["globex"]] == "terminated"
        assert remaining[ids["initech"]] == "active"
        assert "left running, no longer managed" in destroyed.stdout + destroyed.stderr
    assert project.run("stack", "export").stdout.count('"urn"') == 0
