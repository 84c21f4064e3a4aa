"""Usage across every customer and month, ready for invoicing: read, cached, added up, charted.

The command (``usage --all``), the function ``get_fleet_usage`` and the chart (``_chart``) stand on
this package; it imports neither click, rich nor Pulumi.

- :mod:`.periods`: the months of a range, and whether a month is closed;
- :mod:`.cache`: the statements of closed months on disk (:class:`UsageCache`);
- :mod:`.reading`: reading the statements, concurrently and all or nothing (:func:`read_usage`);
- :mod:`.export`: one row per product line, and the exact totals (:func:`fleet_usage`);
- :mod:`.panels`: what a chart draws (:func:`chart_panels`).
"""

from __future__ import annotations

from .cache import CACHE_FORMAT, UsageCache, cache_root
from .export import (
    FleetCurrencyTotalInfo,
    FleetUsageInfo,
    FleetUsageLineInfo,
    FleetUsageMismatchInfo,
    FleetUsageTotalInfo,
    fleet_usage,
)
from .panels import ChartPanel, ChartSeries, chart_panels
from .periods import is_closed, month_end, months
from .reading import Readout, UsageReader, read_usage

__all__ = [
    "CACHE_FORMAT",
    "ChartPanel",
    "ChartSeries",
    "FleetCurrencyTotalInfo",
    "FleetUsageInfo",
    "FleetUsageLineInfo",
    "FleetUsageMismatchInfo",
    "FleetUsageTotalInfo",
    "Readout",
    "UsageCache",
    "UsageReader",
    "cache_root",
    "chart_panels",
    "fleet_usage",
    "is_closed",
    "month_end",
    "months",
    "read_usage",
]
