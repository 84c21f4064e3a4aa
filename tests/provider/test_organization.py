"""The provider's methods called directly, against the simulator."""

from __future__ import annotations

import base64
import pickle
import uuid
from typing import Any

import pytest
import stamina
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

from pulumi_exo_distributor import (
    DistributorOrganizationError,
    DistributorOrganizationProvider,
    OrganizationStatus,
    PartnerClient,
)
from pulumi_exo_distributor._config import StackSettings
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

from .conftest import KEY, SECRET, configured

ADDRESS = {
    "name": "Acme SA",
    "country": "ch",
    "city": "Lausanne",
    "postal_code": "1003",
    "street_name": "Rue de Bourg",
    "building_number": "12",
}


_CLIENT_ID = ["acme-001"]


@pytest.fixture(autouse=True)
def _own_client_id() -> None:
    # The simulator lives for the whole session, and a client id names one organization: each
    # test declares its own, or its creates would find an earlier test's organization.
    _CLIENT_ID[0] = f"acme-{uuid.uuid4().hex[:12]}"


def news(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "__provider": "opaque",
        "display_name": "Acme SA",
        "owner_email": "ops@acme.example",
        "billing_address": dict(ADDRESS),
        "client_id": _CLIENT_ID[0],
        "status": None,
        "deletion_policy": None,
        "adopt_id": None,
    }
    props.update(overrides)
    # Set by the resource class: the resource's own client id, which names it (see default_client_id).
    props.setdefault("default_client_id", "pulumi:tests/dev/org")
    return props


def rechecked(provider: DistributorOrganizationProvider, olds: Any, **overrides: Any) -> dict[str, Any]:
    """The inputs check gives an existing resource (``olds``: its recorded inputs or outputs), as
    the engine asks for them before a diff."""
    from pulumi_exo_distributor._inputs import INPUT_FIELDS

    inputs = {key: olds[key] for key in INPUT_FIELDS if olds.get(key) is not None}
    result = provider.check(inputs, news(**overrides))
    assert [failure.reason for failure in result.failures] == []
    return result.inputs


def checked(provider: DistributorOrganizationProvider, **overrides: Any) -> dict[str, Any]:
    result = provider.check({}, news(**overrides))
    assert [failure.reason for failure in result.failures] == []
    return result.inputs


def calls_during(simulator: Any, fn: Any) -> dict[str, int]:
    before = simulator.stats()
    fn()
    after = simulator.stats()
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


# -- check ----------------------------------------------------------------------------------


def test_check_applies_defaults_and_normalises(provider: DistributorOrganizationProvider) -> None:
    inputs = checked(provider)
    assert inputs["status"] == "active"
    # Left out, the static default is recorded in the inputs, so that every preview shows it.
    assert inputs["deletion_policy"] == "purge"
    assert inputs["billing_address"]["country"] == "CH"
    assert "adopt_id" not in inputs
    adopting = checked(provider, adopt_id=str(uuid.uuid4()))
    assert adopting["deletion_policy"] == "retain"
    assert (
        checked(provider, adopt_id=str(uuid.uuid4()), deletion_policy="purge")["deletion_policy"] == "purge"
    )


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"display_name": ""}, "display_name", "at least 1 character"),
        ({"display_name": "x" * 192}, "display_name", "at most 191 characters long, got 192"),
        ({"owner_email": "not-an-email"}, "owner_email", "@"),
        ({"owner_email": "a" * 70 + "@b.example"}, "owner_email", "75"),
        ({"client_id": "c" * 192}, "client_id", "191"),
        ({"status": "terminated"}, "status", "'active' or 'suspended'"),
        ({"deletion_policy": "nuke"}, "deletion_policy", "'purge', 'terminate' or 'retain'"),
        ({"billing_address": {**ADDRESS, "country": "XX"}}, "billing_address.country", "ISO 3166-1"),
        (
            {"billing_address": {**ADDRESS, "country": "CHE"}},
            "billing_address.country",
            "at most 2 characters",
        ),
        ({"billing_address": {**ADDRESS, "city": ""}}, "billing_address.city", "at least 1 character"),
        (
            {"billing_address": {**ADDRESS, "postal_code": "9" * 81}},
            "billing_address.postal_code",
            "at most 80 characters",
        ),
        (
            {"billing_address": {k: v for k, v in ADDRESS.items() if k != "street_name"}},
            "billing_address.street_name",
            "required",
        ),
        ({"billing_address": None}, "billing_address", "required"),
        ({"adopt_id": "not-a-uuid"}, "adopt_id", "UUID"),
        ({"colour": "blue"}, "colour", "not an input"),
    ],
)
def test_check_names_each_bad_field(
    provider: DistributorOrganizationProvider, overrides: dict[str, Any], field: str, says: str
) -> None:
    result = provider.check({}, news(**overrides))
    assert [f.property for f in result.failures] == [field]
    assert says in result.failures[0].reason
    assert field in result.failures[0].reason


