"""Adversarial regressions, through the real engine: sequences of renames, replacements and crashes
after which an organization was once purged, taken over or left running although the program never
said so, or the preview showed another thing than the `up` did. Each test is named for what must hold."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import pytest
from pulumi import automation as auto

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
    resources,
)
from .test_fate import kill_mid_up


def ours(stack: Stack) -> dict[str, str]:
    """Resource name -> organization id, as the stack's state holds them (pending deletes left out)."""
    return {
        r["urn"].rsplit("::", 1)[1]: r["id"]
        for r in resources(stack.stack)
        if r["type"] == ORG_TYPES[stack.frontend] and not r.get("delete")
    }


def live(api: PartnerClient) -> set[str]:
    return {str(o.id) for o in api.list_organizations() if o.status.value != "terminated"}


def test_a_new_stack_reusing_a_renamed_stacks_name_neither_takes_over_nor_purges_its_customers(
    stack: Stack, api: PartnerClient
) -> None:
    # `dev` is renamed `prod` (the state, and its organizations, go with it); a new `dev` is made.
    stack.set_orgs({"acme": org_spec()})
    stack.up()
    prod_org = stack.outputs()["acme"]["id"]
    old_name = stack.stack.name
    assert stack.cli("stack", "rename", "prod").returncode == 0
    workspace = stack.stack.workspace
    fresh = Stack(auto.Stack.create(old_name, workspace), stack.simulator, stack.backend, stack.frontend)
    if stack.frontend != "dynamic":
        fresh.stack.set_config("frontend", auto.ConfigValue(stack.frontend))
    fresh.stack.set_config("exo-distributor:key", auto.ConfigValue(KEY))
    fresh.stack.set_config("exo-distributor:secret", auto.ConfigValue(SECRET, secret=True))
    fresh.stack.set_config("exo-distributor:endpoint", auto.ConfigValue(stack.simulator.url))
    try:
        fresh.set_orgs({"acme": org_spec()})
        # The same default client id as prod's customer: no proof that this stack created it, so
        # the preview refuses, naming it, rather than show a create that the up would turn into a
        # takeover.
        with pytest.raises(auto.CommandError) as caught:
            fresh.preview()
        assert f'adopt_id="{prod_org}"' in str(caught.value)
        assert "its own client_id" in str(caught.value)
        with pytest.raises(auto.CommandError):
            fresh.up()
        # With a client id of its own, a new customer is created, as the preview says.
        fresh.set_orgs({"acme": org_spec(client_id="adv-new-dev-acme")})
        assert changes(fresh.preview().change_summary).get("create") == 1  # `acme` (the stack may exist)
        fresh.up()
        assert ours(fresh)["acme"] != prod_org
        fresh.stack.destroy(color="never")
        # prod still declares its customer: destroying the other stack must not have purged it.
        assert prod_org in live(api)
    finally:
        fresh.stack.destroy(color="never")
        workspace.remove_stack(old_name, force=True)
        prod = auto.Stack.select("prod", workspace)
        prod.destroy(color="never")
        workspace.remove_stack("prod", force=True)
        # The fixture's teardown destroys and removes its stack by the old name again.
        stack.stack = auto.Stack.create(old_name, workspace)


def test_a_new_resource_under_the_name_freed_by_an_aliased_rename_is_created_not_handed_a_purged_org(
    stack: Stack, api: PartnerClient
) -> None:
    stack.set_orgs({"web": org_spec()})
    stack.up()
    original = ours(stack)["web"]
    # Renamed the Pulumi way: the organization now belongs to `web-old`.
    stack.set_orgs({"web-old": org_spec(aliases=["web"])})
    stack.up()
    assert ours(stack) == {"web-old": original}
    # `web-old` is removed (purge, as the program says), and a new customer takes the name `web`.
    # Its default client id is the one `web-old`'s organization has: refused, never handed over.
    stack.set_orgs({"web": org_spec(display_name="New web customer")})
    with pytest.raises(auto.CommandError) as caught:
        stack.preview()
    assert f'adopt_id="{original}"' in str(caught.value)
    assert original in live(api)
    # With a client id of its own: a new organization, and `web-old`'s purged, as the preview says.
    stack.set_orgs({"web": org_spec(display_name="New web customer", client_id="adv-new-web")})
    preview = stack.preview()
    assert changes(preview.change_summary) == {"create": 1, "delete": 1, "same": 1}
    stack.up()
    # What the preview said: a new organization for `web`, and `web-old`'s purged.
    assert original not in live(api)
    assert ours(stack)["web"] in live(api), "the state records `web` as an organization that was purged"


