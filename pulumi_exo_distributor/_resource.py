"""What a program writes: ``DistributorOrganization`` and ``BillingAddressArgs``."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from ._inputs import within_client_id_limit
from ._provider import DistributorOrganizationProvider

__all__ = ["BillingAddressArgs", "DistributorOrganization", "default_client_id"]


def default_client_id(
    project: str, stack: str, resource_name: str, parent: pulumi.Resource | None = None
) -> str:
    """The client id of an organization whose program declares none:
    ``pulumi:<project>/<stack>/<name>``, or ``pulumi:<project>/<stack>/<parent type>$<parent name>/<name>``
    for a resource with a parent (two components may each hold an ``org``).

    It is what lets the provider find the organization again after a crash or a lost answer
    instead of creating a second one. Too long a name is shortened with a hash of the whole.
    """
    path = resource_name
    if parent is not None and parent.pulumi_resource_type != "pulumi:pulumi:Stack":
        path = f"{parent.pulumi_resource_type}${parent.pulumi_resource_name}/{resource_name}"
    return within_client_id_limit(f"pulumi:{project}/{stack}/{path}")


@pulumi.input_type
class BillingAddressArgs:
    """ISO 20022 structured billing address of an organization."""

    def __init__(
        __self__,
        *,
        name: pulumi.Input[str],
        country: pulumi.Input[str],
        city: pulumi.Input[str],
        postal_code: pulumi.Input[str],
        street_name: pulumi.Input[str],
        building_number: pulumi.Input[str] | None = None,
        address: pulumi.Input[str] | None = None,
    ) -> None:
        """
        :param name: Recipient name; the API calls it the organization's display name (at least 1 character).
        :param country: ISO 3166-1 alpha-2 country code, such as ``CH`` (normalised to upper case).
        :param city: City, 1 to 255 characters.
        :param postal_code: Postal code, 1 to 80 characters.
        :param street_name: Street name, at least 1 character.
        :param building_number: Building number, at most 255 characters.
        :param address: Free-text address, a fallback for what the structured fields cannot say.
        """
        pulumi.set(__self__, "name", name)
        pulumi.set(__self__, "country", country)
        pulumi.set(__self__, "city", city)
        pulumi.set(__self__, "postal_code", postal_code)
        pulumi.set(__self__, "street_name", street_name)
        if building_number is not None:
            pulumi.set(__self__, "building_number", building_number)
        if address is not None:
            pulumi.set(__self__, "address", address)

    @property
    @pulumi.getter
    def name(self) -> pulumi.Input[str]:
        return pulumi.get(self, "name")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def country(self) -> pulumi.Input[str]:
        return pulumi.get(self, "country")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def city(self) -> pulumi.Input[str]:
        return pulumi.get(self, "city")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="postal_code")
    def postal_code(self) -> pulumi.Input[str]:
        return pulumi.get(self, "postal_code")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="street_name")
    def street_name(self) -> pulumi.Input[str]:
        return pulumi.get(self, "street_name")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="building_number")
    def building_number(self) -> pulumi.Input[str] | None:
        return pulumi.get(self, "building_number")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def address(self) -> pulumi.Input[str] | None:
        return pulumi.get(self, "address")  # type: ignore[no-any-return]


def declared_props(resource_name: str, opts: pulumi.ResourceOptions | None, **inputs: Any) -> dict[str, Any]:
    """What a resource of either front-end registers: the program's inputs, its default client id
    (the dynamic form, parents included, so that both front-ends give a resource the same one),
    and the output-only properties, declared so that they are readable as attributes."""
    parent = opts.parent if opts else None
    return {
        **inputs,
        "default_client_id": default_client_id(
            pulumi.get_project(), pulumi.get_stack(), resource_name, parent
        ),
        "remote_billing_address": None,
        "key_fingerprint": None,
        "provider_version": None,
    }


def warn_replacement(resource: pulumi.Resource, allow_replacement: object) -> None:
    """The warning every run shows while ``allow_replacement=True`` is declared."""
    if allow_replacement is True:
        pulumi.log.warn(
            "allow_replacement=True: a change of display_name, billing_address or client_id replaces "
            "this organization, and the old one is deleted per its deletion_policy (by default: "
            "terminated and its purge scheduled, the customer's whole cloud account). Turn it off "
            "again once the replacement is done.",
            resource=resource,
        )


@functools.cache
def _provider() -> DistributorOrganizationProvider:
    """The program's one provider object: it is only ever pickled (by reference to its class),
    and the provider host makes its own; one per resource would cost each its set-up."""
    return DistributorOrganizationProvider()


class OrganizationOutputs:
    """The attributes of an organization resource, on either front-end (the dynamic resource and
    the plugin's): every property is an output attribute, which the SDK sets one per property."""

    # For type checkers and readers only. At run time the SDK reads a resource class's annotations
    # again for every resource it registers (pulumi._types.resource_types, with typing.get_type_hints,
    # uncached): about 0.4 ms of the program's CPU per organization, for outputs that are all plain
    # values. Every property is an output attribute all the same (the SDK sets one per property).
    if TYPE_CHECKING:
        status: pulumi.Output[str]
        """The status the API reports: ``created``, ``active``, ``suspended`` or ``terminated``."""
        display_name: pulumi.Output[str]
        """The display name given at creation (the API never returns it)."""
        owner_email: pulumi.Output[str]
        """The first owner's e-mail address given at creation (the API never returns it)."""
        billing_address: pulumi.Output[dict[str, str]]
        """The billing address as declared (snake_case keys, white space trimmed, country upper-cased)."""
        remote_billing_address: pulumi.Output[dict[str, str] | None]
        """The billing address as the API returns it (it may normalise or complete what it stores)."""
        client_id: pulumi.Output[str]
        """The organization's client id: the declared one, or ``pulumi:<project>/<stack>/<name>``."""
        deletion_policy: pulumi.Output[str]
        """What deleting the resource does: ``purge``, ``terminate`` or ``retain``."""
        adopt_id: pulumi.Output[str | None]
        """The id of an existing organization this resource took under management, if any."""
        allow_replacement: pulumi.Output[bool]
        """Whether a change of a create-only input may replace the organization."""
        key_fingerprint: pulumi.Output[str]
        """A fingerprint (never the key) of the API key that created or last saw the organization."""
        provider_version: pulumi.Output[str]
        """The version of pulumi-exo-distributor that last wrote this state (an older one refuses it)."""


class DistributorOrganization(
    pulumi.dynamic.Resource, OrganizationOutputs, module="exoscale", name="DistributorOrganization"
):
    """An end-customer organization of an Exoscale distributor: a customer's whole cloud account.

    Deleting the resource terminates the organization and schedules its purge (see
    ``deletion_policy``). The API cannot change ``display_name``, ``billing_address`` or
    ``client_id``: a change of one is refused unless ``allow_replacement=True``, which replaces the
    organization (a new one, and the old one deleted per its ``deletion_policy``). Protect what
    matters with ``pulumi.ResourceOptions(protect=True)``.
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
        """
        :param resource_name: The Pulumi name of the resource.
        :param display_name: Organization display name, 1 to 191 characters. Create-only.
        :param owner_email: E-mail of the first owner, at most 75 characters. Used only at creation:
            changing it later records the new value and changes nothing remotely.
        :param billing_address: A :class:`BillingAddressArgs` or a dict with the same snake_case keys.
            Create-only.
        :param client_id: The distributor's own reference, 1 to 191 characters, unique among the
            distributor's live organizations. Create-only. Without it the organization gets
            ``pulumi:<project>/<stack>/<resource_name>``.
        :param status: ``active`` (default) or ``suspended``; changes in place (activate/suspend).
        :param deletion_policy: ``purge`` (terminate, then schedule the purge; the default),
            ``terminate`` (terminate only) or ``retain`` (leave the organization alone; the default
            with ``adopt_id``). Changes in place, with no API call.
        :param adopt_id: Id of an existing organization to take under management instead of creating one;
            the program must declare it as it is (billing address, client id).
        :param allow_replacement: ``True`` lets a change of ``display_name``, ``billing_address`` or
            ``client_id`` replace the organization: create a new one, then delete this one per its
            ``deletion_policy`` (by default, terminate and purge the customer's account). Off by default:
            such a change is refused.
        :param opts: Resource options; ``protect=True`` is advised.
        """
        props = declared_props(
            resource_name,
            opts,
            display_name=display_name,
            owner_email=owner_email,
            billing_address=billing_address,
            client_id=client_id,
            status=status,
            deletion_policy=deletion_policy,
            adopt_id=adopt_id,
            allow_replacement=allow_replacement,
        )
        super().__init__(_provider(), resource_name, props, opts)
        warn_replacement(self, allow_replacement)
