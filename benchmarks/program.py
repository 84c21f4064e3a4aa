"""The bench's Pulumi program: ``count`` organizations of one ``provider`` (ours, floor or naive)."""

import pulumi

config = pulumi.Config()
provider = config.require("provider")
count = config.require_int("count")
status = config.get("status") or "active"

if provider == "floor":
    from benchmarks.floor import FloorOrganization as Organization
elif provider == "naive":
    from benchmarks.naive import NaiveOrganization as Organization
else:
    from pulumi_exo_distributor import DistributorOrganization as Organization

for i in range(count):
    Organization(
        f"org-{i:05d}",
        display_name=f"Customer {i:05d} SA",
        owner_email=f"ops@customer{i:05d}.example",
        billing_address={
            "name": f"Customer {i:05d} SA",
            "country": "CH",
            "city": "Lausanne",
            "postal_code": "1003",
            "street_name": "Rue de Bourg",
            "building_number": str(i % 200 + 1),
        },
        status=status,
    )
