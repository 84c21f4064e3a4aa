"""The rules that keep a customer's organization from being purged, duplicated, orphaned or forgotten."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_exo_distributor import (
    DistributorOrganizationError,
    DistributorOrganizationProvider,
    PartnerClient,
)

from .conftest import OTHER_KEY, OTHER_SECRET, configured
from .test_organization import ADDRESS, _own_client_id, calls_during, checked, news, rechecked

__all__ = ["_own_client_id"]  # each test declares its own client id


def identity(name: str) -> str:
    return f"pulumi:project/stack/{name}"


# -- check: the input model ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "field", "says"),
    [
        ({**ADDRESS, "zip": "1003"}, "billing_address.zip", "the fields are name, country"),
        ({**ADDRESS, "postal-code": "1003"}, "billing_address.postal-code", "did you mean postal_code?"),
        ({**ADDRESS, "street_name": "x" * 70_000}, "billing_address.street_name", "at most 255"),
        ({**ADDRESS, "name": "   "}, "billing_address.name", "got blank"),
        ({**ADDRESS, "city": "Lau\nsanne"}, "billing_address.city", "control characters"),
    ],
)
def test_check_refuses_what_would_not_round_trip(
    provider: DistributorOrganizationProvider, address: dict[str, Any], field: str, says: str
) -> None:
    failures = provider.check({}, news(billing_address=address)).failures
    assert field in [f.property for f in failures]
    reason = next(f.reason for f in failures if f.property == field)
    assert says in reason


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"display_name": " \t "}, "display_name", "blank"),
        ({"display_name": "Acme\x00SA"}, "display_name", "control characters"),
        ({"adopt_id": "-" * 36}, "adopt_id", "UUID"),
        ({"client_id": ""}, "client_id", "at least 1"),
        ({"allow_replacement": "yes"}, "allow_replacement", "True or False"),
    ],
)
def test_check_closes_the_small_gaps(
    provider: DistributorOrganizationProvider, overrides: dict[str, Any], field: str, says: str
) -> None:
    failures = provider.check({}, news(**overrides)).failures
    assert [f.property for f in failures] == [field]
    assert says in failures[0].reason


def test_check_trims_and_normalises_by_its_own_rules(provider: DistributorOrganizationProvider) -> None:
    inputs = checked(provider, display_name="  Acme SA ", adopt_id=str(uuid.UUID(int=7)).upper())
    assert inputs["display_name"] == "Acme SA"
    assert inputs["adopt_id"] == str(uuid.UUID(int=7))


def test_a_new_resource_gets_its_own_client_id_and_keeps_it(simulator: Any) -> None:
    provider = configured(simulator.url)
    inputs = checked(provider, client_id=None, default_client_id=identity("acme"))
    assert inputs["client_id"] == identity("acme")
    # Existing (a later deployment): the recorded client id stays, even if the resource's own
    # would now differ (a renamed stack).
    later = configured(simulator.url).check(
        inputs, news(client_id=None, default_client_id=identity("renamed"))
    )
    assert later.failures == []
    assert later.inputs["client_id"] == identity("acme")


# -- check: create-only inputs are guarded -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "Acme AG"),
        ("client_id", "acme-002"),
        ("billing_address", {**ADDRESS, "city": "Genève"}),
    ],
)
def test_a_create_only_change_is_refused_unless_replacement_is_allowed(
    provider: DistributorOrganizationProvider, field: str, value: Any
) -> None:
    olds = checked(provider)
    failures = provider.check(olds, news(**{field: value})).failures
    assert [f.property for f in failures] == [field]
    reason = failures[0].reason
    assert "cannot change from" in reason
    assert "purge of the customer's whole cloud account" in reason
    assert "allow_replacement=True" in reason
    assert provider.check(olds, news(**{field: value}, allow_replacement=True)).failures == []


def test_a_replacement_never_comes_with_a_new_deletion_policy(
    provider: DistributorOrganizationProvider,
) -> None:
    olds = checked(provider)
    failures = provider.check(
        olds, news(display_name="Acme AG", allow_replacement=True, deletion_policy="retain")
    ).failures
    assert [f.property for f in failures] == ["deletion_policy"]
    assert "Apply the new deletion_policy alone first" in failures[0].reason
    # Alone, the policy changes in place.
    assert provider.check(olds, news(deletion_policy="retain")).failures == []


def test_two_resources_cannot_declare_one_client_id(provider: DistributorOrganizationProvider) -> None:
    assert provider.check({}, news(client_id="shared", default_client_id=identity("a"))).failures == []
    assert provider.check({}, news(client_id="shared", default_client_id=identity("a"))).failures == []
    failures = provider.check({}, news(client_id="shared", default_client_id=identity("b"))).failures
    assert [f.property for f in failures] == ["client_id"]
    assert "'a'" in failures[0].reason
    # A client id is a key: another case is another customer.
    assert provider.check({}, news(client_id="SHARED", default_client_id=identity("c"))).failures == []


def test_adopting_an_organization_another_resource_manages_is_refused(
    provider: DistributorOrganizationProvider,
) -> None:
    result = provider.create(checked(provider, default_client_id=identity("first")))
    assert result.outs is not None
    provider.diff(result.id, result.outs, news(default_client_id=identity("first")))
    failures = provider.check(
        {}, news(adopt_id=result.id, client_id=None, default_client_id=identity("second"))
    ).failures
    assert [f.property for f in failures] == ["adopt_id"]
    assert "already managed by resource 'first'" in failures[0].reason


# -- create: exactly once -------------------------------------------------------------------


def lose_the_answer(provider: DistributorOrganizationProvider, inputs: dict[str, Any]) -> None:
    """As if the create's answer had been lost: its journal entry stays."""
    from pulumi_exo_distributor._journal import CreateJournal

    CreateJournal.default().begin(provider.key_fingerprint, inputs["client_id"], inputs["default_client_id"])


