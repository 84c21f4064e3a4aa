"""The program of the functions' end-to-end tests: what it reads is chosen by the stack config."""

import pulumi

from pulumi_exo_distributor import (
    DistributorOrganization,
    get_fleet_usage,
    get_organization,
    get_organization_usage,
    list_organizations,
)

config = pulumi.Config()

pulumi.export("listed", list_organizations())

target = config.get("target")
if target:
    pulumi.export("target", get_organization(target))
    pulumi.export("usage", get_organization_usage(target, config.get("period")))

fleet_from = config.get("fleet_from")
if fleet_from:
    pulumi.export(
        "fleet", get_fleet_usage(fleet_from, config.get("fleet_to"), config.get_object("fleet_ids"))
    )

if config.get_bool("create"):
    # A function of a resource's output: unknown in a preview that creates it, read in the up.
    made = DistributorOrganization(
        "made",
        display_name="Made SA",
        owner_email="ops@made.example",
        billing_address={
            "name": "Made SA",
            "country": "CH",
            "city": "Bern",
            "postal_code": "3011",
            "street_name": "Marktgasse",
        },
        client_id="made-001",
    )
    pulumi.export("made", get_organization(made.id))
    pulumi.export("made_status", get_organization(made.id).apply(lambda org: org["status"]))
    if config.get("period"):
        pulumi.export("made_usage", get_organization_usage(made.id, config.get("period")))
