"""Deterministic, plausible usage statements.

A statement depends only on the organization id and the period, so asking twice gives the
same answer, across restarts and machines (``random.Random`` seeded with an integer is stable
across Python versions). Amounts are computed in ``Decimal`` and rounded to cents line by line;
the statement totals are the sums of the lines, and each line's amount including VAT is its
amount excluding VAT times ``1 + rate``, rounded half up to cents.

Each organization is a customer with a profile drawn from its id alone: a size (a few large
customers and many small ones), a currency (CHF, EUR or USD, fixed), the products it uses
(always compute instances, block storage and network egress; some have SOS object storage, SKS
clusters, DBaaS services, elastic IPs) and a trend (most grow a little every month). A month's
quantities follow the profile, the trend and the month's length, with some noise from one month
to the next: a fleet's statements add up to figures that look like a distributor's.
"""

from __future__ import annotations

import calendar
import hashlib
import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["CATALOG", "CURRENCIES", "VAT_RATES", "PeriodError", "parse_period", "usage_statements"]

CURRENCIES = ("CHF", "EUR", "USD")
#: A plausible rate per currency (Swiss VAT, German VAT, none for US customers).
VAT_RATES = {"CHF": Decimal("0.081"), "EUR": Decimal("0.19"), "USD": Decimal("0")}


@dataclass(frozen=True)
class _Item:
    product: str
    variable: str
    description: str
    unit: str
    #: The same figure in every currency: it is fake.
    price: Decimal


def _item(product: str, variable: str, description: str, unit: str, price: str) -> _Item:
    return _Item(product, variable, description, unit, Decimal(price))


#: What customers can use, by product.
CATALOG: dict[str, tuple[_Item, ...]] = {
    "compute": (
        _item("compute", "instance.standard.small", "Compute instance Standard Small", "hour", "0.0215"),
        _item("compute", "instance.standard.medium", "Compute instance Standard Medium", "hour", "0.043"),
        _item("compute", "instance.standard.large", "Compute instance Standard Large", "hour", "0.086"),
        _item("compute", "instance.cpu.large", "Compute instance CPU Large", "hour", "0.1655"),
        _item("compute", "instance.memory.big", "Compute instance Memory Big", "hour", "0.2481"),
    ),
    "block-storage": (
        _item("block-storage", "volume", "Block storage volume", "GiB-month", "0.1"),
        _item("block-storage", "snapshot", "Block storage snapshot", "GiB-month", "0.05"),
    ),
    "sos": (_item("sos", "storage", "Simple Object Storage", "GiB-month", "0.02"),),
    "sks": (_item("sks", "cluster.pro", "SKS Pro cluster control plane", "hour", "0.137"),),
    "dbaas": (
        _item("dbaas", "pg.business-4", "Managed PostgreSQL Business-4", "hour", "0.3418"),
        _item("dbaas", "mysql.startup-4", "Managed MySQL Startup-4", "hour", "0.1096"),
        _item("dbaas", "kafka.business-8", "Managed Kafka Business-8", "hour", "0.7123"),
    ),
    "network": (
        _item("network", "egress", "Internet egress traffic", "GiB", "0.01"),
        _item("network", "elastic-ip", "Elastic IP address", "hour", "0.0055"),
    ),
}

_CENT = Decimal("0.01")
# \d would accept any Unicode digit; the period is ASCII.
_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
#: The month the trends are centred on: quantities there are the profile's own.
_TREND_ORIGIN = 2026 * 12
#: How far a trend goes, in months either side (older and later months stay at its ends).
_TREND_REACH = 36


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


def _rng(text: str) -> random.Random:
    return random.Random(int.from_bytes(_digest(text), "big"))  # noqa: S311 -- fake figures, not secrets


def _cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class _Use:
    """One item a customer uses: how much in a typical month (instances for hourly items)."""

    item: _Item
    amount: float


@dataclass(frozen=True)
class _Profile:
    uses: tuple[_Use, ...]
    #: Relative change per month (most customers grow).
    trend: float


def _profile(org_id: str) -> _Profile:
    rng = _rng(f"profile/{org_id}")
    # Log-normal: many small customers, a few large ones (the largest about 50 times the median).
    size = min(max(rng.lognormvariate(0.0, 1.0), 0.1), 40.0)
    uses: list[_Use] = []

    def use(product: str, amount: float, *, variants: int = 1) -> None:
        for item in rng.sample(CATALOG[product], variants):
            uses.append(_Use(item, amount * rng.uniform(0.5, 1.5)))

    use("compute", max(1.0, 2 * size), variants=rng.randint(1, 3))
    volume, snapshot = CATALOG["block-storage"]
    uses.append(_Use(volume, 150 * size * rng.uniform(0.5, 1.5)))
    if rng.random() < 0.35:
        uses.append(_Use(snapshot, 60 * size * rng.uniform(0.5, 1.5)))
    if rng.random() < 0.55:
        use("sos", 800 * size)
    if rng.random() < (0.6 if size > 2 else 0.2):
        use("sks", float(rng.randint(1, 3)))
    if rng.random() < 0.45:
        use("dbaas", 1.0, variants=rng.randint(1, 2))
    egress, elastic_ip = CATALOG["network"]
    uses.append(_Use(egress, 250 * size * rng.uniform(0.3, 3.0)))
    if rng.random() < 0.5:
        uses.append(_Use(elastic_ip, float(rng.randint(1, 4))))
    unique = {use_.item.variable: use_ for use_ in uses}  # an item drawn twice counts once
    return _Profile(tuple(unique.values()), trend=rng.uniform(-0.01, 0.04))


def _quantity(use: _Use, hours: int, scale: float, rng: random.Random) -> Decimal:
    if use.item.unit == "hour":
        # Instances (or clusters, addresses) running most of the month.
        count = max(1, round(use.amount * scale))
        return Decimal(max(1, round(count * hours * rng.uniform(0.7, 1.0))))
    return max(_CENT, Decimal(f"{use.amount * scale * rng.uniform(0.85, 1.15):.2f}"))


def _statement(org_id: str, period: tuple[int, int]) -> dict[str, Any]:
    year, month = period
    currency = currency_of(org_id)
    rate = VAT_RATES[currency]
    profile = _profile(org_id)
    rng = _rng(f"{org_id}/{year:04d}-{month:02d}")
    hours = 24 * calendar.monthrange(year, month)[1]
    months_from_origin = max(-_TREND_REACH, min(_TREND_REACH, year * 12 + month - 1 - _TREND_ORIGIN))
    scale = max(0.2, math.exp(profile.trend * months_from_origin))
    lines: list[dict[str, Any]] = []
    total_excl = total_incl = Decimal(0)
    for use in sorted(profile.uses, key=lambda u: (u.item.product, u.item.variable)):
        quantity = _quantity(use, hours, scale, rng)
        excl = _cents(quantity * use.item.price)
        incl = _cents(excl * (1 + rate))
        total_excl += excl
        total_incl += incl
        lines.append(
            {
                "product": use.item.product,
                "variable": use.item.variable,
                "description": use.item.description,
                "quantity": float(quantity),
                "unit": use.item.unit,
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
