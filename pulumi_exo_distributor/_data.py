"""Organizations and usage as plain data: what the functions return and what the command prints.

The wire models (``_models``) are pydantic objects holding ``UUID``, ``Decimal`` and ``datetime``
values, none of which a Pulumi output or a JSON document can carry. This module turns them into
typed dictionaries of plain values: a Pulumi program can export them as they are, and the
command's ``--output json`` prints exactly what the functions return.

Amounts and quantities are decimal strings (``"123.45"``), exact as the API sent them: turn
them into ``decimal.Decimal`` to compute, never into ``float``. Dates are ISO 8601 strings.

This module imports nothing heavy at import time (the models are only needed for type hints).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from decimal import Decimal

    from ._models import BillingAddress, Organization, UsageLine, UsageStatement

__all__ = [
    "DYNAMIC_RESOURCE_TYPE",
    "BillingAddressInfo",
    "OrganizationInfo",
    "UsageLineInfo",
    "UsageStatementInfo",
    "check_period",
    "organization_info",
    "usage_statement_info",
]

#: The type of a DistributorOrganization in a stack's state (a Python dynamic resource).
DYNAMIC_RESOURCE_TYPE = "pulumi-python:dynamic/exoscale:DistributorOrganization"

_PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


class BillingAddressInfo(TypedDict):
    """An organization's billing address; ``name`` is its display name."""

    name: str
    country: str
    city: str
    postal_code: str
    street_name: str
    building_number: str | None
    address: str | None


class OrganizationInfo(TypedDict):
    """An organization as the Partner API returns it (it has no display name and no owner e-mail)."""

    id: str
    #: ``created``, ``active``, ``suspended`` or ``terminated``.
    status: str
    client_id: str | None
    billing_address: BillingAddressInfo | None


class UsageLineInfo(TypedDict):
    """One product line of a usage statement. Amounts and quantity are decimal strings."""

    product: str | None
    variable: str | None
    description: str | None
    quantity: str | None
    unit: str | None
    total_excl_vat: str | None
    total_incl_vat: str | None


class UsageStatementInfo(TypedDict):
    """An organization's usage statement for one month. Amounts are decimal strings, dates ISO 8601."""

    code: str | None
    #: ``CHF``, ``EUR`` or ``USD``.
    currency: str | None
    total_excl_vat: str | None
    total_incl_vat: str | None
    start_date: str | None
    end_date: str | None
    usage: list[UsageLineInfo]


def check_period(period: str) -> str:
    """Return ``period`` if it is a month written ``YYYY-MM``; raise ``ValueError`` otherwise."""
    if not isinstance(period, str) or not _PERIOD.fullmatch(period):
        raise ValueError(f"period must be a month written YYYY-MM (such as 2026-10), got {period!r}")
    return period


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _address_info(address: BillingAddress) -> BillingAddressInfo:
    return {
        "name": address.name,
        "country": address.country,
        "city": address.city,
        "postal_code": address.postal_code,
        "street_name": address.street_name,
        "building_number": address.building_number,
        "address": address.address,
    }


def organization_info(org: Organization) -> OrganizationInfo:
    return {
        "id": str(org.id),
        "status": org.status.value,
        "client_id": org.client_id,
        "billing_address": _address_info(org.billing_address) if org.billing_address else None,
    }


def _line_info(line: UsageLine) -> UsageLineInfo:
    return {
        "product": line.product,
        "variable": line.variable,
        "description": line.description,
        "quantity": _decimal(line.quantity),
        "unit": line.unit,
        "total_excl_vat": _decimal(line.total_excl_vat),
        "total_incl_vat": _decimal(line.total_incl_vat),
    }


def usage_statement_info(statement: UsageStatement) -> UsageStatementInfo:
    return {
        "code": statement.code,
        "currency": statement.currency,
        "total_excl_vat": _decimal(statement.total_excl_vat),
        "total_incl_vat": _decimal(statement.total_incl_vat),
        "start_date": statement.start_date.isoformat() if statement.start_date else None,
        "end_date": statement.end_date.isoformat() if statement.end_date else None,
        "usage": [_line_info(line) for line in statement.usage],
    }
