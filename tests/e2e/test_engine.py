"""DistributorOrganization through the real engine: up, preview, refresh, adoption, destroy."""

from __future__ import annotations

from typing import cast

import pytest
from pulumi import automation as auto

from pulumi_exo_distributor import OrganizationStatus, PartnerClient

from .conftest import ADDRESS, SECRET, Stack, changes, org_spec, resources

OUTPUT_KEYS = {
    "id",
    "status",
    "display_name",
    "owner_email",
    "billing_address",
    "client_id",
    "deletion_policy",
}


def test_lifecycle(stack: Stack, api: PartnerClient) -> None:
    stack.set_orgs(
        {
            "acme": org_spec(client_id="acme-001", typed_address=True),
            "globex": org_spec(
                display_name="Globex GmbH",
                owner_email="it@globex.example",
                billing_address={**ADDRESS, "name": "Globex GmbH", "country": "de"},
            ),
        }
    )

    result, calls = stack.calls(stack.up)
    assert result.summary.result == "succeeded"
    # One list per deployment makes sure no live organization has these client ids yet.
    assert calls == {
        "list-distributor-organizations": 1,
        "create-distributor-organization": 2,
        "activate-distributor-organization": 2,
    }
    outputs = stack.outputs()
    for name in ("acme", "globex"):
        assert set(outputs[name]) >= OUTPUT_KEYS
        assert outputs[name]["status"] == "active"
        assert api.get_organization(outputs[name]["id"]).status is OrganizationStatus.ACTIVE
    assert outputs["globex"]["billing_address"]["country"] == "DE"
    assert outputs["acme"]["client_id"] == "acme-001"

    # A second look changes nothing.
    preview, calls = stack.calls(stack.preview)
    assert preview.change_summary == {"same": 3}
    assert calls == {}

    # A status change: exactly one suspend call, complete outputs.
    stack.set_orgs(
        {
            "acme": org_spec(client_id="acme-001", typed_address=True, status="suspended"),
            "globex": org_spec(
                display_name="Globex GmbH",
                owner_email="it@globex.example",
                billing_address={**ADDRESS, "name": "Globex GmbH", "country": "de"},
            ),
        }
    )
    result, calls = stack.calls(stack.up)
    assert result.summary.resource_changes == {"same": 2, "update": 1}
    assert calls == {"suspend-distributor-organization": 1}
    acme = stack.outputs()["acme"]
    assert set(acme) >= OUTPUT_KEYS
    assert acme["status"] == "suspended"
    assert acme["owner_email"] == "ops@acme.example"
    assert api.get_organization(acme["id"]).status is OrganizationStatus.SUSPENDED

    # Out-of-band change: refresh finds it, up corrects it.
    api.activate_organization(acme["id"])
    refresh = stack.stack.refresh(color="never")
    assert changes(refresh.summary.resource_changes).get("update") == 1
    state = {r["urn"].rsplit("::", 1)[1]: r for r in resources(stack.stack)}
    assert state["acme"]["outputs"]["status"] == "active"
    preview = stack.preview()
    assert changes(preview.change_summary).get("update") == 1
    result, calls = stack.calls(stack.up)
    assert calls == {"suspend-distributor-organization": 1}
    assert api.get_organization(acme["id"]).status is OrganizationStatus.SUSPENDED
    assert stack.preview().change_summary == {"same": 3}

    # Destroy terminates and purges both.
    _, calls = stack.calls(lambda: stack.stack.destroy(color="never"))
    assert calls == {"terminate-distributor-organization": 2, "schedule-purge-distributor-organization": 2}
    remaining = {str(org.id) for org in api.list_organizations()}
    assert acme["id"] not in remaining


