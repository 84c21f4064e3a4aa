"""A Python program's front-end for the plugin: ``DistributorOrganization`` as a custom resource
of the ``exo-distributor`` package, with the dynamic resource's arguments and attributes.

The same arguments as :class:`pulumi_exo_distributor.DistributorOrganization`; the engine sends
them to the plugin ``pulumi-resource-exo-distributor`` under the schema's camelCase names, and
records this package's version on the default provider (``default_<version>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from .._resource import BillingAddressArgs, OrganizationOutputs, declared_props, warn_replacement
from ._names import TYPE_TOKEN, camel, plugin_version, snake

__all__ = ["DistributorOrganization"]

_ADDRESS_KEYS = ("name", "country", "city", "postal_code", "street_name", "building_number", "address")


def _address(value: Any) -> Any:
    """The billing address with the schema's keys (``postalCode``), whatever form it was given in."""
    if isinstance(value, BillingAddressArgs):
        items = {key: getattr(value, key) for key in _ADDRESS_KEYS}
        return {camel(k): v for k, v in items.items() if v is not None}
    if isinstance(value, Mapping):
        return {camel(str(k)): v for k, v in value.items()}
    if isinstance(value, pulumi.Output):
        return value.apply(_address)
    return value


class DistributorOrganization(pulumi.CustomResource, OrganizationOutputs):
    """An end-customer organization of an Exoscale distributor, served by the provider plugin.

    Same arguments, attributes and rules as :class:`pulumi_exo_distributor.DistributorOrganization`
    (the dynamic resource); see docs/guides/plugin.md for when to use which.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        display_name: pulumi.Input[str],
        owner_email: pulumi.Input[str],
        billing_address: pulumi.Input[BillingAddressArgs] | pulumi.Input[Mapping[str, pulumi.Input[str]]],
        client_id: pulumi.Input[str] | None = None,
        status: pulumi.Input[str] | None = None,
        deletion_policy: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        allow_replacement: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = declared_props(
            resource_name,
            opts,
            display_name=display_name,
            owner_email=owner_email,
            billing_address=_address(billing_address),
            client_id=client_id,
            status=status,
            deletion_policy=deletion_policy,
            adopt_id=adopt_id,
            allow_replacement=allow_replacement,
        )
        # The plugin's version, recorded on the default provider in the state (and asked of the engine).
        opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(version=plugin_version()), opts)
        super().__init__(TYPE_TOKEN, resource_name, props, opts)
        warn_replacement(self, allow_replacement)

    def translate_input_property(self, prop: str) -> str:
        return camel(prop)

    def translate_output_property(self, prop: str) -> str:
        return snake(prop)
