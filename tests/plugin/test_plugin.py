"""The provider plugin without the engine: its names, its schema, and each protocol call served
in-process against the simulator, as the engine would make them (camelCase property values)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import pytest
from pulumi.provider.experimental import provider as sdk
from pulumi.provider.experimental.property_value import Computed, PropertyValue

from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor._inputs import INPUT_FIELDS
from pulumi_exo_distributor._models import BillingAddress, OrganizationInput
from pulumi_exo_distributor._resource import default_client_id
from pulumi_exo_distributor.core import Checked
from pulumi_exo_distributor.plugin import TYPE_TOKEN, semver
from pulumi_exo_distributor.plugin._names import FUNCTIONS, camel, identity_from_urn, snake
from pulumi_exo_distributor.plugin._schema import schema
from pulumi_exo_distributor.plugin._server import DistributorProvider, _said
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

T = TypeVar("T")
KEY, SECRET = "EXOplugintests000000000001", "plugin-tests-secret-never-shown"
OTHER_KEY, OTHER_SECRET = "EXOplugintests000000000002", "the-other-plugin-secret"
URN = f"urn:pulumi:dev::fleet::{TYPE_TOKEN}::acme"
ADDRESS = {"name": "Acme SA", "country": "CH", "city": "Lausanne", "postalCode": "1003", "streetName": "Rue"}


@pytest.mark.parametrize(
    ("pep440", "expected"),
    [
        ("0.1.0", "0.1.0"),
        ("0.2.0.dev12+gabc123", "0.2.0-dev.12+gabc123"),
        ("0.2.0.dev12+gabc123.d20260101", "0.2.0-dev.12+gabc123.d20260101"),
        ("1.0.0rc2", "1.0.0-rc.2"),
        ("1.0.0b1.dev3", "1.0.0-beta.1.dev.3"),
        ("1.2", "1.2.0"),
        ("0.1.0.post1", "0.1.0+post.1"),
        ("0+unknown", "0.0.0+unknown"),
    ],
)
def test_the_version_is_semver_ordered_as_pep440(pep440: str, expected: str) -> None:
    assert semver(pep440) == expected


def test_names_map_both_ways_and_the_identity_is_the_dynamic_resources() -> None:
    for name in (*INPUT_FIELDS, "postal_code", "remote_billing_address", "key_fingerprint"):
        assert snake(camel(name)) == name
    assert identity_from_urn(URN) == default_client_id("fleet", "dev", "acme") == "pulumi:fleet/dev/acme"
    child = f"urn:pulumi:dev::fleet::my:index:Customer${TYPE_TOKEN}::acme"
    assert identity_from_urn(child) == "pulumi:fleet/dev/my:index:Customer/acme"
    assert identity_from_urn("not-a-urn") is None


def test_the_schema_names_every_input_and_function() -> None:
    document = schema("1.2.3")
    resource = document["resources"][TYPE_TOKEN]
    assert {snake(name) for name in resource["inputProperties"]} == set(INPUT_FIELDS)
    assert resource["requiredInputs"] == ["displayName", "ownerEmail", "billingAddress"]
    assert set(document["functions"]) == set(FUNCTIONS)
    assert document["config"]["variables"]["secret"]["secret"] is True
    assert document["version"] == "1.2.3"
    for ref in _refs(document):
        if ref.startswith("#/types/"):
            assert ref[len("#/types/") :] in document["types"]
    json.dumps(document)  # serialisable as GetSchema sends it


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


# -- the protocol's calls, in-process ------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    config = SimulatorConfig(credentials=(Credential(KEY, SECRET), Credential(OTHER_KEY, OTHER_SECRET)))
    with run_simulator(config) as running:
        yield running


@pytest.fixture
def api(simulator: Any) -> Iterator[PartnerClient]:
    with PartnerClient(KEY, SECRET, simulator.url) as client:
        yield client


@pytest.fixture(autouse=True)
def _journal_in_tmp(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))


def pv(value: Any) -> PropertyValue:
    if isinstance(value, dict):
        return PropertyValue({k: pv(v) for k, v in value.items()})
    if isinstance(value, list):
        return PropertyValue([pv(v) for v in value])
    return value if isinstance(value, PropertyValue) else PropertyValue(value)


def props(values: dict[str, Any]) -> dict[str, PropertyValue]:
    return {k: pv(v) for k, v in values.items()}


def plain(values: dict[str, PropertyValue] | None) -> dict[str, Any]:
    assert values is not None

    def one(value: PropertyValue) -> Any:
        if isinstance(value.value, Computed):
            return "<unknown>"
        if isinstance(value.value, Mapping):
            return {k: one(v) for k, v in value.value.items()}
        if isinstance(value.value, tuple):
            return [one(v) for v in value.value]
        return value.value

    return {k: one(v) for k, v in values.items()}


class Plugin:
    """The provider as the engine drives it: configured, then one call at a time."""

    def __init__(self, endpoint: str, key: str = KEY, secret: str = SECRET) -> None:
        self.provider = DistributorProvider()
        self.loop = asyncio.new_event_loop()
        config = {"key": pv(key), "secret": pv(secret).with_secret(True), "endpoint": pv(endpoint)}
        self.run(self.provider.configure(sdk.ConfigureRequest({}, config, True, False)))

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(call)

    def check(
        self, news: dict[str, Any], olds: dict[str, Any] | None = None, urn: str = URN
    ) -> sdk.CheckResponse:
        return self.run(self.provider.check(sdk.CheckRequest(urn, props(olds or {}), props(news), b"")))

    def up(self, news: dict[str, Any], urn: str = URN) -> tuple[str, dict[str, Any], dict[str, Any]]:
        checked = self.check(news, urn=urn)
        assert not checked.failures, [f.reason for f in checked.failures]
        assert checked.inputs is not None
        made = self.run(self.provider.create(sdk.CreateRequest(urn, checked.inputs, 60, False)))
        assert made.resource_id is not None
        return made.resource_id, plain(checked.inputs), plain(made.properties)

    def diff(self, org_id: str, olds: dict[str, Any], news: dict[str, Any]) -> sdk.DiffResponse:
        return self.run(self.provider.diff(sdk.DiffRequest(URN, org_id, props(olds), props(news), [])))

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def plugin(simulator: Any) -> Iterator[Plugin]:
    handle = Plugin(simulator.url)
    yield handle
    handle.close()


def declared(**overrides: Any) -> dict[str, Any]:
    return {
        "displayName": "Acme SA",
        "ownerEmail": "ops@acme.example",
        "billingAddress": dict(ADDRESS),
        **overrides,
    }


def existing(api: PartnerClient, client_id: str) -> str:
    """An organization made outside this program (another tool, the portal)."""
    address = {snake(k): v for k, v in ADDRESS.items()}
    body = OrganizationInput(
        display_name="Acme SA",
        owner_email="ops@acme.example",
        billing_address=BillingAddress.model_validate(address),
        client_id=client_id,
    )
    org = api.create_organization(body)
    return str(api.activate_organization(org.id).id)


def test_lifecycle_create_read_diff_update_delete(plugin: Plugin, api: PartnerClient, simulator: Any) -> None:
    org_id, inputs, outputs = plugin.up(declared(clientId="plugin-life"))
    # The effective policy is in the inputs (so every preview shows it), the identity from the URN.
    assert inputs["deletionPolicy"] == "purge"
    assert inputs["defaultClientId"] == "pulumi:fleet/dev/acme"
    assert outputs["status"] == "active" and outputs["billingAddress"]["postalCode"] == "1003"
    assert api.get_organization(org_id).client_id == "plugin-life"
    # Nothing declared changed: no change.
    same = plugin.diff(org_id, outputs, inputs)
    assert same.changes is False and same.replaces == []
    # A status change is an update in place; a create-only change is refused at check.
    suspended = plugin.check(declared(clientId="plugin-life", status="suspended"), olds=inputs)
    assert not suspended.failures and suspended.inputs is not None
    diff = plugin.diff(org_id, outputs, plain(suspended.inputs))
    assert diff.changes is True and diff.replaces == [] and list(diff.detailed_diff) == ["status"]
    updated = plugin.run(
        plugin.provider.update(
            sdk.UpdateRequest(URN, org_id, props(outputs), suspended.inputs, 60, [], False)
        )
    )
    assert plain(updated.properties)["status"] == "suspended"
    assert api.get_organization(org_id).status.value == "suspended"
    renamed = plugin.check(declared(clientId="plugin-life", displayName="Acme AG"), olds=inputs)
    assert [f.property for f in renamed.failures or []] == ["displayName"]
    # Refresh: the whole state from the id.
    read = plugin.run(plugin.provider.read(sdk.ReadRequest(URN, org_id, props(outputs), props(inputs))))
    assert read.resource_id == org_id and plain(read.properties)["status"] == "suspended"
    # A 404 under another key is no proof that it is gone: refused, never forgotten.
    other = Plugin(simulator.url, OTHER_KEY, OTHER_SECRET)
    try:
        with pytest.raises(Exception, match="it was created or last seen with API key") as caught:
            other.run(other.provider.read(sdk.ReadRequest(URN, org_id, updated.properties, props(inputs))))
        assert OTHER_SECRET not in str(caught.value) and SECRET not in str(caught.value)
    finally:
        other.close()
    # Delete per the recorded policy: purge.
    plugin.run(plugin.provider.delete(sdk.DeleteRequest(URN, org_id, updated.properties, 60)))
    assert org_id not in {str(o.id) for o in api.list_organizations() if o.status.value != "terminated"}
    # Gone, under the key that recorded it: the engine is told to forget it.
    gone = plugin.run(plugin.provider.read(sdk.ReadRequest(URN, org_id, updated.properties, props(inputs))))
    assert not gone.resource_id


def test_bad_input_names_the_schema_field_before_any_call(plugin: Plugin, simulator: Any) -> None:
    before = simulator.stats()
    address = {**ADDRESS, "postal_code": "1003"}
    refused = plugin.check(declared(display_name="x", billingAddress=address))
    reasons = {f.property: f.reason for f in refused.failures or []}
    assert "did you mean displayName?" in reasons["display_name"]
    assert "did you mean postalCode?" in reasons["billingAddress.postal_code"]
    country = plugin.check(declared(billingAddress={**ADDRESS, "country": "XX"}))
    assert [f.property for f in country.failures or []] == ["billingAddress.country"]
    assert (country.failures or [])[0].reason.startswith("billingAddress.country is 'XX'")
    assert simulator.stats() == before


def test_import_is_an_adoption_and_the_program_then_previews_clean(
    plugin: Plugin, api: PartnerClient
) -> None:
    org_id = existing(api, "plugin-imported")
    # `pulumi import`: Read with nothing but the id.
    read = plugin.run(plugin.provider.read(sdk.ReadRequest(URN, org_id, {}, {})))
    inputs, outputs = plain(read.inputs), plain(read.properties)
    assert read.resource_id == org_id
    assert inputs["adoptId"] == org_id and inputs["deletionPolicy"] == "retain"
    assert "displayName" not in inputs and "ownerEmail" not in inputs
    assert inputs["clientId"] == "plugin-imported" and inputs["billingAddress"] == ADDRESS
    # The engine checks the imported inputs: they pass.
    assert not plugin.check(inputs, olds=inputs).failures
    # The program declares it, with values the API never returns: no change, no replacement.
    program = declared(
        clientId="plugin-imported", adoptId=org_id, displayName="Whatever Name", ownerEmail="a@b.ch"
    )
    checked = plugin.check(program, olds=inputs)
    assert not checked.failures and checked.inputs is not None
    diff = plugin.diff(org_id, outputs, plain(checked.inputs))
    assert (diff.changes, diff.replaces, list(diff.detailed_diff)) == (False, [], [])
    # Without adoptId nor a policy, the program would purge it on delete: refused, by name.
    bare = plugin.check(declared(clientId="plugin-imported"), olds=inputs)
    assert [f.property for f in bare.failures or []] == ["adoptId"]
    # An explicit policy is the program's decision, and the preview shows it.
    purge = plugin.check(declared(clientId="plugin-imported", deletionPolicy="purge"), olds=inputs)
    assert not purge.failures and purge.inputs is not None
    assert list(plugin.diff(org_id, outputs, plain(purge.inputs)).detailed_diff) == ["deletionPolicy"]
    # A refresh of the imported state keeps it an adoption.
    again = plugin.run(plugin.provider.read(sdk.ReadRequest(URN, org_id, props(outputs), props(inputs))))
    assert plain(again.inputs) == inputs
    # Deleting it (retain) leaves it running.
    plugin.run(plugin.provider.delete(sdk.DeleteRequest(URN, org_id, props(outputs), 60)))
    assert api.get_organization(org_id).status.value == "active"


def test_an_import_of_an_unknown_id_fails_with_its_message_alone(plugin: Plugin) -> None:
    said: list[str] = []
    _said.set(said)
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(Exception, match="cannot import organization"):
        plugin.run(plugin.provider.read(sdk.ReadRequest(URN, missing, {}, {})))
    assert said and said[-1].startswith(f"cannot import organization {missing}: no organization")
    assert SECRET not in said[-1]


def test_an_existing_organization_is_not_taken_over_without_proof(plugin: Plugin, api: PartnerClient) -> None:
    existing(api, "plugin-taken")
    refused = plugin.check(declared(clientId="plugin-taken"))
    assert [f.property for f in refused.failures or []] == ["clientId"]


def test_unknown_values_pass_check_and_diff(plugin: Plugin) -> None:
    checked = plugin.check(declared(clientId=PropertyValue.computed()))
    assert not checked.failures and checked.inputs is not None
    assert isinstance(checked.inputs["clientId"].value, Computed)


def test_functions_are_served_as_invokes(plugin: Plugin, api: PartnerClient) -> None:
    org_id, _, _ = Plugin.up(plugin, declared(clientId="plugin-fn"), urn=URN.replace("acme", "fn"))
    got = plugin.run(
        plugin.provider.invoke(
            sdk.InvokeRequest("exo-distributor:index:getOrganization", props({"id": org_id}))
        )
    )
    assert plain(got.return_value)["clientId"] == "plugin-fn"
    listed = plugin.run(
        plugin.provider.invoke(sdk.InvokeRequest("exo-distributor:index:listOrganizations", {}))
    )
    assert org_id in {o["id"] for o in plain(listed.return_value)["organizations"]}
    bad = plugin.run(
        plugin.provider.invoke(
            sdk.InvokeRequest(
                "exo-distributor:index:getOrganizationUsage",
                props({"organizationId": org_id, "period": "2026-13"}),
            )
        )
    )
    assert [f.property for f in bad.failures] == ["period"]


class _Gate:
    """A core whose check returns only once ``n`` checks are under way at the same time."""

    def __init__(self, n: int) -> None:
        self.barrier = threading.Barrier(n, timeout=20)

    def check(self, olds: Any, news: Any) -> Checked:
        self.barrier.wait()  # BrokenBarrierError if the calls were served one after the other
        return Checked(dict(news))


def test_calls_run_at_once_as_many_as_the_engine_sends(plugin: Plugin) -> None:
    # The SDK serves every call on one event loop; the blocking core must not serialise them.
    plugin.provider.core = _Gate(16)  # type: ignore[assignment]

    async def sixteen() -> list[sdk.CheckResponse]:
        return await asyncio.gather(
            *(
                plugin.provider.check(
                    sdk.CheckRequest(URN.replace("acme", f"c{n}"), {}, props(declared()), b"")
                )
                for n in range(16)
            )
        )

    answers = plugin.run(sixteen())
    assert len(answers) == 16 and not any(a.failures for a in answers)


#: Pulumi's own metaschema of package schemas: pkg/codegen/schema/pulumi.json of pulumi/pulumi v3.260.0
#: (the CLI built here; Apache-2.0), as the engine's schema loader checks a schema against it.
METASCHEMA = Path(__file__).with_name("pulumi-package-metaschema.json")


def _metaschema_validator() -> Any:
    # Its patterns name groups Go's way, `(?<name>...)`; Python spells them `(?P<name>...)`.
    meta = json.loads(METASCHEMA.read_text().replace("(?<", "(?P<"))
    return jsonschema.validators.validator_for(meta)(meta)


def test_the_schema_is_valid_for_pulumis_metaschema() -> None:
    validator = _metaschema_validator()
    document = schema("0.2.0-dev.12+gabc1234")
    assert [error.message for error in validator.iter_errors(document)] == []
    # The check itself can fail: a property of a type the metaschema does not know.
    broken = json.loads(json.dumps(document))
    broken["resources"][TYPE_TOKEN]["inputProperties"]["status"]["type"] = "enumeration"
    assert list(validator.iter_errors(broken))