def test_a_replacement_that_keeps_its_declared_client_id_never_ends_with_its_only_organization_purged(
    stack: Stack, api: PartnerClient
) -> None:
    declared = {"client_id": "adv-keep", "deletion_policy": "purge"}
    stack.set_orgs({"b": org_spec(**declared)})
    stack.up()
    org_id = ours(stack)["b"]
    replacing = {**declared, "display_name": "Acme SA renamed", "allow_replacement": True}
    # Adopting, as the replacement, the organization it replaces is refused: the new one would be
    # the old one, which the replaced side's delete would then purge.
    stack.set_orgs({"b": org_spec(**replacing, adopt_id=org_id)})
    with pytest.raises(auto.CommandError, match="names the organization this replacement replaces"):
        stack.preview()
    with contextlib.suppress(auto.CommandError):
        stack.up()
    assert ours(stack) == {"b": org_id} and org_id in live(api)
    # The replacement as such (the engine checks it again as a new resource, without the old inputs):
    # not refused its own organization; a new one is made, and the old one purged as declared.
    stack.set_orgs({"b": org_spec(**replacing)})
    assert changes(stack.preview().change_summary) == {"replace": 1, "same": 1}
    stack.up()
    state = ours(stack)
    assert set(state.values()) <= live(api), f"the state {state} records a purged organization"
    assert state["b"] != org_id and org_id not in live(api)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_client_id_replacement_killed_on_a_runner_that_is_gone_is_recovered_by_the_line_its_error_names(
    pulumi_cli: str, tmp_path: Path, frontend: str
) -> None:
    db = tmp_path / "sim.db"
    credentials = (Credential(KEY, SECRET),)
    with run_simulator(SimulatorConfig(credentials=credentials, db_path=str(db))) as sim:
        port = httpx.URL(sim.url).port or 0
        stack, workspace = make_stack(sim, tmp_path, "repl", credentials_in="config", frontend=frontend)
        stack.set_orgs({"acme": org_spec(client_id="adv-old")})
        stack.up()
    slow = SimulatorConfig(credentials=credentials, db_path=str(db), latency_ms=1500)
    with run_simulator(slow, port=port) as sim:
        stack.set_orgs({"acme": org_spec(client_id="adv-new", allow_replacement=True)})
        kill_mid_up(stack, sim, creates=1, then=0.3)
    with run_simulator(SimulatorConfig(credentials=credentials, db_path=str(db)), port=port) as sim:
        workspace.env_vars["PULUMI_HOME"] = str(tmp_path / "fresh-runner-home")
        stack.cli("cancel", "--yes")
        with PartnerClient(KEY, SECRET, sim.url) as api:
            new = [str(o.id) for o in api.list_organizations() if o.client_id == "adv-new"]
            assert len(new) == 1, "the crash left no replacement organization: nothing was tested"
            with pytest.raises(auto.CommandError) as caught:
                stack.preview()
            assert f'adopt_id="{new[0]}"' in str(caught.value)
            # The line the error names must take the organization over, not fail in its turn.
            stack.set_orgs(
                {
                    "acme": org_spec(
                        client_id="adv-new", allow_replacement=True, adopt_id=new[0], deletion_policy="purge"
                    )
                }
            )
            try:
                stack.up()
            finally:
                managed = set(ours(stack).values())
                stack.set_orgs({})
                try:
                    stack.up()
                finally:
                    workspace.remove_stack("repl", force=True)
            assert new[0] in managed, "the replacement organization runs, unmanaged and never retained"
