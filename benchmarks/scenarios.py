"""Reliability scenarios: the real engine against a faulty simulator, and what the simulator holds after.

Each scenario declares a fleet (half with a client id, half without), drives `pulumi up` until it
succeeds (at most ``max_runs`` times), then counts what a customer would care about: duplicates
(two live organizations for one declaration), orphans (live, in no state), purges before the
stack was destroyed, create-only edits refused, and what is left live after `pulumi destroy`.
Used by ``make reliability`` (the full table) and by the end-to-end tests (sized for CI).
"""

# It runs the pulumi CLI by design, as the scripts and the tests do.
# ruff: noqa: S603, S607

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pulumi import automation as auto

from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor.simulator import Credential, RunningSimulator, SimulatorConfig, run_simulator

from .engine import ORGS_PROGRAM, LocalProject, kill_tree

KEY, SECRET = "EXOreliability000000000001", "reliability-secret"
ADDRESS = {
    "name": "Customer SA",
    "country": "CH",
    "city": "Lausanne",
    "postal_code": "1003",
    "street_name": "Rue de Bourg",
}


@dataclass(frozen=True)
class Outcome:
    scenario: str
    fault_rate: float
    seed: int | None
    declared: int
    #: `pulumi up` runs until one succeeded (``max_runs + 1`` if none did).
    runs: int
    duplicates: int
    orphans: int
    #: Terminate or purge requests before the stack was destroyed.
    purges: int
    #: Create-only edits refused at preview (each one tried).
    refused: int
    clean_preview: bool
    live_after_destroy: int

    @property
    def converged(self) -> bool:
        return self.runs <= 3 and self.duplicates == 0 and self.orphans == 0 and self.clean_preview


def fleet(count: int) -> dict[str, dict[str, Any]]:
    """``count`` organizations, every other one with a declared client id."""
    return {
        f"customer-{n:02d}": {
            "display_name": f"Customer {n} SA",
            "owner_email": f"owner{n}@customer.example",
            "billing_address": {**ADDRESS, "name": f"Customer {n} SA"},
            **({"client_id": f"cust-{n:02d}"} if n % 2 == 0 else {}),
        }
        for n in range(count)
    }


class Project:
    """A throw-away Pulumi project of the end-to-end program, on a file backend."""

    def __init__(self, workdir: Path, name: str, endpoint: str) -> None:
        self.workdir = workdir
        local = LocalProject(workdir, "reliability", ORGS_PROGRAM, "reliability")
        self.env = {**local.env, "EXOSCALE_API_KEY": "", "EXOSCALE_API_SECRET": ""}
        self.workspace = auto.LocalWorkspace(work_dir=str(local.dir), env_vars=self.env)
        self.name = name
        self.stack = auto.Stack.create(name, self.workspace)
        self.stack.set_all_config(
            {
                "exo-distributor:key": auto.ConfigValue(KEY),
                "exo-distributor:secret": auto.ConfigValue(SECRET, secret=True),
                "exo-distributor:endpoint": auto.ConfigValue(endpoint),
            }
        )

    def point_at(self, endpoint: str) -> None:
        self.stack.set_config("exo-distributor:endpoint", auto.ConfigValue(endpoint))

    def declare(self, orgs: dict[str, dict[str, Any]]) -> None:
        self.stack.set_config("orgs", auto.ConfigValue(json.dumps(orgs)))

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pulumi", *args, "--stack", self.name, "--non-interactive"],
            cwd=self.workspace.work_dir,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )

    def managed_ids(self) -> set[str]:
        resources = (self.stack.export_stack().deployment or {}).get("resources") or []
        return {r["id"] for r in resources if r["type"].startswith("pulumi-python:dynamic")}

    def until_success(self, action: Any, max_runs: int) -> int:
        """Run ``action`` until it succeeds; return the number of runs (``max_runs + 1``: never)."""
        for run in range(1, max_runs + 1):
            try:
                action()
            except auto.CommandError:
                continue
            return run
        return max_runs + 1

    def up(self) -> None:
        self.stack.up(color="never")

    def clean(self) -> bool:
        """Whether a preview shows nothing to do."""
        summary = self.stack.preview(color="never").change_summary
        return set(summary) == {"same"}

    def converge(self, max_runs: int) -> int:
        """Run `pulumi up` until one succeeds and leaves nothing to do; return the number of runs
        (``max_runs + 1``: never). A run can succeed and still leave work: an organization created
        whose status change failed is recorded as it is, for the next run to finish."""
        for run in range(1, max_runs + 1):
            try:
                self.up()
            except auto.CommandError:
                continue
            if self.clean():
                return run
        return max_runs + 1

    def destroy(self) -> None:
        self.stack.destroy(color="never")


