"""The fleet's usage as a picture: stacked bars month by month, one panel per currency (a PNG).

It draws what ``_billing.chart_panels`` computed from the same lines as the export, and needs the
``billing`` extra (matplotlib), imported only when a chart is drawn. Amounts become floats here,
and only here: a bar's height is a picture, not a figure anyone adds up.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._billing import ChartPanel

__all__ = ["EXTRA", "draw_chart", "missing_modules"]

#: The extra that brings what this module needs.
EXTRA = "billing"

# Distinct colours for the top series; the rest is grey.
_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#86bcb6",
    "#d37295",
    "#8cd17d",
    "#b6992d",
    "#499894",
    "#f1ce63",
    "#a0cbe8",
    "#ffbe7d",
    "#d4a6c8",
    "#fabfd2",
    "#79706e",
)
_OTHERS = "#c9c9c9"


def missing_modules() -> list[str]:
    """What the chart needs (the extra's modules) and this environment lacks."""
    from ._scripts import EXTRAS

    return [module for module in EXTRAS[EXTRA] if importlib.util.find_spec(module) is None]


def _colours(panels: Sequence[ChartPanel]) -> dict[str, str]:
    """A colour per label, the same in every panel (a product keeps its colour across currencies)."""
    colours: dict[str, str] = {}
    for panel in panels:
        for series in panel.series:
            if not series.others and series.label not in colours:
                colours[series.label] = _PALETTE[len(colours) % len(_PALETTE)]
    return colours


def _text(label: str) -> str:
    """A label drawn as written: ``$`` would start matplotlib's math mode, and a legend leaves
    out a label that starts with ``_``."""
    label = label.replace("$", r"\$")
    return "\u200b" + label if label.startswith("_") else label


def _money(value: float, _position: object = None) -> str:
    return f"{value:,.0f}"


def draw_chart(
    panels: Sequence[ChartPanel],
    path: Path,
    *,
    title: str,
    open_periods: Sequence[str] = (),
) -> None:
    """Write a PNG to ``path``: one panel per currency, a stacked bar per month (amounts excl.
    VAT), each bar's total above it. Months in ``open_periods`` are marked as not closed."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    if not panels:
        panels = [ChartPanel("no usage", (), ())]
    figure = Figure(figsize=(12, 1.2 + 3.4 * len(panels)), dpi=100, layout="constrained")
    figure.suptitle(title, fontsize=13, fontweight="bold")
    axes_list: list[Any] = list(figure.subplots(len(panels), 1, squeeze=False)[:, 0])
    colours = _colours(panels)
    for axes, panel in zip(axes_list, panels, strict=True):
        positions = list(range(len(panel.periods)))
        bottoms = [0.0] * len(panel.periods)
        for series in panel.series:
            heights = [float(amount) for amount in series.amounts]
            axes.bar(
                positions,
                heights,
                bottom=bottoms,
                width=0.72,
                label=_text(series.label),
                color=_OTHERS if series.others else colours[series.label],
                edgecolor="white",
                linewidth=0.5,
            )
            bottoms = [base + height for base, height in zip(bottoms, heights, strict=True)]
        for position, total in zip(positions, panel.totals, strict=True):
            if total:
                axes.annotate(
                    f"{total:,.0f}" if total >= 100 else f"{total:,.2f}",
                    (position, float(total)),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
        axes.set_xticks(positions)
        axes.set_xticklabels([period + ("*" if period in open_periods else "") for period in panel.periods])
        axes.set_ylabel(f"{panel.currency}, excl. VAT")
        axes.yaxis.set_major_formatter(FuncFormatter(_money))
        axes.margins(y=0.12)
        axes.grid(axis="y", linewidth=0.4, alpha=0.6)
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)
        total = sum(panel.totals, Decimal(0))
        axes.set_title(f"{panel.currency}: {total:,.2f} over {len(panel.periods)} month(s)", loc="left")
        if panel.series:
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    if any(period in open_periods for panel in panels for period in panel.periods):
        figure.supxlabel("* month not closed when read: usage to date", fontsize=8, color="#555555")
    # No software version in the file: the same figures drawn again give the same bytes.
    figure.savefig(path, format="png", metadata={"Software": None})
