"""Through the real engine: what happens to each customer is what the program declares, and the
preview says it before it happens. No choice made at run time, no crash, rename or edit, leaves an
organization running and unmanaged unless the program retained it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from benchmarks.engine import kill_tree
from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import (
    FRONTENDS,
    KEY,
    ORG_TYPES,
    SECRET,
    Stack,
    changes,
    each_frontend_stack,  # noqa: F401 -- `stack`, once per front-end
    make_stack,
    org_spec,
    prop,
    resources,
)


def ours(stack: Stack) -> dict[str, dict[str, Any]]:
    """The stack's organizations by resource name, as its state holds them."""
    return {
        r["urn"].rsplit("::", 1)[1]: r
        for r in resources(stack.stack)
        if r["type"] == ORG_TYPES[stack.frontend]
    }


def status(api: PartnerClient, org_id: str) -> str:
    return api.get_organization(org_id).status.value


def test_every_delete_does_what_the_program_says_and_the_preview_shows_it(
    stack: Stack, api: PartnerClient
) -> None:
    # The retained organization outlives the test: each front-end's run has client ids of its own.
    fate = "fate" if stack.frontend == "dynamic" else f"fate-{stack.frontend}"
    declared = {
        "kept": org_spec(client_id=f"{fate}-kept", deletion_policy="retain"),
        "purged": org_spec(client_id=f"{fate}-purged"),
        "ended": org_spec(client_id=f"{fate}-ended", deletion_policy="terminate"),
    }
    stack.set_orgs(declared)
    stack.up()
    ids = {name: value["id"] for name, value in stack.outputs().items()}
    # The state's inputs carry the effective policy, declared or not.
    policy_key = prop(stack, "deletion_policy")
    assert {name: r["inputs"][policy_key] for name, r in ours(stack).items()} == {
        "kept": "retain",
        "purged": "purge",
        "ended": "terminate",
    }
    # Removing a declared policy is a change, shown as such: never sticky.
    stack.set_orgs({**declared, "kept": org_spec(client_id=f"{fate}-kept")})
    stack.output.clear()
    preview, calls = stack.calls(lambda: stack.preview(diff=True))
    assert changes(preview.change_summary) == {"update": 1, "same": 3}
    assert f'{policy_key}: "retain" => "purge"' in preview.stdout
    assert calls == {}
    # Removed from the program: each delete shows its policy in the preview...
    stack.set_orgs({})
    preview = stack.preview(diff=True)
    assert changes(preview.change_summary) == {"delete": 3, "same": 1}
    for name, policy in (("kept", "retain"), ("purged", "purge"), ("ended", "terminate")):
        shown = rf'- client_id\s*: "{fate}-{name}"\s*- deletion_policy\s*: "{policy}"'
        if stack.frontend == "plugin":
            # The schema's names; the identity recorded in the inputs sorts between the two.
            identity = r'\s*defaultClientId\s*: "[^"\n]*"'
            shown = rf'clientId\s*: "{fate}-{name}"{identity}\s*deletionPolicy\s*: "{policy}"'
        assert re.search(shown, preview.stdout), preview.stdout
    # ... and the up does exactly that, the organization left running said loudly.
    result = stack.up()
    assert status(api, ids["kept"]) == "active"
    assert status(api, ids["ended"]) == "terminated"
    assert ids["purged"] not in {str(o.id) for o in api.list_organizations()} or (
        status(api, ids["purged"]) == "terminated"
    )
    assert f"warning: organization {ids['kept']} ('Acme SA') left running, no longer managed" in result.stdout


