"""Wire models of the Partner API: kebab-case on the wire, snake_case in Python."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import iso3166
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic.alias_generators import to_snake

from ._limits import ADDRESS_LIMITS, ORGANIZATION_LIMITS, Limit

__all__ = [
    "BillingAddress",
    "Organization",
    "OrganizationInput",
    "OrganizationStatus",
    "PurgeResult",
    "UsageLine",
    "UsageStatement",
]


def _to_kebab(name: str) -> str:
    return to_snake(name).replace("_", "-")


class _WireModel(BaseModel):
    # Responses may grow fields: ignore what we do not know rather than fail.
    model_config = ConfigDict(alias_generator=_to_kebab, populate_by_name=True, extra="ignore", frozen=True)

    def to_wire(self) -> dict[str, object]:
        """The JSON body as the API expects it (kebab-case keys, unset optionals left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class OrganizationStatus(str, enum.Enum):
    """An organization's status. ``created`` is real although the human docs omit it.

    A status the API adds later is kept as it is (a member made on the fly, ``.value`` the
    API's word) rather than failing every read of the organization.
    """

    ACTIVE = "active"
    CREATED = "created"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"

    @classmethod
    def _missing_(cls, value: object) -> OrganizationStatus | None:
        if not isinstance(value, str) or not value:
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member


def _iso_country(value: str) -> str:
    code = value.upper()
    if code not in iso3166.countries_by_alpha2:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (such as CH, DE, FR)")
    return code


Country = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_iso_country)]


def _email(value: str) -> str:
    # pydantic's EmailStr, whose schema imports email-validator when the class is defined: here
    # when an address is first checked (a create), not at every start of a provider.
    from pydantic.networks import validate_email

    return validate_email(value)[1]


Email = Annotated[str, AfterValidator(_email)]


def _bounded(limit: Limit) -> Any:
    return Field(min_length=limit.min_length, max_length=limit.max_length)


class BillingAddress(_WireModel):
    """ISO 20022 structured billing address. ``name`` is the organization's display name in responses.

    Built for a request, it enforces the limits of :mod:`pulumi_exo_distributor._limits`; read from
    a response, it takes what the server says (see :class:`Organization`).
    """

    name: Annotated[str, _bounded(ADDRESS_LIMITS["name"])]
    country: Country
    city: Annotated[str, _bounded(ADDRESS_LIMITS["city"])]
    postal_code: Annotated[str, _bounded(ADDRESS_LIMITS["postal_code"])]
    street_name: Annotated[str, _bounded(ADDRESS_LIMITS["street_name"])]
    building_number: Annotated[str | None, _bounded(ADDRESS_LIMITS["building_number"])] = None
    address: Annotated[str | None, _bounded(ADDRESS_LIMITS["address"])] = None


class OrganizationInput(_WireModel):
    """Body of create-distributor-organization."""

    display_name: Annotated[str, _bounded(ORGANIZATION_LIMITS["display_name"])]
    # writeOnly: the API never returns it.
    owner_email: Annotated[Email, _bounded(ORGANIZATION_LIMITS["owner_email"])]
    billing_address: BillingAddress
    client_id: Annotated[str | None, _bounded(ORGANIZATION_LIMITS["client_id"])] = None


class Organization(_WireModel):
    """An organization as the API returns it. It has no display name and no owner e-mail."""

    id: UUID
    status: OrganizationStatus
    billing_address: BillingAddress | None = None
    client_id: str | None = None

    @field_validator("billing_address", mode="wrap")
    @classmethod
    def _as_the_server_says(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # Read leniently: a server that stores more, or other, than this package would send
        # (a longer name, a country it normalised otherwise) must not make reads fail.
        try:
            return handler(value)
        except ValidationError:
            if not isinstance(value, Mapping):
                return None
            fields = {str(k).replace("-", "_"): v for k, v in value.items()}
            known = {
                k: v for k, v in fields.items() if k in BillingAddress.model_fields and isinstance(v, str)
            }
            # A required field the server leaves out (or sends as no string) reads as empty, never
            # as a missing attribute.
            required = {k: "" for k, info in BillingAddress.model_fields.items() if info.is_required()}
            return BillingAddress.model_construct(None, **{**required, **known})


class PurgeResult(_WireModel):
    """Answer of schedule-purge: purged at once (200) or scheduled (202)."""

    scheduled: bool
    message: str | None = None


class UsageLine(_WireModel):
    product: str | None = None
    variable: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    total_excl_vat: Decimal | None = None
    total_incl_vat: Decimal | None = None


class UsageStatement(_WireModel):
    code: str | None = None
    currency: str | None = None
    total_excl_vat: Decimal | None = None
    total_incl_vat: Decimal | None = None
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    usage: list[UsageLine] = Field(default_factory=list)