def test_replacement_is_opt_in_previewed_and_done_create_before_delete(
    stack: Stack, api: PartnerClient
) -> None:
    stack.set_orgs({"acme": org_spec()})
    stack.up()
    old_id = stack.outputs()["acme"]["id"]

    # owner_email alone never replaces.
    stack.set_orgs({"acme": org_spec(owner_email="new-owner@acme.example")})
    preview = stack.preview()
    assert changes(preview.change_summary).get("update") == 1
    assert "replace" not in preview.change_summary
    _, calls = stack.calls(stack.up)
    assert calls == {}
    assert stack.outputs()["acme"]["owner_email"] == "new-owner@acme.example"

    stack.set_orgs(
        {
            "acme": org_spec(
                display_name="Acme AG", owner_email="new-owner@acme.example", allow_replacement=True
            )
        }
    )
    preview, calls = stack.calls(stack.preview)
    assert changes(preview.change_summary).get("replace") == 1
    # The engine checks the replacement again as a new resource: one list, to refuse a client id that
    # another organization than the one replaced holds.
    assert calls == {"list-distributor-organizations": 1}
    assert "terminated and its purge scheduled" in "".join(stack.output)  # the opt-in says what it means

    result, calls = stack.calls(stack.up)
    assert changes(result.summary.resource_changes).get("replace") == 1
    new_id = stack.outputs()["acme"]["id"]
    assert new_id != old_id
    assert calls["create-distributor-organization"] == 1
    assert calls["terminate-distributor-organization"] == 1
    assert stack.outputs()["acme"]["display_name"] == "Acme AG"
    live = [
        o
        for o in api.list_organizations()
        if str(o.id) in (old_id, new_id) and o.status.value != "terminated"
    ]
    assert [str(o.id) for o in live] == [new_id]


def test_destroy_honours_each_deletion_policy(stack: Stack, api: PartnerClient) -> None:
    stack.set_orgs(
        {
            "purged": org_spec(client_id="p", deletion_policy="purge"),
            "terminated": org_spec(client_id="t", deletion_policy="terminate"),
            "retained": org_spec(client_id="r", deletion_policy="retain"),
        }
    )
    stack.up()
    ids = {name: value["id"] for name, value in stack.outputs().items()}
    _, calls = stack.calls(lambda: stack.stack.destroy(color="never"))
    assert calls == {"terminate-distributor-organization": 2, "schedule-purge-distributor-organization": 1}
    listed = {str(org.id): org.status for org in api.list_organizations()}
    assert ids["purged"] not in listed
    assert listed[ids["terminated"]] is OrganizationStatus.TERMINATED
    assert listed[ids["retained"]] is OrganizationStatus.ACTIVE


def test_an_existing_organization_is_adopted(stack: Stack, api: PartnerClient) -> None:
    from pulumi_exo_distributor import BillingAddress, OrganizationInput

    existing = api.create_organization(
        OrganizationInput(
            display_name="Legacy SA",
            owner_email="legacy@acme.example",
            client_id="legacy-1",
            billing_address=BillingAddress.model_validate(ADDRESS),
        )
    )
    api.activate_organization(existing.id)
    stack.set_orgs(
        {
            "legacy": org_spec(
                display_name="Legacy SA",
                owner_email="legacy@acme.example",
                client_id="legacy-1",
                adopt_id=str(existing.id),
                deletion_policy="retain",
            )
        }
    )
    result, calls = stack.calls(stack.up)
    assert result.summary.resource_changes == {"create": 2}
    assert calls == {"get-distributor-organization": 1}
    assert stack.outputs()["legacy"]["id"] == str(existing.id)
    assert stack.preview().change_summary == {"same": 2}
    # Pulumi refresh keeps it clean, too.
    stack.stack.refresh(color="never")
    assert stack.preview().change_summary == {"same": 2}


def test_invalid_input_fails_before_any_remote_write(stack: Stack) -> None:
    stack.set_orgs({"bad": org_spec(billing_address={**ADDRESS, "country": "XX"}, status="deleted")})
    with pytest.raises(auto.CommandError) as caught:
        stack.calls(stack.preview)
    text = str(caught.value)
    assert "billing_address.country" in text
    assert "status must be 'active' or 'suspended', got 'deleted'" in text
    _, calls = stack.calls(lambda: pytest.raises(auto.CommandError, stack.up))
    assert calls == {}