def test_check_reports_every_bad_field_at_once(provider: DistributorOrganizationProvider) -> None:
    result = provider.check({}, news(display_name="", status="gone", billing_address={**ADDRESS, "city": ""}))
    assert sorted(f.property for f in result.failures) == ["billing_address.city", "display_name", "status"]


def test_check_passes_unknown_values_through(provider: DistributorOrganizationProvider) -> None:
    result = provider.check({}, news(display_name=UNKNOWN, billing_address={**ADDRESS, "country": UNKNOWN}))
    assert result.failures == []
    assert result.inputs["display_name"] == UNKNOWN
    assert result.inputs["billing_address"]["country"] == UNKNOWN
    whole = provider.check({}, news(billing_address=UNKNOWN, owner_email=UNKNOWN))
    assert whole.failures == []


def test_check_calls_the_api_only_to_look_for_a_new_resources_client_id(simulator: Any) -> None:
    provider = configured(simulator.url)
    inputs = checked(provider)
    # An existing resource (its recorded inputs given): no call at all.
    assert calls_during(simulator, lambda: configured(simulator.url).check(inputs, news())) == {}
    # A new one: one list, to refuse a client id that a live organization already has.
    fresh = configured(simulator.url)
    assert calls_during(simulator, lambda: fresh.check({}, news())) == {"list-distributor-organizations": 1}
    # Without the API (a preview without network or credentials) the look-up is skipped: check
    # passes, and create looks again under the same rule.
    with stamina.set_testing(True, attempts=1):
        offline = configured("http://127.0.0.1:9/v1.alpha", key="EXOnothing", secret="nothing")
        assert offline.check({}, news()).failures == []


# -- diff -----------------------------------------------------------------------------------


@pytest.fixture
def created(provider: DistributorOrganizationProvider) -> tuple[str, dict[str, Any]]:
    result = provider.create(checked(provider))
    assert result.outs is not None
    return result.id, result.outs


@pytest.mark.parametrize(
    ("overrides", "changes", "replaces"),
    [
        ({}, False, []),
        ({"status": "suspended"}, True, []),
        ({"owner_email": "new-owner@acme.example"}, True, []),
        ({"deletion_policy": "retain"}, True, []),
        ({"allow_replacement": True}, True, []),
        ({"display_name": "Acme AG", "allow_replacement": True}, True, ["display_name"]),
        ({"client_id": "acme-002", "allow_replacement": True}, True, ["client_id"]),
        (
            {"billing_address": {**ADDRESS, "city": "Genève"}, "allow_replacement": True},
            True,
            ["billing_address"],
        ),
        ({"billing_address": {**ADDRESS, "country": "CH"}}, False, []),
        ({"billing_address": {**ADDRESS, "city": " Lausanne "}}, False, []),
        ({"client_id": None}, False, []),  # not declared any more: the recorded one stays
        ({"display_name": UNKNOWN, "allow_replacement": True}, True, ["display_name"]),
        # Unknown until `up`, where check refuses a real change: never a replacement.
        ({"display_name": UNKNOWN}, True, []),
        ({"status": UNKNOWN}, True, []),
    ],
)
def test_diff(
    provider: DistributorOrganizationProvider,
    created: tuple[str, dict[str, Any]],
    overrides: dict[str, Any],
    changes: bool,
    replaces: list[str],
) -> None:
    id_, outs = created
    result = provider.diff(id_, outs, news(**overrides))
    assert result.changes is changes
    assert result.replaces == replaces
    assert result.delete_before_replace is False


