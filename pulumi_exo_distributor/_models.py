"""Wire models of the Partner API: kebab-case on the wire, snake_case in Python."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import iso3166
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints
from pydantic.alias_generators import to_snake

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
    """An organization's status. ``created`` is real although the human docs omit it."""

    ACTIVE = "active"
    CREATED = "created"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


def _iso_country(value: str) -> str:
    code = value.upper()
    if code not in iso3166.countries_by_alpha2:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (such as CH, DE, FR)")
    return code


Country = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_iso_country)]


class BillingAddress(_WireModel):
    """ISO 20022 structured billing address. ``name`` is the organization's display name in responses."""

    name: Annotated[str, Field(min_length=1)]
    country: Country
    city: Annotated[str, Field(min_length=1, max_length=255)]
    postal_code: Annotated[str, Field(min_length=1, max_length=80)]
    street_name: Annotated[str, Field(min_length=1)]
    building_number: Annotated[str | None, Field(max_length=255)] = None
    address: Annotated[str | None, Field(min_length=1)] = None


class OrganizationInput(_WireModel):
    """Body of create-distributor-organization."""

    display_name: Annotated[str, Field(min_length=1, max_length=191)]
    # writeOnly: the API never returns it.
    owner_email: Annotated[EmailStr, Field(max_length=75)]
    billing_address: BillingAddress
    client_id: Annotated[str | None, Field(max_length=191)] = None


class Organization(_WireModel):
    """An organization as the API returns it. It has no display name and no owner e-mail."""

    id: UUID
    status: OrganizationStatus
    billing_address: BillingAddress | None = None
    client_id: str | None = None


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
