"""Our customers' organizations at Exoscale, in several stacks: this stack's share of customers.yaml.

Every stack of this project (shard-0 ... shard-{K-1}, K = `shards` in Pulumi.yaml) runs this same
program over the same customers.yaml and declares its share. A customer stays in the shard whose
state holds it; a new one goes to the shard its entry names (`shard: shard-2`), else to one chosen
by a hash of its key. Whatever would move a customer from one shard to another, which would
terminate and purge its organization in one and create a new one in the other, is refused at
preview, naming the customer. See README.md; driver.py runs every shard at once.
"""

import pulumi

from pulumi_exo_distributor import DistributorOrganization, load_customers, shard_customers

SHARDS = pulumi.Config().require_int("shards")

# Relative to the project directory, where Pulumi runs the program: errors then say
# "customers.yaml:12: customer 'acme': ..." rather than a long absolute path.
for customer in shard_customers(load_customers("customers.yaml"), SHARDS):
    DistributorOrganization(
        customer.name,
        **customer.inputs,
        opts=pulumi.ResourceOptions(protect=customer.protect),
    )