def test_diff_compares_declarations_never_the_api_echo(
    provider: DistributorOrganizationProvider, created: tuple[str, dict[str, Any]]
) -> None:
    id_, outs = created
    # Whatever the API says of the address (normalised, completed, extended), nothing changes.
    echoed = {
        **outs,
        "remote_billing_address": {"name": "ACME SA", "country": "ch", "address": "Rue de Bourg 12"},
    }
    assert provider.diff(id_, echoed, news()).changes is False


# -- create / update / read -----------------------------------------------------------------

OUTPUT_KEYS = {
    "display_name",
    "owner_email",
    "billing_address",
    "client_id",
    "status",
    "deletion_policy",
    "adopt_id",
    "allow_replacement",
    "default_client_id",
    "key_fingerprint",
    "remote_billing_address",
    "provider_version",
}


def test_create_brings_a_created_organization_to_active(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    holder: dict[str, Any] = {}
    calls = calls_during(simulator, lambda: holder.update(result=provider.create(checked(provider))))
    result = holder["result"]
    # One list per provider process makes sure no live organization has this client id yet.
    assert calls == {
        "list-distributor-organizations": 1,
        "create-distributor-organization": 1,
        "activate-distributor-organization": 1,
    }
    assert set(result.outs) - {"adopt_id", "default_client_id"} <= set(OUTPUT_KEYS)
    assert result.outs["status"] == "active"
    assert result.outs["billing_address"]["country"] == "CH"
    assert result.outs["owner_email"] == "ops@acme.example"
    assert api.get_organization(result.id).status is OrganizationStatus.ACTIVE


def test_create_suspended(provider: DistributorOrganizationProvider, api: PartnerClient) -> None:
    result = provider.create(checked(provider, status="suspended"))
    assert result.outs is not None
    assert result.outs["status"] == "suspended"
    assert api.get_organization(result.id).status is OrganizationStatus.SUSPENDED


def test_status_change_is_one_call(
    provider: DistributorOrganizationProvider, simulator: Any, created: tuple[str, dict[str, Any]]
) -> None:
    id_, outs = created
    holder: dict[str, Any] = {}
    new = rechecked(provider, outs, status="suspended")
    calls = calls_during(simulator, lambda: holder.update(result=provider.update(id_, outs, new)))
    assert calls == {"suspend-distributor-organization": 1}
    assert set(holder["result"].outs) == OUTPUT_KEYS
    assert holder["result"].outs["status"] == "suspended"


def test_owner_email_and_policy_changes_make_no_call(
    provider: DistributorOrganizationProvider, simulator: Any, created: tuple[str, dict[str, Any]]
) -> None:
    id_, outs = created
    holder: dict[str, Any] = {}
    new = rechecked(provider, outs, owner_email="other@acme.example", deletion_policy="retain")
    calls = calls_during(simulator, lambda: holder.update(result=provider.update(id_, outs, new)))
    assert calls == {}
    assert holder["result"].outs["owner_email"] == "other@acme.example"
    assert holder["result"].outs["deletion_policy"] == "retain"


def test_read_rebuilds_state_and_inputs_from_the_id(
    provider: DistributorOrganizationProvider, api: PartnerClient, created: tuple[str, dict[str, Any]]
) -> None:
    id_, outs = created
    api.suspend_organization(id_)  # out of band
    result = provider.read(id_, outs)
    assert result.id == id_
    assert result.outs is not None and result.inputs is not None
    assert set(result.outs) == OUTPUT_KEYS
    assert result.outs["status"] == "suspended"
    assert result.outs["display_name"] == "Acme SA"  # kept from state: the API never returns it
    assert result.inputs["status"] == "suspended"
    assert result.inputs["owner_email"] == "ops@acme.example"
    # The program still says active: the next diff must show the correction.
    assert provider.diff(id_, result.outs, news()).changes is True


def test_read_of_a_gone_organization(
    provider: DistributorOrganizationProvider, api: PartnerClient, created: tuple[str, dict[str, Any]]
) -> None:
    id_, outs = created
    api.terminate_organization(id_)
    assert provider.read(id_, outs).id == ""
    api.schedule_purge_organization(id_)
    assert provider.read(id_, outs).id == ""


# -- delete ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected_calls", "afterwards"),
    [
        (
            "purge",
            {"terminate-distributor-organization": 1, "schedule-purge-distributor-organization": 1},
            None,
        ),
        ("terminate", {"terminate-distributor-organization": 1}, OrganizationStatus.TERMINATED),
        ("retain", {}, OrganizationStatus.ACTIVE),
    ],
)
def test_delete_honours_the_policy(
    provider: DistributorOrganizationProvider,
    simulator: Any,
    api: PartnerClient,
    policy: str,
    expected_calls: dict[str, int],
    afterwards: OrganizationStatus | None,
) -> None:
    result = provider.create(checked(provider, deletion_policy=policy))
    assert result.outs is not None
    calls = calls_during(simulator, lambda: provider.delete(result.id, result.outs))
    assert calls == expected_calls
    if afterwards is None:
        assert result.id not in {str(org.id) for org in api.list_organizations()}
    else:
        assert api.get_organization(result.id).status is afterwards


