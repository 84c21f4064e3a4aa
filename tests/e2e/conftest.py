"""The real Pulumi engine (CLI + Python language host + dynamic provider host) against the simulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from benchmarks.engine import ORGS_PROGRAM, LocalProject
from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor._data import DYNAMIC_RESOURCE_TYPE
from pulumi_exo_distributor.plugin import TYPE_TOKEN
from pulumi_exo_distributor.plugin._names import camel
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

KEY, SECRET = "EXOe2etests000000000000001", "e2e-secret-that-must-never-leak-7f3a"
#: Another distributor account, known to the simulator.
OTHER_KEY, OTHER_SECRET = "EXOe2eothers00000000000001", "another-distributors-secret"
PASSPHRASE = "e2e-passphrase"

ADDRESS = {
    "name": "Acme SA",
    "country": "CH",
    "city": "Lausanne",
    "postal_code": "1003",
    "street_name": "Rue de Bourg",
    "building_number": "12",
}


def processes_with(marker: str) -> dict[int, str]:
    """The processes, other than this one, whose environment holds ``marker`` (a test's own
    directory, its ``PULUMI_HOME=...``), each with its command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if marker.encode() not in environ.read():
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                found[int(entry)] = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def pulumi_cli() -> str:
    found = shutil.which("pulumi")
    if found is None:
        pytest.fail(
            "the Pulumi CLI is not on PATH: run the tests with `make test`, which ensures it "
            "(scripts/ensure-pulumi.sh), or put its directory on PATH",
            pytrace=False,
        )
    for plugin in ("pulumi-language-python", "pulumi-resource-pulumi-python"):
        if shutil.which(plugin) is None:
            pytest.fail(f"{plugin} is not on PATH (see scripts/ensure-pulumi.sh)", pytrace=False)
    return found


@pytest.fixture(scope="session")
def simulator() -> Iterator[Any]:
    credentials = (Credential(KEY, SECRET), Credential(OTHER_KEY, OTHER_SECRET))
    with run_simulator(SimulatorConfig(credentials=credentials)) as running:
        yield running


@pytest.fixture
def api(simulator: Any) -> Iterator[PartnerClient]:
    with PartnerClient(KEY, SECRET, simulator.url) as client:
        yield client


class Stack:
    """One throw-away stack of the test program, on a local file backend."""

    def __init__(self, stack: auto.Stack, simulator: Any, backend: Path, frontend: str = "dynamic") -> None:
        self.stack = stack
        self.frontend = frontend
        self.backend = backend
        self.simulator = simulator
        self.output: list[str] = []

    def set_orgs(self, orgs: dict[str, dict[str, Any]]) -> None:
        self.stack.set_config("orgs", auto.ConfigValue(json.dumps(orgs)))

    def calls(self, fn: Any) -> tuple[Any, dict[str, int]]:
        """Run fn and return its result with the API operations it caused."""
        before = self.simulator.stats()
        result = fn()
        after = self.simulator.stats()
        return result, {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}

    def up(self, **kwargs: Any) -> auto.UpResult:
        return self.stack.up(on_output=self.output.append, color="never", **kwargs)

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        return self.stack.preview(on_output=self.output.append, color="never", **kwargs)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the pulumi CLI itself on this stack, as a user would."""
        workspace = self.stack.workspace
        return subprocess.run(
            ["pulumi", *args, "--stack", self.stack.name, "--non-interactive"],
            cwd=workspace.work_dir,
            env={**os.environ, **workspace.env_vars},
            capture_output=True,
            text=True,
            check=False,
        )

    def outputs(self) -> dict[str, Any]:
        return {name: value.value for name, value in self.stack.outputs().items()}


#: The front-ends of the organization resource: the dynamic provider and the provider plugin.
FRONTENDS = ("dynamic", "plugin")


def make_stack(
    simulator: Any, tmp_path: Path, name: str, *, credentials_in: str, frontend: str = "dynamic"
) -> tuple[Stack, Any]:
    local = LocalProject(tmp_path, "e2e", ORGS_PROGRAM, PASSPHRASE)
    from_env = credentials_in == "env"
    env = {
        **local.env,
        "EXOSCALE_API_KEY": KEY if from_env else "",
        "EXOSCALE_API_SECRET": SECRET if from_env else "",
        "EXOSCALE_PARTNER_API_ENDPOINT": simulator.url if from_env else "",
    }
    workspace = auto.LocalWorkspace(work_dir=str(local.dir), env_vars=env)
    s = auto.Stack.create(name, workspace)
    if credentials_in == "config":
        # One `pulumi config set-all` for the three, rather than a command each.
        s.set_all_config(
            {
                "exo-distributor:key": auto.ConfigValue(KEY),
                "exo-distributor:secret": auto.ConfigValue(SECRET, secret=True),
                "exo-distributor:endpoint": auto.ConfigValue(simulator.url),
            }
        )
    if frontend != "dynamic":
        s.set_config("frontend", auto.ConfigValue(frontend))
    return Stack(s, simulator, local.backend, frontend), workspace


def _stack_fixture(credentials_in: str, *, each_frontend: bool = False) -> Any:
    def fixture(
        pulumi_cli: str, simulator: Any, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[Stack]:
        frontend = request.param if each_frontend else "dynamic"
        name = "t" + request.node.name.replace("[", "-").replace("]", "")[:40]
        handle, workspace = make_stack(
            simulator, tmp_path, name, credentials_in=credentials_in, frontend=frontend
        )
        yield handle
        try:
            handle.stack.destroy(color="never")
        finally:
            workspace.remove_stack(name, force=True)

    if each_frontend:
        return pytest.fixture(params=FRONTENDS, name="stack")(fixture)
    return pytest.fixture(fixture)


#: A stack whose credentials are in its config (the secret set as a secret).
stack = _stack_fixture("config")
#: A stack whose credentials come from EXOSCALE_API_KEY / EXOSCALE_API_SECRET.
env_stack = _stack_fixture("env")
#: ``stack``, once per front-end: a module of the shared safety scenarios imports it, and its
#: tests run against the dynamic provider and the provider plugin alike.
each_frontend_stack = _stack_fixture("config", each_frontend=True)

#: The organization's type in a state, per front-end.
ORG_TYPES = {"dynamic": DYNAMIC_RESOURCE_TYPE, "plugin": TYPE_TOKEN}


def is_org(resource: Mapping[str, Any]) -> bool:
    """Whether a state's resource is an organization, of either front-end."""
    return resource.get("type") in ORG_TYPES.values()


def prop(stack: Stack, name: str) -> str:
    """A property's name as the stack's front-end records and shows it (``deletion_policy``, or
    the schema's ``deletionPolicy``)."""
    return camel(name) if stack.frontend == "plugin" else name


def resources(stack: auto.Stack) -> list[dict[str, Any]]:
    """The stack's resources, as `pulumi stack export` shows them."""
    deployment = stack.export_stack().deployment or {}
    return list(deployment.get("resources") or [])


def changes(summary: Mapping[Any, int] | None) -> dict[str, int]:
    """A change summary keyed by plain strings (``"update"``, ``"replace"``, ...)."""
    return {str(getattr(kind, "value", kind)): count for kind, count in (summary or {}).items()}


def org_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "display_name": "Acme SA",
        "owner_email": "ops@acme.example",
        "billing_address": dict(ADDRESS),
    }
    spec.update(overrides)
    return spec
