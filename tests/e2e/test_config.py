"""Through the real engine: the package's settings live beside the bridged Exoscale provider's."""

from __future__ import annotations

from typing import Any

from pulumi import automation as auto

from pulumi_exo_distributor import PartnerClient

from .conftest import KEY, SECRET, Stack, org_spec

#: Keys of the bridged provider (pulumiverse-exoscale) that a stack managing Exoscale resources holds.
BRIDGED = {"timeout": "300", "delay": "5", "environment": "api", "sosEndpoint": "https://sos-ch-gva-2.exo.io"}


def use_config(stack: Stack, values: dict[str, str], secrets: tuple[str, ...] = ()) -> None:
    for key in ("exo-distributor:key", "exo-distributor:secret", "exo-distributor:endpoint"):
        stack.stack.remove_config(key)
    for key, value in values.items():
        stack.stack.set_config(key, auto.ConfigValue(value, secret=key in secrets))


def test_a_stack_with_the_exoscale_providers_keys_works(stack: Stack, api: PartnerClient) -> None:
    endpoint = stack.simulator.url
    # The key pair shared with the bridged provider, its other settings, and ours in our namespace only.
    use_config(
        stack,
        {
            "exoscale:key": KEY,
            "exoscale:secret": SECRET,
            **{f"exoscale:{k}": v for k, v in BRIDGED.items()},
            "exo-distributor:endpoint": endpoint,
        },
        secrets=("exoscale:secret",),
    )
    config = stack.stack.get_all_config()
    assert not {key for key in config if key.startswith("exoscale:")} - {
        "exoscale:key",
        "exoscale:secret",
        *(f"exoscale:{k}" for k in BRIDGED),
    }
    stack.set_orgs({"acme": org_spec(client_id="config-shared")})
    result = stack.up()
    assert "deprecated" not in result.stdout
    org_id = stack.outputs()["acme"]["id"]
    assert api.get_organization(org_id).status.value == "active"
    assert stack.preview().change_summary == {"same": 2}
    # A partner key of its own wins over the shared one (here: the shared one is wrong).
    use_config(
        stack,
        {
            "exoscale:key": "EXOinfrastructure0000000001",
            "exo-distributor:key": KEY,
            "exo-distributor:secret": SECRET,
            "exo-distributor:endpoint": endpoint,
        },
        secrets=("exo-distributor:secret",),
    )
    stack.stack.refresh(color="never")
    assert stack.preview().change_summary == {"same": 2}


def test_the_earlier_endpoint_key_still_works_and_says_to_rename_it(stack: Stack) -> None:
    endpoint = stack.simulator.url
    use_config(
        stack,
        {
            "exo-distributor:key": KEY,
            "exo-distributor:secret": SECRET,
            "exoscale:partnerApiEndpoint": endpoint,
        },
        secrets=("exo-distributor:secret",),
    )
    stack.set_orgs({"acme": org_spec(client_id="config-deprecated")})
    result: Any = stack.up()
    assert "warning: the stack configuration key exoscale:partnerApiEndpoint is deprecated" in result.stdout
    assert "pulumi config set exo-distributor:endpoint" in result.stdout
    assert stack.outputs()["acme"]["status"] == "active"