def test_delete_of_an_already_gone_organization_succeeds(
    provider: DistributorOrganizationProvider,
    simulator: Any,
    api: PartnerClient,
    created: tuple[str, dict[str, Any]],
) -> None:
    id_, outs = created
    api.terminate_organization(id_)
    # Already terminated: terminate again (idempotent here), then the purge.
    calls = calls_during(simulator, lambda: provider.delete(id_, outs))
    assert calls == {"terminate-distributor-organization": 1, "schedule-purge-distributor-organization": 1}
    assert id_ not in {str(org.id) for org in api.list_organizations()}
    # Purged by the first delete: the 404 is confirmed by a read under the same key, and it is done.
    calls = calls_during(simulator, lambda: provider.delete(id_, outs))
    assert calls == {"terminate-distributor-organization": 1, "get-distributor-organization": 1}


# -- adoption -------------------------------------------------------------------------------


def test_adopt_an_existing_organization(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    existing = provider.create(checked(provider, client_id="adopt-me"))
    holder: dict[str, Any] = {}
    inputs = checked(provider, client_id="adopt-me", adopt_id=existing.id, status="suspended")
    calls = calls_during(simulator, lambda: holder.update(result=provider.create(inputs)))
    assert holder["result"].id == existing.id
    assert "create-distributor-organization" not in calls
    assert holder["result"].outs["status"] == "suspended"


def test_adopt_refuses_an_organization_declared_otherwise(provider: DistributorOrganizationProvider) -> None:
    existing = provider.create(checked(provider, client_id="adopt-me-2"))
    inputs = checked(
        provider, client_id="adopt-me-2", adopt_id=existing.id, billing_address={**ADDRESS, "city": "Bern"}
    )
    with pytest.raises(DistributorOrganizationError, match="declare it as it is.*Bern"):
        provider.create(inputs)


# -- errors ---------------------------------------------------------------------------------


def test_bad_credentials_say_what_to_do_and_hide_the_secret(simulator: Any) -> None:
    provider = configured(simulator.url, secret="wrong-" + SECRET)
    with pytest.raises(DistributorOrganizationError) as caught:
        provider.create(checked(provider))
    text = str(caught.value)
    assert "HTTP 403" in text
    assert "cannot create new organization ('Acme SA')" in text
    assert "exo-distributor:secret" in text
    assert SECRET not in text


def test_missing_credentials_are_a_clear_error(simulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXOSCALE_API_KEY", raising=False)
    monkeypatch.delenv("EXOSCALE_API_SECRET", raising=False)
    provider = configured(simulator.url, key="", secret="")
    with pytest.raises(DistributorOrganizationError, match="(?s)EXOSCALE_API_KEY.*hint"):
        provider.create(checked(provider))


def test_a_terminated_organization_hints_at_refresh(
    provider: DistributorOrganizationProvider, api: PartnerClient, created: tuple[str, dict[str, Any]]
) -> None:
    id_, outs = created
    api.terminate_organization(id_)
    with pytest.raises(DistributorOrganizationError) as caught:
        provider.update(id_, outs, rechecked(provider, outs, status="suspended"))
    assert "HTTP 409" in str(caught.value)
    assert id_ in str(caught.value)
    assert "pulumi refresh" in str(caught.value)


def test_invalid_inputs_never_reach_the_api(
    provider: DistributorOrganizationProvider, simulator: Any
) -> None:
    def attempt() -> None:
        with pytest.raises(DistributorOrganizationError, match="display_name"):
            provider.create(news(display_name=""))

    assert calls_during(simulator, attempt) == {}


# -- pickling -------------------------------------------------------------------------------


def test_the_pickled_provider_is_tiny_and_holds_no_secret(provider: DistributorOrganizationProvider) -> None:
    provider.client()  # a live connection pool and credentials in memory
    serialized = serialize_provider(provider)
    raw = base64.b64decode(serialized)
    assert len(serialized) < 200
    assert SECRET.encode() not in raw
    assert b"EXOprovidertests" not in raw
    assert b"DistributorOrganizationProvider" in raw  # by reference, not by value
    clone = pickle.loads(raw)
    assert isinstance(clone, DistributorOrganizationProvider)
    assert clone._config == StackSettings()
    assert not clone._session.made


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_creates_through_lost_answers_never_duplicate(tmp_path: Any, seed: int) -> None:
    db = str(tmp_path / "sim.db")
    credential = Credential(KEY, SECRET)
    # Half the requests lose their answer after the change is committed, or fail before it.
    faulty = SimulatorConfig(
        credentials=(credential,),
        db_path=db,
        fault_rate=0.5,
        fault_kinds=("reset-after", "reset-before", "500"),
        seed=seed,
    )
    client_ids = [f"c{n}" for n in range(6)]
    failed = []
    with stamina.set_testing(True, attempts=3), run_simulator(faulty) as sim:
        port = int(sim.url.split(":")[2].split("/")[0])
        provider = configured(sim.url)
        for client_id in client_ids:
            try:
                provider.create(checked(provider, client_id=client_id))
            except DistributorOrganizationError as exc:
                failed.append((client_id, str(exc)))
    assert all("may exist" in text or "answered HTTP" in text or "no answer" in text for _, text in failed)
    # A later run (a new provider process) on the same machine and endpoint finishes the job without
    # a second organization: the journal proves that this resource sent the creates.
    with run_simulator(SimulatorConfig(credentials=(credential,), db_path=db), port=port) as sim:
        provider = configured(sim.url)
        for client_id, _ in failed:
            provider.create(checked(provider, client_id=client_id))
        with PartnerClient(KEY, SECRET, sim.url) as client:
            listed = sorted(str(o.client_id) for o in client.list_organizations())
    assert listed == client_ids


def test_owner_email_is_recorded_as_written_so_a_second_up_is_a_no_op(
    provider: DistributorOrganizationProvider,
) -> None:
    # The e-mail validator normalises the domain's case; the state must keep the program's text.
    result = provider.create(checked(provider, owner_email="Ops@ACME.Example"))
    assert result.outs is not None
    assert result.outs["owner_email"] == "Ops@ACME.Example"
    assert provider.diff(result.id, result.outs, news(owner_email="Ops@ACME.Example")).changes is False