@contextmanager
def healthy_view(db: Path) -> Iterator[PartnerClient]:
    """A client of a fault-free simulator over the same database: what is really there."""
    with (
        run_simulator(SimulatorConfig(credentials=(Credential(KEY, SECRET),), db_path=str(db))) as sim,
        PartnerClient(KEY, SECRET, sim.url) as client,
    ):
        yield client


def _count(client: PartnerClient, managed: set[str]) -> tuple[int, int, int]:
    live = [org for org in client.list_organizations() if org.status.value != "terminated"]
    per_client_id = Counter(org.client_id for org in live)
    duplicates = sum(n - 1 for n in per_client_id.values())
    orphans = len({str(org.id) for org in live} - managed)
    return duplicates, orphans, len(live)


def _refused_edits(project: Project, orgs: dict[str, dict[str, Any]]) -> int:
    """Try a create-only edit of each kind on the first organization: how many were refused."""
    first = next(iter(orgs))
    edits: list[dict[str, Any]] = [
        {"display_name": "Renamed SA"},
        {"billing_address": {**orgs[first]["billing_address"], "city": "Genève"}},
        {"client_id": "another-id"},
    ]
    refused = 0
    for edit in edits:
        project.declare({**orgs, first: {**orgs[first], **edit}})
        try:
            project.stack.preview(color="never")
        except auto.CommandError as exc:
            refused += "cannot change from" in str(exc)
    project.declare(orgs)
    return refused


def _settle(
    scenario: str,
    project: Project,
    db: Path,
    sim: RunningSimulator,
    orgs: dict[str, Any],
    runs: int,
    fault_rate: float,
    seed: int | None,
    max_runs: int,
) -> Outcome:
    stats = sim.stats()
    purges = stats.get("terminate-distributor-organization", 0) + stats.get(
        "schedule-purge-distributor-organization", 0
    )
    with healthy_view(db) as client:
        duplicates, orphans, _ = _count(client, project.managed_ids())
    summary = project.stack.preview(color="never").change_summary
    clean = summary == {"same": len(orgs) + 1}
    refused = _refused_edits(project, orgs)
    project.until_success(project.destroy, max_runs)
    with healthy_view(db) as client:
        _, _, live_after = _count(client, set())
    return Outcome(
        scenario, fault_rate, seed, len(orgs), runs, duplicates, orphans, purges, refused, clean, live_after
    )


def faults(workdir: Path, *, fault_rate: float, seed: int, count: int = 12, max_runs: int = 3) -> Outcome:
    """A fleet created through ``fault_rate`` injected faults (429, 5xx, connections reset before
    or after the change is committed)."""
    db = workdir / "sim.db"
    config = SimulatorConfig(
        credentials=(Credential(KEY, SECRET),), db_path=str(db), fault_rate=fault_rate, seed=seed
    )
    orgs = fleet(count)
    with run_simulator(config) as sim:
        project = Project(workdir, f"faults-{seed}", sim.url)
        project.declare(orgs)
        runs = project.converge(max_runs)
        try:
            return _settle(
                f"faults {fault_rate:.0%}", project, db, sim, orgs, runs, fault_rate, seed, max_runs
            )
        finally:
            project.workspace.remove_stack(project.name, force=True)


