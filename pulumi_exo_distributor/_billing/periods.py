"""Months (``YYYY-MM``): the months of a range, the instant a month ends, and whether it is closed.

A month that has ended is closed: its statement no longer changes, so it may be cached
(:mod:`.cache`), and it is read fresh while it is still open (:mod:`.reading`).
"""

from __future__ import annotations

import datetime as dt

from .._data import check_period

#: The most months one run covers (ten years): a typo such as 2206 for 2026 fails at once.
MAX_MONTHS = 120


def _year_month(period: str) -> tuple[int, int]:
    check_period(period)
    return int(period[:4]), int(period[5:])


def months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (``YYYY-MM``); ``ValueError`` if
    ``last`` comes before ``first`` or the range is longer than ten years."""
    (year, month), end = _year_month(first), _year_month(last)
    if end < (year, month):
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    found: list[str] = []
    while (year, month) <= end:
        found.append(f"{year:04d}-{month:02d}")
        if len(found) > MAX_MONTHS:
            raise ValueError(f"{first} to {last} is more than {MAX_MONTHS} months")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def month_end(period: str) -> dt.datetime:
    """The first instant (UTC) after the month ``period``."""
    year, month = _year_month(period)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)


def is_closed(period: str, now: dt.datetime) -> bool:
    """Whether the month ``period`` had ended at ``now``: its statement no longer changes."""
    return now >= month_end(period)
