"""examples/shards through the real engine: 8 customers over shard stacks on a local S3 backend.

The driver runs every shard at once; placement is stable as the shard count grows; whatever would
move a customer is refused at preview, naming it, before any API call.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pulumi import automation as auto

from benchmarks.engine import VENV, offline_env
from pulumi_exo_distributor import load_customers
from pulumi_exo_distributor._shards import home_shard
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import KEY, PASSPHRASE, SECRET

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shards"
TYPE = "pulumi-python:dynamic/exoscale:DistributorOrganization"


def _driver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shards_driver", EXAMPLE / "driver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


driver = _driver()


class Fleet:
    """A copy of examples/shards, its environment, and the simulator's books."""

    def __init__(self, project: Path, env: dict[str, str], simulator: Any) -> None:
        self.project = project
        self.env = env
        self.simulator = simulator

    def run(self, command: str) -> tuple[list[Any], dict[str, int]]:
        """The driver's outcomes, and the API operations the command caused."""
        before = self.simulator.stats()
        outcomes = driver.run(command, self.project, parallel=2, env=self.env)
        after = self.simulator.stats()
        return outcomes, {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.project / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def held(self) -> dict[str, dict[str, str]]:
        """Per shard stack: customer -> organization id, as its state holds them."""
        found: dict[str, dict[str, str]] = {}
        for name in driver.shard_stacks(driver.shard_count(self.project)):
            stack = auto.Stack.select(
                name, auto.LocalWorkspace(work_dir=str(self.project), env_vars=self.env)
            )
            deployment = stack.export_stack().deployment or {}
            found[name] = {
                r["urn"].rsplit("::", 1)[1]: r["id"]
                for r in deployment.get("resources", [])
                if r["type"] == TYPE
            }
        return found


@pytest.fixture
def fleet(pulumi_cli: str, tmp_path: Path) -> Iterator[Fleet]:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLE / "__main__.py", project / "__main__.py")
    text = (EXAMPLE / "Pulumi.yaml").read_text(encoding="utf-8")
    text = text.replace("virtualenv: venv", f"virtualenv: {VENV}").replace("value: 4", "value: 2")
    (project / "Pulumi.yaml").write_text(text, encoding="utf-8")
    # Unprotected, so that the driver's destroy can end the test.
    text = (EXAMPLE / "customers.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(    client_id: .*\n)", r"\1    protect: false\n", text)
    (project / "customers.yaml").write_text(text, encoding="utf-8")
    # A simulator of its own: the organizations of this test are the only ones of its distributor.
    credential = Credential(KEY, SECRET)
    with (
        run_simulator(SimulatorConfig(credentials=(credential,))) as simulator,
        driver.local_s3_backend() as s3,
    ):
        env = {
            **s3,
            **offline_env(tmp_path, PASSPHRASE),
            "EXOSCALE_API_KEY": KEY,
            "EXOSCALE_API_SECRET": SECRET,
            "EXOSCALE_PARTNER_API_ENDPOINT": simulator.url,
        }
        yield Fleet(project, env, simulator)


def ok(outcomes: list[Any]) -> dict[str, dict[str, int]]:
    assert all(o.ok for o in outcomes), driver.table(outcomes, 0)
    return {o.stack: o.changes for o in outcomes}


def test_customers_over_shards_never_move(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    customers = {c.name: c for c in load_customers(EXAMPLE / "customers.yaml")}
    assert len(customers) == 8
    # acme's entry asks for shard-1; the others go where the hash of their key says.
    expected = {
        "shard-0": {"nordlys", "umbrella", "vandelay", "wonka"},
        "shard-1": {"acme", "globex", "initech", "hooli"},
    }

    outcomes, calls = fleet.run("up")
    assert ok(outcomes) == {"shard-0": {"create": 5}, "shard-1": {"create": 5}}  # 4 each, and the stack
    assert "shard-0  up       ok" in driver.table(outcomes, 1.0)
    assert calls["create-distributor-organization"] == 8
    first = fleet.held()
    assert {shard: set(held) for shard, held in first.items()} == expected

    # Sales moves nordlys to the other shard: refused by every shard at preview, naming it.
    moved = "    client_id: nordlys-001\n    shard: shard-1\n"
    fleet.edit("customers.yaml", "    client_id: nordlys-001\n", moved)
    outcomes, calls = fleet.run("preview")
    assert calls == {}
    assert [o.ok for o in outcomes] == [False, False]
    line = (fleet.project / "customers.yaml").read_text().splitlines().index("  nordlys:") + 1
    for outcome in outcomes:
        assert (
            f"customers.yaml:{line}: customer 'nordlys' lives in shard-0, and its entry asks for shard-1: "
            "moving it would terminate and purge its organization in shard-0 and create a new one in shard-1"
        ) in outcome.error
    fleet.edit("customers.yaml", moved, "    client_id: nordlys-001\n")

    # A third shard and a new customer: no one moves, the newcomer goes to its home among three.
    fleet.edit("Pulumi.yaml", "value: 2", "value: 3")
    fleet.edit(
        "customers.yaml",
        "\ncustomers:\n",
        "\ncustomers:\n  zenith:\n    display_name: Zenith SA\n    owner_email: it@zenith.example\n"
        "    billing_address: {name: Zenith SA, country: CH, city: Bern, postal_code: '3011', "
        "street_name: Bundesplatz}\n    protect: false\n",
    )
    assert home_shard("zenith", 3) == "shard-2"
    # Of the eight, these would hash elsewhere among three shards: their states keep them.
    assert {n for n in customers if n != "acme" and home_shard(n, 3) != home_shard(n, 2)}
    outcomes, calls = fleet.run("up")
    assert ok(outcomes) == {"shard-0": {"same": 5}, "shard-1": {"same": 5}, "shard-2": {"create": 2}}
    # One creation (and its duplicate check, one list per provider process), nothing terminated.
    assert calls["create-distributor-organization"] == 1
    assert not {op for op in calls if "terminate" in op or "purge" in op}
    grown = fleet.held()
    assert grown == {**first, "shard-2": {"zenith": grown["shard-2"]["zenith"]}}

    # Back to two shards would leave zenith out and create it again: refused.
    fleet.edit("Pulumi.yaml", "value: 3", "value: 2")
    outcomes, calls = fleet.run("preview")
    assert calls == {} and not any(o.ok for o in outcomes)
    assert all(
        re.search(r"shard-\d was deployed with 3 shards, and the project now declares 2", o.error)
        for o in outcomes
    )
    fleet.edit("Pulumi.yaml", "value: 2", "value: 3")

    # The driver's command line, with its environment: the stacks exist, init has nothing to do.
    for name, value in fleet.env.items():
        monkeypatch.setenv(name, value)
    printed: list[str] = []
    assert driver.main(["init", "--project", str(fleet.project)], out=printed.append) == 0
    rows = [line.split()[:3] for line in printed[0].splitlines()[2:5]]
    assert rows == [[f"shard-{i}", "init", "ok"] for i in range(3)]

    # The driver's destroy: every organization of every shard terminated and purged.
    outcomes, calls = fleet.run("destroy")
    assert ok(outcomes) == {"shard-0": {"delete": 5}, "shard-1": {"delete": 5}, "shard-2": {"delete": 2}}
    assert calls["terminate-distributor-organization"] == 9
    assert fleet.held() == {"shard-0": {}, "shard-1": {}, "shard-2": {}}
