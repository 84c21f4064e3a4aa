"""A program of the provider plugin whose organizations may each name an explicit provider
resource: the stack config ``providers`` lists the explicit providers (each with the stack's
``exo-distributor:*`` credentials), ``orgs`` the organizations, each with an optional ``provider``
(one of them; left out: the default provider) and an optional ``frontend``: ``dynamic`` declares
it as the dynamic resource instead."""

import json

import pulumi

from pulumi_exo_distributor import DistributorOrganization as DynamicOrganization
from pulumi_exo_distributor.plugin import DistributorOrganization, plugin_version

config = pulumi.Config()
credentials = pulumi.Config("exo-distributor")
providers = {
    name: pulumi.ProviderResource(
        "exo-distributor",
        name,
        {
            "key": credentials.get("key"),
            "secret": credentials.get_secret("secret"),
            "endpoint": credentials.get("endpoint"),
        },
        opts=pulumi.ResourceOptions(version=plugin_version()),
    )
    for name in json.loads(config.get("providers") or "[]")
}
for name, spec in json.loads(config.require("orgs")).items():
    provider = providers.get(spec.pop("provider", None) or "")
    kind = DynamicOrganization if spec.pop("frontend", None) == "dynamic" else DistributorOrganization
    org = kind(
        name,
        opts=pulumi.ResourceOptions(
            provider=provider, aliases=[pulumi.Alias(name=alias) for alias in spec.pop("aliases", [])]
        ),
        **spec,
    )
    pulumi.export(name, org.id)