def crash(workdir: Path, *, count: int = 6, max_runs: int = 3) -> Outcome:
    """`kill -9` of `pulumi up` (CLI, language host, provider) while creates are in flight, then
    the documented recovery: `pulumi cancel`, `pulumi up`, and for each organization that `up`
    cannot prove its own (its create was answered before the kill), the line its refusal names,
    `adopt_id`, with `deletion_policy: purge` as for the others."""
    db = workdir / "sim.db"
    slow = SimulatorConfig(credentials=(Credential(KEY, SECRET),), db_path=str(db), latency_ms=1500)
    orgs = fleet(count)
    with run_simulator(slow) as sim:
        port = httpx.URL(sim.url).port
        project = Project(workdir, "crash", sim.url)
        project.declare(orgs)
        process = subprocess.Popen(
            ["pulumi", "up", "--yes", "--skip-preview", "--stack", project.name, "--non-interactive"],
            cwd=project.workspace.work_dir,
            env={**os.environ, **project.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        # Bounded: the creates are 1.5 s each, the deadline far beyond.
        while sim.stats().get("create-distributor-organization", 0) < 2:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pulumi up ended, or made no create, before it could be killed")
            time.sleep(0.05)
        kill_tree(process.pid)
        process.wait()
    # The API comes back at the same endpoint (the key's fingerprint covers the endpoint).
    healthy = SimulatorConfig(credentials=(Credential(KEY, SECRET),), db_path=str(db))
    with run_simulator(healthy, port=port or 0) as sim:
        project.point_at(sim.url)
        project.cli("cancel", "--yes")
        runs = _converge_adopting(project, sim, orgs, max_runs)
        try:
            return _settle("kill -9 mid-create", project, db, sim, orgs, runs, 0.0, None, max_runs)
        finally:
            project.workspace.remove_stack(project.name, force=True)


def _converge_adopting(
    project: Project, sim: RunningSimulator, orgs: dict[str, dict[str, Any]], max_runs: int
) -> int:
    """`pulumi up` until it succeeds and leaves nothing to do; return the number of runs
    (``max_runs + 1``: never). A run refused for an organization it cannot prove its own (the
    engine stops at the first such refusal) adopts it, as the error says, and is not counted."""
    with PartnerClient(KEY, SECRET, sim.url) as client:
        by_id = {str(org.id): org.client_id for org in client.list_organizations()}
    client_ids = {
        name: spec.get("client_id") or f"pulumi:reliability/{project.name}/{name}"
        for name, spec in orgs.items()
    }
    runs = 0
    for _ in range(max_runs + len(orgs)):
        try:
            project.up()
        except auto.CommandError as exc:
            named = set(re.findall(r'adopt_id="([0-9a-f-]{36})"', str(exc)))
            adopted = [
                name
                for name, client_id in client_ids.items()
                if "adopt_id" not in orgs[name] and any(by_id.get(org_id) == client_id for org_id in named)
            ]
            for name in adopted:
                org_id = next(org_id for org_id in named if by_id.get(org_id) == client_ids[name])
                orgs[name] = {**orgs[name], "adopt_id": org_id, "deletion_policy": "purge"}
            project.declare(orgs)
            runs += 0 if adopted else 1
        else:
            runs += 1
            if project.clean():
                return runs
        if runs >= max_runs:
            break
    return max_runs + 1


HEADER = (
    "scenario",
    "fault rate",
    "seed",
    "declared",
    "runs to converge",
    "duplicates",
    "orphans",
    "purges before destroy",
    "edits refused",
    "clean preview",
    "live after destroy",
)


def row(outcome: Outcome) -> tuple[str, ...]:
    return (
        outcome.scenario,
        f"{outcome.fault_rate:.0%}",
        "-" if outcome.seed is None else str(outcome.seed),
        str(outcome.declared),
        str(outcome.runs) if outcome.runs <= 3 else "no",
        str(outcome.duplicates),
        str(outcome.orphans),
        str(outcome.purges),
        f"{outcome.refused}/3",
        "yes" if outcome.clean_preview else "no",
        str(outcome.live_after_destroy),
    )
