"""The invoicing export: the rows of every statement read, and their exact totals.

Adding up (:func:`fleet_usage`): one row per organization x month x product line, totals per month
and currency and per currency, all in ``Decimal`` with a context that refuses to round, written as
plain decimal strings. The totals are the sums of the lines; a statement whose own total differs
from the sum of its lines is reported (``mismatches``), not hidden.
"""

from __future__ import annotations

import decimal
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypedDict

from .._data import OrganizationInfo, UsageLineInfo, UsageStatementInfo

_PLAIN_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class FleetUsageLineInfo(TypedDict):
    """One product line of one organization's statement for one month. Amounts and quantity are
    plain decimal strings (``"-12.50"``, never an exponent), exact as the API sent them."""

    organization_id: str
    client_id: str | None
    #: The billing address's name: the organization's display name.
    name: str | None
    period: str
    product: str | None
    variable: str | None
    description: str | None
    quantity: str | None
    unit: str | None
    total_excl_vat: str | None
    total_incl_vat: str | None
    currency: str | None


class FleetUsageTotalInfo(TypedDict):
    """The lines of one month in one currency, added up."""

    period: str
    currency: str
    total_excl_vat: str
    total_incl_vat: str
    lines: int
    organizations: int


class FleetCurrencyTotalInfo(TypedDict):
    """The lines of every month in one currency, added up."""

    total_excl_vat: str
    total_incl_vat: str
    lines: int


class FleetUsageMismatchInfo(TypedDict):
    """A statement whose own totals are not the sum of its lines (the export adds the lines)."""

    organization_id: str
    period: str
    code: str | None
    currency: str | None
    statement_excl_vat: str | None
    lines_excl_vat: str
    statement_incl_vat: str | None
    lines_incl_vat: str


class FleetUsageInfo(TypedDict):
    """Usage across organizations and months, ready for invoicing (see :func:`fleet_usage`)."""

    #: Every month asked for, in order.
    periods: list[str]
    #: Those that had not ended when they were read: their figures may still grow.
    open_periods: list[str]
    #: How many organizations, and how many statements, the lines come from.
    organizations: int
    statements: int
    lines: list[FleetUsageLineInfo]
    #: Per month and currency, in month then currency order.
    totals: list[FleetUsageTotalInfo]
    #: Per currency, over every month.
    totals_by_currency: dict[str, FleetCurrencyTotalInfo]
    mismatches: list[FleetUsageMismatchInfo]


#: Exact sums or an error: a total that would need rounding raises decimal.Inexact.
_EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])


def _plain(value: str | Decimal | None) -> str | None:
    """An amount in plain notation (``1E+1`` is written ``10``), exactly."""
    if value is None:
        return None
    if isinstance(value, str) and _PLAIN_AMOUNT.fullmatch(value):
        return value  # as the API wrote it: most amounts, and no Decimal to make
    with decimal.localcontext(_EXACT):
        amount = Decimal(value)
        if not amount.is_finite():
            raise decimal.InvalidOperation(f"not a finite amount: {value!r}")
    return f"{amount:f}"


def _amount(value: str | None) -> Decimal:
    return Decimal(value) if value else Decimal(0)


def _name(org: OrganizationInfo) -> str | None:
    return org["billing_address"]["name"] if org["billing_address"] else None


def _line_row(
    org: OrganizationInfo, period: str, currency: str | None, line: UsageLineInfo
) -> FleetUsageLineInfo:
    return {
        "organization_id": org["id"],
        "client_id": org["client_id"],
        "name": _name(org),
        "period": period,
        "product": line["product"],
        "variable": line["variable"],
        "description": line["description"],
        "quantity": _plain(line["quantity"]),
        "unit": line["unit"],
        "total_excl_vat": _plain(line["total_excl_vat"]),
        "total_incl_vat": _plain(line["total_incl_vat"]),
        "currency": currency,
    }


def _differs(stated: str | None, summed: Decimal) -> bool:
    return stated is not None and Decimal(stated) != summed


@dataclass
class _Sum:
    excl: Decimal = Decimal(0)
    incl: Decimal = Decimal(0)
    lines: int = 0
    organizations: set[str] = field(default_factory=set)

    def add(self, other: _Sum) -> None:
        self.excl += other.excl
        self.incl += other.incl
        self.lines += other.lines
        self.organizations |= other.organizations


def fleet_usage(
    organizations: Sequence[OrganizationInfo],
    periods: Sequence[str],
    statements: Mapping[tuple[str, str], list[UsageStatementInfo]],
    *,
    open_periods: Sequence[str] = (),
) -> FleetUsageInfo:
    """The lines of every statement, organization by organization (in the given order) then month
    by month, and their totals. Organizations without a statement give no line."""
    lines: list[FleetUsageLineInfo] = []
    mismatches: list[FleetUsageMismatchInfo] = []
    by_month: dict[tuple[str, str], _Sum] = defaultdict(_Sum)
    statement_count = 0
    with decimal.localcontext(_EXACT):
        for org in organizations:
            for period in periods:
                for statement in statements.get((org["id"], period), []):
                    statement_count += 1
                    this = _Sum(organizations={org["id"]})
                    for line in statement["usage"]:
                        this.excl += _amount(line["total_excl_vat"])
                        this.incl += _amount(line["total_incl_vat"])
                        this.lines += 1
                        lines.append(_line_row(org, period, statement["currency"], line))
                    by_month[period, statement["currency"] or "?"].add(this)
                    stated_excl, stated_incl = statement["total_excl_vat"], statement["total_incl_vat"]
                    if _differs(stated_excl, this.excl) or _differs(stated_incl, this.incl):
                        mismatches.append(
                            {
                                "organization_id": org["id"],
                                "period": period,
                                "code": statement["code"],
                                "currency": statement["currency"],
                                "statement_excl_vat": _plain(stated_excl),
                                "lines_excl_vat": f"{this.excl:f}",
                                "statement_incl_vat": _plain(stated_incl),
                                "lines_incl_vat": f"{this.incl:f}",
                            }
                        )
        totals: list[FleetUsageTotalInfo] = []
        by_currency: dict[str, _Sum] = defaultdict(_Sum)
        for (period, currency), total in sorted(by_month.items()):
            totals.append(
                {
                    "period": period,
                    "currency": currency,
                    "total_excl_vat": f"{total.excl:f}",
                    "total_incl_vat": f"{total.incl:f}",
                    "lines": total.lines,
                    "organizations": len(total.organizations),
                }
            )
            by_currency[currency].add(total)
    return {
        "periods": list(periods),
        "open_periods": [period for period in periods if period in set(open_periods)],
        "organizations": len({org_id for total in by_month.values() for org_id in total.organizations}),
        "statements": statement_count,
        "lines": lines,
        "totals": totals,
        "totals_by_currency": {
            currency: {
                "total_excl_vat": f"{total.excl:f}",
                "total_incl_vat": f"{total.incl:f}",
                "lines": total.lines,
            }
            for currency, total in sorted(by_currency.items())
        },
        "mismatches": mismatches,
    }
