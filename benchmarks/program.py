"""The bench's Pulumi program: ``count`` organizations of one ``provider`` (ours, floor or naive)."""

import pulumi

from benchmarks import organization_inputs

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
    Organization(f"org-{i:05d}", **organization_inputs(i), status=status)