def assert_no_secret(stack: Stack, *texts: str) -> None:
    # Everything the backend wrote: state, history, backups. (The Automation API's export_stack
    # shows secrets decrypted, so the files on disk are what to look at.)
    written = [path for path in stack.backend.rglob("*") if path.is_file()]
    assert any(path.suffix == ".json" for path in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    for text in texts:
        assert SECRET not in text
    exported = stack.cli("stack", "export")
    assert exported.returncode == 0, exported.stderr
    assert '"pulumi-python:dynamic/exoscale:DistributorOrganization"' in exported.stdout
    assert SECRET not in exported.stdout
    provider_blob = next(r for r in resources(stack.stack) if r["type"].startswith("pulumi-python:dynamic"))[
        "outputs"
    ]["__provider"]
    assert isinstance(provider_blob, str)  # not a secret: it holds nothing secret
    assert len(provider_blob) < 200


def test_config_credentials_stay_out_of_state_and_logs(stack: Stack) -> None:
    stack.set_orgs({"acme": org_spec()})
    # -v=8: at -v=9 the engine itself logs the decrypted config it hands a dynamic provider
    # (see docs/installation-configuration.md); the environment variables avoid that.
    result = stack.stack.up(color="never", log_verbosity=8, log_to_std_err=True, debug=True)
    assert_no_secret(stack, result.stdout, result.stderr)


def test_environment_credentials_stay_out_of_even_the_most_verbose_logs(env_stack: Stack) -> None:
    env_stack.set_orgs({"acme": org_spec()})
    result = env_stack.stack.up(color="never", log_verbosity=9, log_to_std_err=True, debug=True)
    assert "Marshaling property for RPC" in result.stderr  # the verbose logs really were on
    assert_no_secret(env_stack, result.stdout, result.stderr)
    assert env_stack.outputs()["acme"]["status"] == "active"
    # The engine's gRPC debug log, every message in the clear: the environment's secret is in none.
    grpc_log = env_stack.backend.parent / "grpc-debug.log"
    env_vars = cast(dict[str, str], env_stack.stack.workspace.env_vars)
    env_vars["PULUMI_DEBUG_GRPC"] = str(grpc_log)
    try:
        env_stack.preview()
    finally:
        del env_vars["PULUMI_DEBUG_GRPC"]
    logged = grpc_log.read_text()
    assert "/pulumirpc.ResourceProvider/Configure" in logged  # the log really holds the provider's calls
    assert SECRET not in logged


def test_an_api_failure_is_a_clear_message_without_traceback(stack: Stack, api: PartnerClient) -> None:
    stack.set_orgs({"acme": org_spec()})
    stack.up()
    org_id = stack.outputs()["acme"]["id"]
    api.terminate_organization(org_id)
    stack.set_orgs({"acme": org_spec(status="suspended")})
    with pytest.raises(auto.CommandError) as caught:
        stack.up()
    text = str(caught.value)
    assert "HTTP 409" in text
    assert org_id in text
    assert "pulumi refresh" in text
    assert "Traceback" not in text
    # As the hint says: refresh forgets it.
    stack.stack.refresh(color="never")
    assert not [r for r in resources(stack.stack) if r["type"].startswith("pulumi-python:dynamic")]


def test_protect_refuses_destroy_until_unprotected(stack: Stack, api: PartnerClient) -> None:
    stack.set_orgs({"precious": org_spec(protect=True)})
    stack.up()
    org_id = stack.outputs()["precious"]["id"]
    _, calls = stack.calls(lambda: pytest.raises(auto.CommandError, stack.stack.destroy, color="never"))
    assert calls == {}
    assert api.get_organization(org_id).status is OrganizationStatus.ACTIVE
    # Replacement is refused too.
    stack.set_orgs({"precious": org_spec(protect=True, display_name="Precious AG")})
    before = stack.simulator.stats()
    with pytest.raises(auto.CommandError) as caught:
        stack.up()
    assert "protect" in str(caught.value)
    # Refused before anything was done: no new organization beside the protected one.
    assert stack.simulator.stats() == before
    assert api.get_organization(org_id).status is OrganizationStatus.ACTIVE
    # Unprotected explicitly, it can go.
    stack.set_orgs({"precious": org_spec(protect=False)})
    stack.up()
