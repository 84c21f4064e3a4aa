"""What a chart draws: per currency, the largest customers or products month by month, and the
rest as one series. The picture itself is ``_chart``'s."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .export import FleetUsageInfo, FleetUsageLineInfo, _amount


@dataclass(frozen=True)
class ChartSeries:
    """One customer's (or product's) amounts, month by month; ``others`` for the rest grouped."""

    label: str
    amounts: tuple[Decimal, ...]
    others: int = 0


@dataclass(frozen=True)
class ChartPanel:
    """One currency's months and series, largest first; amounts excl. VAT (what is invoiced net)."""

    currency: str
    periods: tuple[str, ...]
    series: tuple[ChartSeries, ...]

    @property
    def totals(self) -> tuple[Decimal, ...]:
        columns = zip(*(series.amounts for series in self.series), strict=True)
        return tuple(sum(column, Decimal(0)) for column in columns)


def chart_panels(
    info: FleetUsageInfo, *, by: Literal["customer", "product"] = "customer", top: int = 10
) -> list[ChartPanel]:
    """Per currency (amounts in different currencies are never added), the ``top`` customers or
    products by their total over the months, and the rest as one series."""
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    periods = tuple(info["periods"])
    index = {period: n for n, period in enumerate(periods)}
    labels = _customer_labels(info["lines"]) if by == "customer" else {}
    sums: dict[str, dict[str, list[Decimal]]] = defaultdict(dict)
    for line in info["lines"]:
        currency = line["currency"] or "?"
        key = labels[line["organization_id"]] if by == "customer" else (line["product"] or "(no product)")
        row = sums[currency].setdefault(key, [Decimal(0)] * len(periods))
        row[index[line["period"]]] += _amount(line["total_excl_vat"])
    panels: list[ChartPanel] = []
    for currency, rows in sorted(sums.items()):
        ranked = sorted(rows.items(), key=lambda item: (-sum(item[1]), item[0]))
        series = [ChartSeries(label, tuple(amounts)) for label, amounts in ranked[:top]]
        rest = ranked[top:]
        if rest:
            amounts = tuple(sum(column, Decimal(0)) for column in zip(*(row for _, row in rest), strict=True))
            noun = by + ("s" if len(rest) > 1 else "")
            series.append(ChartSeries(f"{len(rest)} other {noun}", amounts, others=len(rest)))
        panels.append(ChartPanel(currency, periods, tuple(series)))
    return panels


def _customer_labels(lines: Sequence[FleetUsageLineInfo]) -> dict[str, str]:
    """A label per organization: its name (else client id, else id), made unique with the id."""
    first: dict[str, FleetUsageLineInfo] = {}
    for line in lines:
        first.setdefault(line["organization_id"], line)
    base = {
        organization_id: line["name"] or line["client_id"] or organization_id[:8]
        for organization_id, line in first.items()
    }
    counts: dict[str, int] = defaultdict(int)
    for label in base.values():
        counts[label] += 1
    return {
        organization_id: label if counts[label] == 1 else f"{label} ({organization_id[:8]})"
        for organization_id, label in base.items()
    }