def test_a_rename_without_aliases_is_refused_at_preview_and_aliases_keep_the_organization(
    stack: Stack, api: PartnerClient
) -> None:
    stack.set_orgs({"old-name": org_spec(client_id="fate-rename")})
    stack.up()
    org_id = stack.outputs()["old-name"]["id"]
    stack.set_orgs({"new-name": org_spec(client_id="fate-rename")})
    with pytest.raises(auto.CommandError) as caught:
        stack.preview()
    text = str(caught.value)
    assert "aliases" in text
    assert f'adopt_id="{org_id}"' in text
    _, calls = stack.calls(lambda: pytest.raises(auto.CommandError, stack.up))
    assert "create-distributor-organization" not in calls
    assert "terminate-distributor-organization" not in calls
    # Renamed the Pulumi way: the same organization, its policy the program's.
    stack.set_orgs({"new-name": org_spec(client_id="fate-rename", aliases=["old-name"])})
    _, calls = stack.calls(stack.up)
    assert set(calls) <= {"list-distributor-organizations"}
    assert stack.outputs()["new-name"]["id"] == org_id
    assert ours(stack)["new-name"]["inputs"][prop(stack, "deletion_policy")] == "purge"
    assert status(api, org_id) == "active"


def test_a_change_made_outside_pulumi_is_corrected_by_an_up_with_refresh(
    stack: Stack, api: PartnerClient
) -> None:
    stack.set_orgs({"acme": org_spec(client_id="fate-drift")})
    stack.up()
    org_id = stack.outputs()["acme"]["id"]
    api.suspend_organization(org_id)  # someone, with another tool
    # The drift job of the shipped workflow: a refreshed preview that expects no change fails.
    drift = stack.cli("preview", "--refresh", "--expect-no-changes")
    assert drift.returncode != 0
    assert status(api, org_id) == "suspended"
    stack.up(refresh=True)
    assert status(api, org_id) == "active"
    assert stack.outputs()["acme"]["status"] == "active"
    assert stack.cli("preview", "--refresh", "--expect-no-changes").returncode == 0


# -- crashes on the same machine and on a fresh one, then renames, policy edits and removals --------


def _fleet() -> dict[str, dict[str, Any]]:
    """Six customers, every other one with a client id of the distributor's own."""
    return {
        f"cust-{n}": org_spec(
            display_name=f"Customer {n} SA",
            billing_address={**org_spec()["billing_address"], "name": f"Customer {n} SA"},
            **({"client_id": f"fate-mix-{n}"} if n % 2 == 0 else {}),
        )
        for n in range(6)
    }


def kill_mid_up(stack: Stack, sim: Any, *, creates: int = 3, then: float = 0.0) -> None:
    """`kill -9` of `pulumi up` (CLI, language host, provider, as a lost machine) once ``creates``
    creates have reached the API, ``then`` seconds later."""
    workspace = stack.stack.workspace
    process = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--stack", stack.stack.name, "--non-interactive"],
        cwd=workspace.work_dir,
        env={**os.environ, **workspace.env_vars},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while sim.stats().get("create-distributor-organization", 0) < creates:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("pulumi up ended, or made no create, before it could be killed")
        time.sleep(0.05)
    time.sleep(then)
    kill_tree(process.pid)
    process.wait()


