"""Through the real engine: no ordinary edit, crash or wrong credential purges, duplicates,
orphans or forgets an organization."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from pulumi import automation as auto

from benchmarks import scenarios
from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import (
    ADDRESS,
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    Stack,
    make_stack,
    org_spec,
    resources,
)


def live(api: PartnerClient) -> list[Any]:
    return [org for org in api.list_organizations() if org.status.value != "terminated"]


def dynamic_resources(stack: Stack) -> dict[str, Any]:
    return {
        r["urn"].rsplit("::", 1)[1]: r
        for r in resources(stack.stack)
        if r["type"].startswith("pulumi-python:dynamic")
    }


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ({**ADDRESS, "zip": "1003"}, "billing_address.zip is not a field of billing_address"),
        (
            {**{k: v for k, v in ADDRESS.items() if k != "postal_code"}, "postal-code": "1003"},
            "billing_address.postal-code is not a field of billing_address: did you mean postal_code?",
        ),
    ],
    ids=["unknown", "kebab-case"],
)
def test_a_bad_billing_address_key_is_refused_at_preview(
    stack: Stack, address: dict[str, str], says: str
) -> None:
    # Once, such a key was dropped on the way to the API and every later `up` replaced the organization.
    stack.set_orgs({"acme": org_spec(billing_address=address)})
    with pytest.raises(auto.CommandError) as caught:
        stack.calls(stack.preview)
    assert says in str(caught.value)
    _, calls = stack.calls(lambda: pytest.raises(auto.CommandError, stack.up))
    assert calls == {}


def test_create_only_edits_are_refused_at_preview(stack: Stack, api: PartnerClient) -> None:
    stack.set_orgs({"acme": org_spec(client_id="edit-me")})
    stack.up()
    org_id = stack.outputs()["acme"]["id"]
    edits: list[dict[str, Any]] = [
        {"display_name": "Acme AG"},
        {"billing_address": {**ADDRESS, "street_name": "Rue du Midi"}},
        {"client_id": "edit-me-2"},
        # The policy recorded with the old organization would delete it: refused together.
        {"display_name": "Acme AG", "allow_replacement": True, "deletion_policy": "retain"},
    ]
    for edit in edits:
        stack.set_orgs({"acme": org_spec(**{"client_id": "edit-me", **edit})})
        with pytest.raises(auto.CommandError) as caught:
            stack.calls(stack.preview)
        text = str(caught.value)
        assert "cannot change from" in text
        assert "whole cloud account" in text or "Apply the new deletion_policy alone first" in text
        _, calls = stack.calls(lambda: pytest.raises(auto.CommandError, stack.up))
        assert calls == {}
    assert [str(o.id) for o in live(api) if o.client_id == "edit-me"] == [org_id]
    stack.set_orgs({"acme": org_spec(client_id="edit-me")})
    assert stack.preview().change_summary == {"same": 2}


def test_wrong_credentials_never_make_a_refresh_forget(env_stack: Stack) -> None:
    stack = env_stack
    stack.set_orgs({"a": org_spec(client_id="cred-a"), "b": org_spec()})
    stack.up()
    before = dynamic_resources(stack)
    # A key of another distributor account: the simulator says 404 for organizations not its own.
    env = cast(dict[str, str], stack.stack.workspace.env_vars)  # the dict the fixture gave it
    env.update(EXOSCALE_API_KEY=OTHER_KEY, EXOSCALE_API_SECRET=OTHER_SECRET)
    with pytest.raises(auto.CommandError) as caught:
        stack.stack.refresh(color="never")
    assert "probably the credentials of another distributor account" in str(caught.value)
    assert dynamic_resources(stack).keys() == before.keys()
    with pytest.raises(auto.CommandError):
        stack.stack.destroy(color="never")
    assert dynamic_resources(stack).keys() == before.keys()
    # Back to the right key: nothing to create, nothing lost.
    env.update(EXOSCALE_API_KEY=KEY, EXOSCALE_API_SECRET=SECRET)
    stack.stack.refresh(color="never")
    assert stack.preview().change_summary == {"same": 3}


def test_adopting_a_managed_organization_is_refused_and_never_purges_it(
    stack: Stack, api: PartnerClient
) -> None:
    stack.set_orgs({"first": org_spec(client_id="twice")})
    stack.up()
    org_id = stack.outputs()["first"]["id"]
    stack.set_orgs(
        {"first": org_spec(client_id="twice"), "second": org_spec(client_id="twice", adopt_id=org_id)}
    )
    with pytest.raises(auto.CommandError) as caught:
        stack.up()
    assert "already managed by resource 'first'" in str(caught.value) or "also the client id" in str(
        caught.value
    )
    # Even adopted in another stack, removal keeps it: an adopted organization is retained by default.
    stack.set_orgs({"first": org_spec(client_id="twice")})
    stack.up()
    assert api.get_organization(org_id).status.value == "active"


# -- faults and crashes (the scenarios of `make reliability`, sized for CI) -------------------


def test_thirty_percent_faults_converge_without_duplicates_or_orphans(
    pulumi_cli: str, tmp_path: Path
) -> None:
    outcome = scenarios.faults(tmp_path, fault_rate=0.3, seed=7, count=12)
    assert outcome.runs <= 3, outcome
    assert (outcome.duplicates, outcome.orphans, outcome.purges) == (0, 0, 0), outcome
    assert outcome.clean_preview, outcome
    assert outcome.refused == 3, outcome
    assert outcome.live_after_destroy == 0, outcome


def test_kill_minus_9_mid_create_then_recovery_makes_no_duplicate(pulumi_cli: str, tmp_path: Path) -> None:
    outcome = scenarios.crash(tmp_path, count=6)
    assert outcome.runs <= 3, outcome
    assert (outcome.duplicates, outcome.orphans, outcome.purges) == (0, 0, 0), outcome
    assert outcome.clean_preview, outcome
    assert outcome.live_after_destroy == 0, outcome


def test_a_server_that_normalises_what_it_stores_shows_no_change(pulumi_cli: str, tmp_path: Path) -> None:
    # The real API may trim, change case, fill in the free-text address and add fields: the
    # simulator's --normalize does all of it. Only the first `up` may change anything.
    config = SimulatorConfig(credentials=(Credential(KEY, SECRET),), normalize=True)
    with run_simulator(config) as sim:
        stack, workspace = make_stack(sim, tmp_path, "normalised", credentials_in="config")
        try:
            address = {
                **ADDRESS,
                "city": "  lausanne",
                "street_name": "Rue  de Bourg",
                "postal_code": "1003 ",
            }
            stack.set_orgs({"acme": org_spec(billing_address=address), "plain": org_spec(client_id="plain")})
            stack.up()
            remote = resources(stack.stack)
            echoed = next(r for r in remote if r["urn"].endswith("::acme"))["outputs"][
                "remote_billing_address"
            ]
            assert echoed != {k: v.strip() for k, v in address.items()}  # the server did normalise
            for _ in range(2):
                preview, calls = stack.calls(stack.preview)
                assert preview.change_summary == {"same": 3}
                assert calls == {}
                _, calls = stack.calls(stack.up)
                assert calls == {}
                stack.stack.refresh(color="never")
        finally:
            stack.stack.destroy(color="never")
            workspace.remove_stack("normalised", force=True)


def test_inputs_unknown_during_a_preview_pass_it(stack: Stack) -> None:
    stack.set_orgs(
        {
            "first": org_spec(client_id="first-of-two"),
            "second": org_spec(client_id_from="first", display_name="Second SA"),
        }
    )
    preview, calls = stack.calls(stack.preview)
    assert preview.change_summary == {"create": 3}
    # One list: is the declared client id already taken by an organization this stack cannot prove
    # its own? (A client id still unknown is looked for at the up.)
    assert calls == {"list-distributor-organizations": 1}
    stack.up()
    outputs = stack.outputs()
    assert outputs["second"]["client_id"] == "after-" + outputs["first"]["id"][:8]
    assert stack.preview().change_summary == {"same": 3}
