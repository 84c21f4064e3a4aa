"""Quickstart: three end-customer organizations of a distributor.

Suspend one with `pulumi config set suspend globex` and `pulumi up`.
"""

import pulumi

from pulumi_exo_distributor import BillingAddressArgs, DistributorOrganization

config = pulumi.Config()
suspended = {slug.strip() for slug in (config.get("suspend") or "").split(",") if slug.strip()}

CUSTOMERS = [
    (
        "acme",
        "Acme SA",
        "ops@acme.example",
        BillingAddressArgs(
            name="Acme SA",
            country="CH",
            city="Lausanne",
            postal_code="1003",
            street_name="Rue de Bourg",
            building_number="12",
        ),
    ),
    (
        "globex",
        "Globex GmbH",
        "it@globex.example",
        BillingAddressArgs(
            name="Globex GmbH",
            country="DE",
            city="München",
            postal_code="80331",
            street_name="Marienplatz",
            building_number="8",
        ),
    ),
    (
        "initech",
        "Initech SARL",
        "admin@initech.example",
        {
            "name": "Initech SARL",
            "country": "fr",
            "city": "Lyon",
            "postal_code": "69002",
            "street_name": "Rue de la République",
            "building_number": "21",
        },
    ),
]

for slug, display_name, owner_email, address in CUSTOMERS:
    org = DistributorOrganization(
        slug,
        display_name=display_name,
        owner_email=owner_email,
        billing_address=address,
        client_id=f"{slug}-001",
        status="suspended" if slug in suspended else "active",
        deletion_policy="purge",
    )
    pulumi.export(
        slug,
        {
            "id": org.id,
            "status": org.status,
            "client_id": org.client_id,
            "billing_address": org.billing_address,
        },
    )