def test_create_takes_over_the_organization_an_earlier_attempt_made(
    provider: DistributorOrganizationProvider, simulator: Any
) -> None:
    inputs = checked(provider)
    first = provider.create(inputs)
    lose_the_answer(provider, inputs)
    # A new provider process (the next `pulumi up` after a crash) declares the same organization.
    again = configured(simulator.url)
    holder: dict[str, Any] = {}
    calls = calls_during(simulator, lambda: holder.update(result=again.create(checked(again))))
    assert holder["result"].id == first.id
    assert "create-distributor-organization" not in calls


def test_create_refuses_a_live_organization_declared_otherwise(
    provider: DistributorOrganizationProvider, simulator: Any
) -> None:
    inputs = checked(provider)
    provider.create(inputs)
    lose_the_answer(provider, inputs)
    again = configured(simulator.url)
    with pytest.raises(
        DistributorOrganizationError, match=r"already has client id .*Bern.*Nothing was created"
    ):
        again.create(checked(again, billing_address={**ADDRESS, "city": "Bern"}))


def test_the_list_is_read_once_per_process(provider: DistributorOrganizationProvider, simulator: Any) -> None:
    calls = calls_during(
        simulator,
        lambda: [provider.create(checked(provider, client_id=f"once-{uuid.uuid4()}")) for _ in range(3)],
    )
    assert calls["list-distributor-organizations"] == 1
    assert calls["create-distributor-organization"] == 3


def test_a_second_resource_with_a_taken_client_id_is_refused_at_create(
    provider: DistributorOrganizationProvider,
) -> None:
    result = provider.create(checked(provider, default_client_id=identity("one")))
    assert result.outs is not None
    provider.diff(result.id, result.outs, news(default_client_id=identity("one")))
    # check refuses the second declaration first; create holds the line on its own too.
    with pytest.raises(DistributorOrganizationError, match="managed by resource 'one'"):
        provider.create(news(default_client_id=identity("two")))


# -- read and delete: a 404 under other credentials is not "gone" -------------------------------