@pytest.mark.parametrize("frontend", FRONTENDS)
@pytest.mark.parametrize("runner", ["same-machine", "fresh-runner"])
def test_after_crashes_renames_and_removals_nothing_runs_unmanaged_unless_retained(
    pulumi_cli: str, tmp_path: Path, runner: str, frontend: str
) -> None:
    db = tmp_path / "sim.db"
    credentials = (Credential(KEY, SECRET),)
    slow = SimulatorConfig(credentials=credentials, db_path=str(db), latency_ms=1500)
    declared = _fleet()
    with run_simulator(slow) as sim:
        port = httpx.URL(sim.url).port or 0
        stack, workspace = make_stack(sim, tmp_path, "mix", credentials_in="config", frontend=frontend)
        stack.set_orgs(declared)
        kill_mid_up(stack, sim)
    with run_simulator(SimulatorConfig(credentials=credentials, db_path=str(db)), port=port) as sim:
        env = workspace.env_vars
        if runner == "fresh-runner":
            # Nothing of the first runner's disk: its journal of creates sent is gone.
            env["PULUMI_HOME"] = str(tmp_path / "fresh-runner-home")
        stack.cli("cancel", "--yes")  # the documented first step; with no lock left it has nothing to do
        with PartnerClient(KEY, SECRET, sim.url) as api:
            in_flight = {str(o.client_id): str(o.id) for o in api.list_organizations()}
            assert in_flight, "the crash left no organization to recover: nothing was tested"
            # What the engine does with the pending creates: the next up creates them again, and
            # the provider recovers each organization it can prove its own. The engine stops at a
            # refused one: each run names the next, with the exact line that adopts it.
            refused: dict[str, str] = {}
            # Each resource's client id: declared, or its default one (which is no proof either).
            client_ids = {
                name: spec.get("client_id") or f"pulumi:e2e/mix/{name}" for name, spec in declared.items()
            }
            for _ in range(len(declared) + 1):
                try:
                    stack.up()
                except auto.CommandError as exc:
                    failure = str(exc)
                else:
                    break
                named = {
                    name: in_flight[client_id]
                    for name, client_id in client_ids.items()
                    if client_id in in_flight and f'adopt_id="{in_flight[client_id]}"' in failure
                }
                # Refused only without proof: on a runner whose journal never saw the creates, or
                # for a create answered before the kill (its entry ended with the answer).
                assert named, failure
                for name, org_id in named.items():
                    # The line the refusal names; the first one adopted also says "purge" explicitly.
                    if not refused:
                        declared[name] = {**declared[name], "adopt_id": org_id, "deletion_policy": "purge"}
                    else:
                        declared[name] = {**declared[name], "adopt_id": org_id}
                    refused[name] = org_id
                stack.set_orgs(declared)
            else:
                pytest.fail("the fleet never converged")
            if runner == "fresh-runner":
                # Every organization in flight, whatever its client id, taken over explicitly.
                assert refused == {
                    name: in_flight[client_id]
                    for name, client_id in client_ids.items()
                    if client_id in in_flight
                }
            assert changes(stack.preview().change_summary) == {"same": 7}
            names = {name: r["id"] for name, r in ours(stack).items()}
            live = [o for o in api.list_organizations() if o.status.value != "terminated"]
            assert sorted(str(o.id) for o in live) == sorted(names.values())  # no duplicate, no orphan
            # A policy edit and its removal; a rename the Pulumi way; a rename refused.
            declared["cust-1"] = {**declared["cust-1"], "deletion_policy": "retain"}
            stack.set_orgs(declared)
            stack.up()
            declared["cust-1"] = {k: v for k, v in declared["cust-1"].items() if k != "deletion_policy"}
            declared["cust-3"] = {**declared["cust-3"], "deletion_policy": "retain"}
            declared["renamed-2"] = {**declared.pop("cust-2"), "aliases": ["cust-2"]}
            stack.set_orgs(declared)
            stack.up()
            # Renamed without aliases (and without the adoption, if it had one): refused at preview.
            renamed_0 = {
                k: v for k, v in declared["cust-0"].items() if k not in ("adopt_id", "deletion_policy")
            }
            stack.set_orgs({**{k: v for k, v in declared.items() if k != "cust-0"}, "renamed-0": renamed_0})
            with pytest.raises(auto.CommandError, match="aliases"):
                stack.preview()
            # Every customer removed: only what the program retained stays running, by its declared
            # deletion_policy or an adoption's default.
            by_name = {name: r["id"] for name, r in ours(stack).items()}
            retained = {
                by_name[name]
                for name, spec in declared.items()
                if spec.get("deletion_policy", "retain" if spec.get("adopt_id") else "purge") == "retain"
            }
            stack.set_orgs({})
            stack.up()
            left = {str(o.id) for o in api.list_organizations() if o.status.value != "terminated"}
            assert left == retained
            assert not ours(stack)
    workspace.remove_stack("mix", force=True)
