"""The Pulumi program of the end-to-end tests and of `make reliability`: the organizations that the
stack config `orgs` describes, through the front-end that the stack config `frontend` names:
`dynamic` (the default: the dynamic provider) or `plugin` (the provider plugin)."""

import json

import pulumi

from pulumi_exo_distributor import BillingAddressArgs

config = pulumi.Config()
if config.get("frontend") == "plugin":
    from pulumi_exo_distributor.plugin import DistributorOrganization
else:
    from pulumi_exo_distributor import DistributorOrganization  # type: ignore[assignment]
made: dict[str, DistributorOrganization] = {}
for name, spec in json.loads(config.require("orgs")).items():
    address = spec.pop("billing_address")
    # An input that is an output of an earlier organization: unknown during a preview.
    source = spec.pop("client_id_from", None)
    if source is not None:
        spec["client_id"] = made[source].id.apply(lambda id_: f"after-{id_[:8]}")
    made[name] = org = DistributorOrganization(
        name,
        billing_address=BillingAddressArgs(**address) if spec.pop("typed_address", False) else address,
        opts=pulumi.ResourceOptions(
            protect=spec.pop("protect", False),
            aliases=[pulumi.Alias(name=alias) for alias in spec.pop("aliases", [])],
            # Pulumi's own import option (the provider plugin only: a dynamic resource cannot).
            import_=spec.pop("import_id", None),
        ),
        **spec,
    )
    pulumi.export(
        name,
        {
            "id": org.id,
            "status": org.status,
            "display_name": org.display_name,
            "owner_email": org.owner_email,
            "billing_address": org.billing_address,
            "client_id": org.client_id,
            "deletion_policy": org.deletion_policy,
        },
    )