def test_read_with_another_distributors_key_fails_instead_of_forgetting(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    result = provider.create(checked(provider))
    assert result.outs is not None
    stranger = configured(simulator.url, key=OTHER_KEY, secret=OTHER_SECRET)
    with pytest.raises(
        DistributorOrganizationError, match="(?s)does not exist for API key.*another distributor"
    ):
        stranger.read(result.id, result.outs)
    with pytest.raises(DistributorOrganizationError, match="probably the credentials of another"):
        stranger.delete(result.id, result.outs)
    assert api.get_organization(result.id).status.value == "active"
    # Under its own key, a purged organization is really gone, and forgotten.
    provider.delete(result.id, result.outs)
    assert provider.read(result.id, result.outs).id == ""


def test_a_state_without_a_recorded_key_is_never_forgotten_on_a_404(
    provider: DistributorOrganizationProvider,
) -> None:
    result = provider.create(checked(provider))
    assert result.outs is not None
    provider.delete(result.id, result.outs)
    legacy = {k: v for k, v in result.outs.items() if k != "key_fingerprint"}
    for action in (provider.read, provider.delete):
        with pytest.raises(DistributorOrganizationError) as caught:
            action(result.id, legacy)
        text = str(caught.value)
        # Accurate (an earlier version recorded no key; nothing blames another account) and exact.
        assert "earlier version of pulumi-exo-distributor, which recorded no API key" in text
        assert "another distributor account" not in text
        assert f"exo-distributor orgs get {result.id}" in text
        assert "pulumi state delete <its urn>" in text and "pulumi stack --show-urns" in text


def test_the_fingerprint_never_shows_the_key_or_secret(provider: DistributorOrganizationProvider) -> None:
    result = provider.create(checked(provider))
    assert result.outs is not None
    text = repr(result.outs)
    assert "EXOprovidertests" not in text
    assert "provider-tests-secret" not in text
    assert result.outs["key_fingerprint"].startswith("sha256:")


def test_a_refresh_of_many_is_one_list(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    created = [provider.create(checked(provider, client_id=f"bulk-{uuid.uuid4()}")) for _ in range(8)]
    api.suspend_organization(created[-1].id)  # out of band: the list must show it
    refresher = configured(simulator.url)
    results: list[Any] = []
    calls = calls_during(
        simulator, lambda: results.extend(refresher.read(c.id, c.outs or {}) for c in created)
    )
    assert calls == {"get-distributor-organization": 1, "list-distributor-organizations": 1}
    assert [r.id for r in results] == [c.id for c in created]
    assert results[-1].outs["status"] == "suspended"


def test_a_rename_without_aliases_is_refused_and_an_adoption_keeps_the_organization(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    old = provider.create(checked(provider, default_client_id=identity("old-name")))
    assert old.outs is not None
    # The next deployment: the renamed resource declares the same client id, without aliases.
    deployment = configured(simulator.url)
    refused = deployment.check({}, news(default_client_id=identity("new-name")))
    assert [failure.property for failure in refused.failures] == ["client_id"]
    reason = refused.failures[0].reason
    assert "aliases" in reason
    assert f'adopt_id="{old.id}"' in reason
    # create holds the same line on its own (a check skipped or unable to list).
    with pytest.raises(DistributorOrganizationError, match="aliases"):
        deployment.create(refused.inputs)
    # Taken over on purpose: the old resource's delete then leaves it to the new one.
    adopted = deployment.create(checked(deployment, default_client_id=identity("new-name"), adopt_id=old.id))
    assert adopted.id == old.id
    assert adopted.outs is not None and adopted.outs["deletion_policy"] == "retain"
    calls = calls_during(simulator, lambda: deployment.delete(old.id, old.outs or {}))
    assert calls == {}
    assert api.get_organization(old.id).status.value == "active"


# -- the pickled provider ------------------------------------------------------------------


def test_pickling_cost_is_flat_in_the_number_of_resources(provider: DistributorOrganizationProvider) -> None:
    # The SDK's serialize_provider wraps the pickler's dict writer once more on every call, so a
    # provider pickled with a state dict walks a chain one deeper per resource. Ours writes no dict.
    calls = []
    original = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]

    def counting(self: Any, *args: Any) -> None:
        calls.append(1)
        original(self, *args)

    pickle._Pickler._batch_setitems = counting  # type: ignore[attr-defined]
    try:
        first = serialize_provider(provider)
        for _ in range(2_000):  # beyond the recursion limit of a growing chain
            assert serialize_provider(provider) == first
    finally:
        pickle._Pickler._batch_setitems = original  # type: ignore[attr-defined]
    assert calls == []


# -- hints that fit the error -----------------------------------------------------------------


def test_adopting_an_id_no_organization_has_names_the_id_and_key(
    provider: DistributorOrganizationProvider,
) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(DistributorOrganizationError) as caught:
        provider.create(checked(provider, adopt_id=missing, client_id=None))
    text = str(caught.value)
    assert f"cannot adopt organization {missing}" in text
    assert "no organization with this id is visible to API key sha256:" in text
    assert "pulumi refresh" not in text


def test_a_too_large_request_is_not_told_to_retry_later() -> None:
    from pulumi_exo_distributor import InvalidRequestError
    from pulumi_exo_distributor._explain import resource_error

    error = resource_error(
        "create",
        InvalidRequestError("create-distributor-organization", 413, "request body too large"),
        organization=None,
        name="Acme SA",
        client_id="acme",
    )
    assert "HTTP 413" in str(error)
    assert "shorten the longest inputs" in str(error)
    assert "retry later" not in str(error)


# -- found by client id: this stack's own, or one that existed before ---------------------------


def test_an_organization_that_existed_before_is_refused_until_the_program_adopts_it(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    from pulumi_exo_distributor import BillingAddress, OrganizationInput

    # Another stack (or a person) made it: this resource never sent a create for it.
    client_id = checked(provider)["client_id"]
    first = api.create_organization(
        OrganizationInput(
            display_name="Acme SA",
            owner_email="ops@acme.example",
            client_id=client_id,
            billing_address=BillingAddress.model_validate(ADDRESS),
        )
    )
    again = configured(simulator.url)
    refused = again.check({}, news(client_id=client_id))
    assert [failure.property for failure in refused.failures] == ["client_id"]
    assert f'adopt_id="{first.id}"' in refused.failures[0].reason
    calls = calls_during(simulator, lambda: pytest.raises(DistributorOrganizationError, again.create, news()))
    assert "create-distributor-organization" not in calls
    assert [str(o.id) for o in api.list_organizations() if o.client_id == client_id] == [str(first.id)]
    # Adopted: retained by default; purged only if the program says so, never by a choice made here.
    adopted = again.create(checked(again, client_id=client_id, adopt_id=str(first.id)))
    assert adopted.outs is not None and adopted.outs["deletion_policy"] == "retain"
    assert calls_during(simulator, lambda: again.delete(adopted.id, adopted.outs or {})) == {}
    assert api.get_organization(first.id).status.value == "active"
    purging = configured(simulator.url)
    said = purging.create(
        checked(purging, client_id=client_id, adopt_id=str(first.id), deletion_policy="purge")
    )
    assert said.outs is not None and said.outs["deletion_policy"] == "purge"


def test_an_organization_this_resource_sent_a_create_for_is_its_own(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    from pulumi_exo_distributor import BillingAddress, OrganizationInput
    from pulumi_exo_distributor._journal import CreateJournal

    # A run wrote the create down, sent it, and died before its answer reached the state.
    inputs = checked(configured(simulator.url))
    client_id, owner = inputs["client_id"], inputs["default_client_id"]
    CreateJournal.default().begin(provider.key_fingerprint, client_id, owner)
    lost = api.create_organization(
        OrganizationInput(
            display_name="Acme SA",
            owner_email="ops@acme.example",
            client_id=client_id,
            billing_address=BillingAddress.model_validate(ADDRESS),
        )
    )
    # The entry proves nothing to another resource declaring the same client id.
    other = configured(simulator.url).check(
        {}, news(client_id=client_id, default_client_id=identity("other"))
    )
    assert [failure.property for failure in other.failures] == ["client_id"]
    recovered = provider.create(checked(provider))  # the next run, on the same machine
    assert recovered.id == str(lost.id)
    assert recovered.outs is not None
    assert recovered.outs["deletion_policy"] == "purge"
    # Recovered, the organization is recorded now: the entry proves nothing any more.
    assert not CreateJournal.default().holds(provider.key_fingerprint, client_id, owner)


def test_a_run_killed_while_its_new_organization_is_activated_takes_it_back(
    provider: DistributorOrganizationProvider,
    simulator: Any,
    api: PartnerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pulumi_exo_distributor._journal import CreateJournal

    # The create was answered; the run dies during the second call (a new organization starts
    # `created` and is activated), before the engine could record anything.
    inputs = checked(provider)
    client_id, owner = inputs["client_id"], inputs["default_client_id"]

    def killed(*_args: Any, **_kwargs: Any) -> Any:
        raise SystemExit("killed")

    with monkeypatch.context() as patched:
        patched.setattr(PartnerClient, "activate_organization", killed)
        with pytest.raises(SystemExit):
            provider.create(inputs)
    assert CreateJournal.default().holds(provider.key_fingerprint, client_id, owner)
    # The next run, on the same machine: the organization is this resource's own, not a second one.
    recovered = configured(simulator.url).create(checked(configured(simulator.url)))
    live = [org for org in api.list_organizations() if org.client_id == client_id]
    assert [str(org.id) for org in live] == [recovered.id]
    assert recovered.outs is not None and recovered.outs["status"] == "active"
    assert not CreateJournal.default().holds(provider.key_fingerprint, client_id, owner)


def test_the_default_client_id_alone_is_no_proof(
    simulator: Any, api: PartnerClient, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_exo_distributor import BillingAddress, OrganizationInput

    # An organization with the resource's default client id, and no journal of its create: a
    # fresh CI runner after a crash, or another stack that once had this stack's name. Refused,
    # naming the line that adopts it: nothing decided here.
    owner = identity(f"crashed-{uuid.uuid4().hex[:8]}")
    lost = api.create_organization(
        OrganizationInput(
            display_name="Acme SA",
            owner_email="ops@acme.example",
            client_id=owner,
            billing_address=BillingAddress.model_validate(ADDRESS),
        )
    )
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "fresh-runner"))
    fresh = configured(simulator.url)
    refused = fresh.check({}, news(client_id=None, default_client_id=owner))
    assert refused.inputs["client_id"] == owner
    assert [failure.property for failure in refused.failures] == ["client_id"]
    assert f'adopt_id="{lost.id}"' in refused.failures[0].reason
    calls = calls_during(
        simulator, lambda: pytest.raises(DistributorOrganizationError, fresh.create, refused.inputs)
    )
    assert "create-distributor-organization" not in calls


def test_the_deletion_policy_is_the_programs_and_a_removed_one_is_a_change(
    provider: DistributorOrganizationProvider,
) -> None:
    existing = provider.create(checked(provider, client_id=f"keep-{uuid.uuid4()}"))
    assert existing.outs is not None
    client_id = existing.outs["client_id"]
    adopter = configured_like(provider)
    adopted = adopter.create(checked(adopter, client_id=client_id, adopt_id=existing.id))
    assert adopted.outs is not None and adopted.outs["deletion_policy"] == "retain"
    # adopt_id removed from the program: the default is a resource's own again, and the preview says so.
    later = rechecked(adopter, adopted.outs, client_id=client_id)
    assert later["deletion_policy"] == "purge"
    diff = adopter.diff(adopted.id, adopted.outs, later)
    assert diff.changes is True
    assert not diff.replaces
    updated = adopter.update(adopted.id, adopted.outs, later)
    assert updated.outs is not None and updated.outs["deletion_policy"] == "purge"
    # A declared retain, then removed: a change back to purge, never sticky.
    retain = rechecked(adopter, updated.outs, client_id=client_id, deletion_policy="retain")
    kept = adopter.update(adopted.id, updated.outs, retain)
    assert kept.outs is not None and kept.outs["deletion_policy"] == "retain"
    assert adopter.diff(adopted.id, kept.outs, later).changes is True
    assert adopter.diff(adopted.id, kept.outs, retain).changes is False


def configured_like(provider: DistributorOrganizationProvider) -> DistributorOrganizationProvider:
    return configured(provider._config.endpoint or "")


def test_unknown_values_of_the_dynamic_host_pass_check(provider: DistributorOrganizationProvider) -> None:
    from pulumi.output import Unknown
    from pulumi.runtime.rpc import UNKNOWN

    unknown = Unknown()  # type: ignore[no-untyped-call]
    result = provider.check(
        {}, news(client_id=unknown, deletion_policy=unknown, billing_address={**ADDRESS, "city": unknown})
    )
    assert result.failures == []
    assert result.inputs["client_id"] == UNKNOWN
    assert result.inputs["deletion_policy"] == UNKNOWN
    assert result.inputs["billing_address"]["city"] == UNKNOWN


def test_invisible_characters_are_refused(provider: DistributorOrganizationProvider) -> None:
    for text in ("\u200b", "abc\u202edef", "Acme\ue000"):
        failures = provider.check({}, news(display_name=text)).failures
        assert [f.property for f in failures] == ["display_name"], text
    # The joiners some scripts need are text.
    assert provider.check({}, news(display_name="\u0915\u094d\u200d\u0937")).failures == []


def test_a_404_from_another_endpoint_is_not_gone(
    provider: DistributorOrganizationProvider, api: PartnerClient
) -> None:
    from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

    from .conftest import KEY, SECRET

    result = provider.create(checked(provider))
    assert result.outs is not None
    # The same key against another (empty) endpoint: its 404 says nothing of this organization.
    with run_simulator(SimulatorConfig(credentials=(Credential(KEY, SECRET),))) as elsewhere:
        moved = configured(elsewhere.url)
        with pytest.raises(DistributorOrganizationError, match="probably the credentials") as caught:
            moved.read(result.id, result.outs)
        assert caught.value.__context__ is None  # one message, no "during handling of" chain
        with pytest.raises(DistributorOrganizationError) as caught:
            moved.delete(result.id, result.outs)
        assert caught.value.__context__ is None
    assert api.get_organization(result.id).status.value == "active"


def test_children_of_two_components_get_their_own_client_ids() -> None:
    from pulumi_exo_distributor._resource import default_client_id

    class Parent:
        def __init__(self, type_: str, name: str) -> None:
            self.pulumi_resource_type, self.pulumi_resource_name = type_, name

    prod = default_client_id("p", "s", "org", Parent("acme:index:Customer", "prod"))  # type: ignore[arg-type]
    test = default_client_id("p", "s", "org", Parent("acme:index:Customer", "test"))  # type: ignore[arg-type]
    top = default_client_id("p", "s", "org", Parent("pulumi:pulumi:Stack", "p-s"))  # type: ignore[arg-type]
    assert len({prod, test, top}) == 3
    assert top == "pulumi:p/s/org"
    assert len(default_client_id("p", "s", "x" * 500)) == 191


def test_parallel_creates_of_one_process_read_the_list_safely(
    provider: DistributorOrganizationProvider, simulator: Any
) -> None:
    # The engine runs a provider's calls on several threads: creates read the process's list while
    # others add to it ("dictionary changed size during iteration" once, at a few hundred).
    from concurrent.futures import ThreadPoolExecutor

    provider.create(checked(provider, client_id=f"seed-{uuid.uuid4()}"))  # the list is read
    inputs = [checked(provider, client_id=f"par-{uuid.uuid4()}") for _ in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(provider.create, inputs))
    assert len({r.id for r in results}) == 24


def test_a_state_written_by_a_newer_version_is_refused_by_an_older_one(
    provider: DistributorOrganizationProvider, simulator: Any, api: PartnerClient
) -> None:
    from pulumi_exo_distributor._writer import current_version

    result = provider.create(checked(provider))
    assert result.outs is not None
    assert result.outs["provider_version"] == current_version()
    newer = {**result.outs, "provider_version": "999.0.0"}
    attempts: dict[str, Callable[[], object]] = {
        "read": lambda: provider.read(result.id, newer),
        "diff": lambda: provider.diff(result.id, newer, news()),
        "update": lambda: provider.update(
            result.id, newer, {**rechecked(provider, result.outs), "status": "suspended"}
        ),
        "delete": lambda: provider.delete(result.id, newer),
    }
    for attempt in attempts.values():
        before = simulator.stats()
        with pytest.raises(DistributorOrganizationError) as caught:
            attempt()
        assert simulator.stats() == before  # refused before any call
        text = str(caught.value)
        assert "pulumi-exo-distributor 999.0.0, newer than this one" in text
        assert f"({current_version()})" in text
        assert "pip install -U 'pulumi-exo-distributor>=999.0.0'" in text
    assert api.get_organization(result.id).status.value == "active"
    # An earlier version's state (no record, or an older one) is driven as usual, and recorded anew.
    older = {**result.outs, "provider_version": "0.0.1"}
    assert provider.read(result.id, older).outs["provider_version"] == current_version()  # type: ignore[index]


def test_a_404_on_a_state_with_the_same_keys_older_fingerprint_says_so(
    provider: DistributorOrganizationProvider,
) -> None:
    from pulumi_exo_distributor._config import Credentials

    result = provider.create(checked(provider))
    assert result.outs is not None
    provider.delete(result.id, result.outs)
    older = Credentials.resolve(*(provider._config.key, provider._config.secret, provider._config.endpoint))
    legacy = {**result.outs, "key_fingerprint": older.legacy_key_fingerprint}
    with pytest.raises(DistributorOrganizationError) as caught:
        provider.read(result.id, legacy)
    text = str(caught.value)
    assert f"recorded this same API key ({older.legacy_key_fingerprint}) but not the endpoint" in text
    assert "another distributor account" not in text
    assert "`pulumi refresh --run-program`" in text
