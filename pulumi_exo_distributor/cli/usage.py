"""``exo-distributor usage``: one organization's statements, or every organization's, for a month
or a range of months: statement by statement, or line by line for invoicing (``--lines``), with a
chart (``--chart``). Reading, caching and adding up live in ``_billing``, the picture in ``_chart``.

The single organization's view lives in ``_usage_one``, the fleet's (``--all``) in ``_usage_fleet``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from .._billing import UsageCache, months
from .._data import check_period
from ._app import app
from ._base import ORGANIZATION_ID, _session
from ._output import _output_option
from ._usage_fleet import _ChartRequest, _check_chart_extra, _usage_of_all
from ._usage_one import _usage_of_one

# -- usage ---------------------------------------------------------------------------------------


def _period_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    def check(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
        if value is None:
            # Resolved here, not by the API, so that every call of a run asks for the same month.
            return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
        try:
            return check_period(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(
        "--period",
        metavar="YYYY-MM",
        callback=check,
        help="The month (default: the current month, UTC).",
    )(fn)


def _month_option(name: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def check(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        try:
            return None if value is None else check_period(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(name, f"period_{name[2:]}", metavar="YYYY-MM", callback=check, help=help)


@app.command()
@click.argument("organization_id", metavar="[ID]", type=ORGANIZATION_ID, required=False)
@click.option("--all", "all_", is_flag=True, help="Every organization: one line each, totals per currency.")
@_period_option
@_month_option("--from", "With --all: the first month of a range (instead of --period).")
@_month_option("--to", "With --all: the last month of the range (default: the current month).")
@click.option(
    "--lines",
    is_flag=True,
    help="With --all: one row per organization, month and product line (the invoicing export), "
    "totals per month and currency.",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="With --all: how many statements are read at once.",
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE.png",
    help="With --all: also draw the usage as a PNG (needs the 'billing' extra).",
)
@click.option(
    "--by",
    type=click.Choice(("customer", "product")),
    default="customer",
    show_default=True,
    help="With --chart: a series per customer or per product.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 40),
    default=10,
    show_default=True,
    help="With --chart: how many customers or products have their own series; the rest is one.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="With --all: read every statement from the API, and cache none.",
)
@click.option(
    "--clear-cache",
    is_flag=True,
    help="Delete the cached statements of these credentials (alone: and do nothing else).",
)
@_output_option("table", "json", "csv")
def usage(
    organization_id: str | None,
    all_: bool,
    period: str,
    period_from: str | None,
    period_to: str | None,
    lines: bool,
    parallel: int,
    chart: str | None,
    by: str,
    top: int,
    no_cache: bool,
    clear_cache: bool,
    output: str,
) -> None:
    """The usage statement of one organization for a month, or with --all of every organization
    (the monthly billing run), for a month or a range of months (--from, --to).

    With --lines, one row per organization, month and product line, with the organization's
    client id and name, ready for invoicing; the totals per month and currency are the sums of
    those lines (json and table). Amounts are exact decimals as the API wrote them.

    --all is all or nothing: if the usage of an organization cannot be read (after the client's
    retries), nothing is printed on stdout and the command fails, since the totals would be
    wrong. An organization purged during the run is left out, with a note on stderr.

    Statements of closed months (a month that has ended) do not change: --all caches each one
    on disk as soon as it is read, so that a run that failed or was interrupted reads only what
    it still lacks when it is run again. The current month is always read from the API. The
    cache is in $XDG_CACHE_HOME/exo-distributor/usage (default ~/.cache/...), one directory per
    endpoint and API key; it is kept until --clear-cache.

    Examples:

    \b
        exo-distributor usage --all --period 2026-11 --lines -o csv > 2026-11.csv
        exo-distributor usage --all --from 2026-01 --to 2026-12 --chart 2026.png --by product
    """
    ctx = click.get_current_context()
    period_given = ctx.get_parameter_source("period") is not ParameterSource.DEFAULT
    ranged = period_from is not None or period_to is not None
    fleet_only = [
        flag
        for flag, given in (
            ("--from", period_from is not None),
            ("--to", period_to is not None),
            ("--lines", lines),
            ("--chart", chart is not None),
            ("--no-cache", no_cache),
        )
        if given
    ]
    if clear_cache:
        removed = _usage_cache().clear()
        click.echo(f"{removed} cached statement(s) deleted", err=True)
        if organization_id is None and not all_:
            return
    if all_ == (organization_id is not None):
        raise click.UsageError("give either an organization ID or --all")
    if organization_id is not None and fleet_only:
        raise click.UsageError(f"{fleet_only[0]} goes with --all")
    if period_given and ranged:
        raise click.UsageError("give either --period or --from/--to")
    if period_to is not None and period_from is None:
        raise click.UsageError("--to needs --from")
    chart_only = [
        flag for flag in ("by", "top") if ctx.get_parameter_source(flag) is not ParameterSource.DEFAULT
    ]
    if chart_only and chart is None:
        raise click.UsageError(f"--{chart_only[0]} goes with --chart")
    if organization_id is not None:
        _usage_of_one(organization_id, period, output)
        return
    periods = [period]
    if period_from is not None:
        try:
            periods = months(period_from, period_to or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m"))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    if chart is not None:
        _check_chart_extra()
    _usage_of_all(
        periods,
        parallel=parallel,
        output=output,
        lines=lines,
        ranged=ranged,
        cache=None if no_cache else _usage_cache(),
        chart=_ChartRequest(Path(chart), by, top) if chart is not None else None,
    )


def _usage_cache() -> UsageCache:
    """The cache of the session's endpoint and key."""
    return UsageCache.for_key(_session().client().key_fingerprint)
