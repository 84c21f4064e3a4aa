"""Our customers' organizations at Exoscale: one per entry of customers.yaml.

customers.yaml is the only file to edit. A pull request shows what a change would do (`pulumi
preview`); merging it applies the change (`pulumi up`): see .github/workflows/pulumi.yml.

Every customer is protected unless its entry says `protect: false`: removing a protected customer
from the file, or changing what would replace its organization (display name, billing address,
client id), makes `pulumi up` fail instead of touching the organization.
"""

import pulumi

from pulumi_exo_distributor import DistributorOrganization, load_customers

# Relative to the project directory, where Pulumi runs the program: errors then say
# "customers.yaml:12: customer 'acme': ..." rather than a long absolute path.
for customer in load_customers("customers.yaml"):
    organization = DistributorOrganization(
        customer.name,
        **customer.inputs,
        opts=pulumi.ResourceOptions(protect=customer.protect),
    )
    pulumi.export(customer.name, {"id": organization.id, "status": organization.status})
