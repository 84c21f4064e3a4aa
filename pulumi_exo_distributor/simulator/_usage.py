"""Deterministic, plausible usage statements.

A statement depends only on the organization id and the period, so asking twice gives the
same answer, across restarts and machines (``random.Random`` seeded with an integer is stable
across Python versions). Amounts are computed in ``Decimal`` and rounded to cents line by line;
the statement totals are the sums of the lines, and each line's amount including VAT is its
amount excluding VAT times ``1 + rate``, rounded half up to cents.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["CURRENCIES", "VAT_RATES", "PeriodError", "parse_period", "usage_statements"]

CURRENCIES = ("CHF", "EUR", "USD")
#: A plausible rate per currency (Swiss VAT, German VAT, none for US customers).
VAT_RATES = {"CHF": Decimal("0.081"), "EUR": Decimal("0.19"), "USD": Decimal("0")}

# product, variable, description, unit, unit price (same figure in every currency: it is fake),
# maximum monthly quantity.
_CATALOG: tuple[tuple[str, str, str, str, Decimal, int], ...] = (
    ("compute", "instance.standard.small", "Compute instance Standard Small", "hour", Decimal("0.0215"), 744),
    (
        "compute",
        "instance.standard.medium",
        "Compute instance Standard Medium",
        "hour",
        Decimal("0.043"),
        744,
    ),
    ("compute", "instance.cpu.large", "Compute instance CPU Large", "hour", Decimal("0.1655"), 744),
    ("block-storage", "volume", "Block storage volume", "GiB-month", Decimal("0.1"), 2000),
    ("sos", "storage", "Simple Object Storage", "GiB-month", Decimal("0.02"), 5000),
    ("sos", "egress", "Simple Object Storage egress traffic", "GiB", Decimal("0.02"), 1000),
    ("dbaas", "pg.business-4", "Managed PostgreSQL Business-4", "hour", Decimal("0.3418"), 744),
    ("network", "elastic-ip", "Elastic IP address", "hour", Decimal("0.0055"), 744),
)

_CENT = Decimal("0.01")
# \d would accept any Unicode digit; the period is ASCII.
_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


class PeriodError(ValueError):
    """The ``period`` query parameter is not a month."""


def parse_period(text: str) -> tuple[int, int]:
    """Read ``YYYY-MM`` (exactly 7 characters, month 01-12, year 0001-9999)."""
    match = _PERIOD.fullmatch(text)
    if match is None or int(match[1]) == 0:
        raise PeriodError(f"period: must be a month written YYYY-MM, such as 2024-05 (got {text[:40]!r})")
    return int(match[1]), int(match[2])


def currency_of(org_id: str) -> str:
    """The billing currency of an organization, fixed by its id."""
    return CURRENCIES[_digest(org_id)[0] % len(CURRENCIES)]


def usage_statements(
    org_id: str, created_at: float, period: tuple[int, int], now: float
) -> list[dict[str, Any]]:
    """The statements of ``period`` (a ``(year, month)``): one per month the organization existed.

    A month before the organization's creation or after the current month has no statement
    (an empty list). The current month already has its full, final statement.
    """
    created = datetime.fromtimestamp(created_at, timezone.utc)
    today = datetime.fromtimestamp(now, timezone.utc)
    if period < (created.year, created.month) or period > (today.year, today.month):
        return []
    return [_statement(org_id, period)]


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _statement(org_id: str, period: tuple[int, int]) -> dict[str, Any]:
    year, month = period
    currency = currency_of(org_id)
    rate = VAT_RATES[currency]
    seed = int.from_bytes(_digest(f"{org_id}/{year:04d}-{month:02d}"), "big")
    rng = random.Random(seed)  # noqa: S311 -- fake figures, not secrets
    lines: list[dict[str, Any]] = []
    total_excl = total_incl = Decimal(0)
    for product, variable, description, unit, price, most in sorted(
        rng.sample(_CATALOG, rng.randint(1, 5)), key=lambda item: (item[0], item[1])
    ):
        if unit == "hour":
            quantity = Decimal(rng.randint(1, most))
        else:
            quantity = Decimal(rng.randint(1, most * 100)) / 100
        excl = _cents(quantity * price)
        incl = _cents(excl * (1 + rate))
        total_excl += excl
        total_incl += incl
        lines.append(
            {
                "product": product,
                "variable": variable,
                "description": description,
                "quantity": float(quantity),
                "unit": unit,
                # float(Decimal) is the double nearest the cents value, so it prints as such.
                "total-excl-vat": float(excl),
                "total-incl-vat": float(incl),
            }
        )
    end = (year + 1, 1) if month == 12 else (year, month + 1)
    return {
        "code": f"{year:04d}{month:02d}-{org_id.split('-')[0].upper()}",
        "currency": currency,
        "total-excl-vat": float(total_excl),
        "total-incl-vat": float(total_incl),
        # [start, end): the end is the first instant of the next month.
        "start-date": f"{year:04d}-{month:02d}-01T00:00:00Z",
        "end-date": f"{end[0]:04d}-{end[1]:02d}-01T00:00:00Z",
        "usage": lines,
    }
