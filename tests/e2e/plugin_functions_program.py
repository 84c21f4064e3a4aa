"""The program of the plugin's invoke test: the read-only functions, called as the schema's invokes
(what a Pulumi YAML program's `fn::invoke` does)."""

import pulumi

from pulumi_exo_distributor.plugin import plugin_version

config = pulumi.Config()
opts = pulumi.InvokeOptions(version=plugin_version())

listed = pulumi.runtime.invoke("exo-distributor:index:listOrganizations", {}, opts)
pulumi.export("listed", [org["id"] for org in listed.value["organizations"]])
target = config.require("target")
got = pulumi.runtime.invoke("exo-distributor:index:getOrganization", {"id": target}, opts)
pulumi.export("target", got.value)
