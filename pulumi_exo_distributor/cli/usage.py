"""``exo-distributor usage``: one organization's statements, or every organization's, for a month
or a range of months: statement by statement, or line by line for invoicing (``--lines``), with a
chart (``--chart``). Reading, caching and adding up live in ``_billing``, the picture in ``_chart``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NoReturn

import click
from click.core import ParameterSource

from .._billing import (
    FleetUsageInfo,
    Readout,
    UsageCache,
    chart_panels,
    fleet_usage,
    months,
    read_usage,
)
from .._data import (
    OrganizationInfo,
    UsageStatementInfo,
    check_period,
    organization_info,
    usage_statement_info,
)
from .._errors import ExoDistributorError
from .._explain import detail, hint
from ._app import app
from ._base import ORGANIZATION_ID, CommandError, _fail, _session, _stdout_console
from ._output import _cell, _name, _output_option, _print_csv, _print_json, _progress, _table

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


def _amount(value: str | None) -> Decimal:
    return Decimal(value) if value else Decimal(0)


def _money(value: str | Decimal | None) -> str | None:
    """For a table: at least two decimals (0.4 -> 0.40), never fewer digits than the API gave."""
    if value is None:
        return None
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        amount = amount.quantize(Decimal("0.01"))
    return f"{amount:f}"


@dataclass
class _UsageRow:
    org: OrganizationInfo
    period: str
    statement: UsageStatementInfo | None


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


def _usage_of_one(organization_id: str, period: str, output: str) -> None:
    try:
        statements = [
            usage_statement_info(s)
            for s in _session().client().list_organization_usage(organization_id, period)
        ]
    except ExoDistributorError as exc:
        _fail(f"read the usage of organization {organization_id} for {period}", exc)
    if output == "json":
        _print_json(statements)
        return
    lines = [(statement, line) for statement in statements for line in statement["usage"]]
    if output == "csv":
        _print_csv(
            [
                "code",
                "currency",
                "product",
                "variable",
                "description",
                "quantity",
                "unit",
                "total_excl_vat",
                "total_incl_vat",
            ],
            (
                [
                    s["code"],
                    s["currency"],
                    line["product"],
                    line["variable"],
                    line["description"],
                    line["quantity"],
                    line["unit"],
                    line["total_excl_vat"],
                    line["total_incl_vat"],
                ]
                for s, line in lines
            ),
        )
        return
    console = _stdout_console()
    if not statements:
        console.print(f"no usage statement for organization {organization_id} in {period}")
        return
    for statement in statements:
        table = _table(
            "PRODUCT",
            "VARIABLE",
            "DESCRIPTION",
            "QUANTITY",
            "UNIT",
            "EXCL. VAT",
            "INCL. VAT",
            title=f"{statement['code'] or 'statement'}, {period}, {statement['currency']}",
            numeric=("QUANTITY", "EXCL. VAT", "INCL. VAT"),
        )
        table.show_footer = True
        for line in statement["usage"]:
            table.add_row(
                *map(
                    _cell,
                    (
                        line["product"],
                        line["variable"],
                        line["description"],
                        line["quantity"],
                        line["unit"],
                        _money(line["total_excl_vat"]),
                        _money(line["total_incl_vat"]),
                    ),
                )
            )
        table.columns[0].footer = "total"
        table.columns[5].footer = _money(statement["total_excl_vat"]) or ""
        table.columns[6].footer = _money(statement["total_incl_vat"]) or ""
        console.print(table)


@dataclass(frozen=True)
class _ChartRequest:
    path: Path
    by: str
    top: int


def _usage_cache() -> UsageCache:
    """The cache of the session's endpoint and key."""
    return UsageCache.for_key(_session().client().key_fingerprint)


def _check_chart_extra() -> None:
    """Before any read: a chart that cannot be drawn must not cost a whole run."""
    from .._chart import EXTRA, missing_modules

    missing = missing_modules()
    if missing:
        raise CommandError(
            f"--chart needs the '{EXTRA}' extra of pulumi-exo-distributor (missing: {', '.join(missing)})",
            f"install it: pip install 'pulumi-exo-distributor[{EXTRA}]' (or the wheel or the checkout "
            f"with [{EXTRA}])",
        )


def _usage_of_all(
    periods: Sequence[str],
    *,
    parallel: int,
    output: str,
    lines: bool,
    ranged: bool,
    cache: UsageCache | None,
    chart: _ChartRequest | None,
) -> None:
    client = _session().client()
    try:
        organizations = [organization_info(org) for org in client.list_organizations()]
    except ExoDistributorError as exc:
        _fail("list organizations", exc)
    organizations.sort(key=lambda org: ((_name(org) or "").casefold(), org["id"]))
    span = periods[0] if len(periods) == 1 else f"{periods[0]}..{periods[-1]}"
    try:
        with _progress(f"usage {span}", len(organizations) * len(periods)) as advance:
            readout = read_usage(
                client,
                [org["id"] for org in organizations],
                periods,
                parallel=parallel,
                cache=cache,
                on_progress=advance,
            )
    except KeyboardInterrupt:
        if cache is not None:
            click.echo(
                f"note: the statements of closed months read so far are cached ({cache.directory}): "
                "the same command reads only the rest",
                err=True,
            )
        raise
    for org in organizations:
        if org["id"] in readout.gone:
            click.echo(f"note: organization {org['id']} is gone (purged during the run): left out", err=True)
    if cache is not None and cache.write_error is not None:
        click.echo(
            f"note: the cache cannot be written ({cache.write_error}): a new run reads everything again",
            err=True,
        )
    if not readout.complete:
        _usage_failed(organizations, periods, readout, ranged=ranged, cached=cache is not None)

    kept = [org for org in organizations if org["id"] not in readout.gone]
    info = fleet_usage(kept, periods, readout.statements, open_periods=readout.open_periods)
    for mismatch in info["mismatches"]:
        click.echo(
            f"note: organization {mismatch['organization_id']}, {mismatch['period']}: the statement says "
            f"{mismatch['statement_excl_vat']} / {mismatch['statement_incl_vat']} {mismatch['currency']} "
            f"(excl. / incl. VAT), its lines add up to {mismatch['lines_excl_vat']} / "
            f"{mismatch['lines_incl_vat']}",
            err=True,
        )
    if chart is not None:
        _draw_chart(info, chart)
    if lines:
        _print_usage_lines(info, output)
    else:
        _print_statements(kept, periods, readout, ranged=ranged, output=output)


def _usage_failed(
    organizations: Sequence[OrganizationInfo],
    periods: Sequence[str],
    readout: Readout,
    *,
    ranged: bool,
    cached: bool,
) -> NoReturn:
    by_id = {org["id"]: org for org in organizations}
    for org_id, month, error in readout.failures:
        where = f" for {month}" if ranged else ""
        click.echo(f"error: organization {org_id} ({_name(by_id[org_id])}){where}: {detail(error)}", err=True)
    failed = len({org_id for org_id, _, _ in readout.failures})
    message = f"the usage of {failed} of {len(organizations)} organization(s) could not be read"
    if ranged:
        message += f" ({len(readout.failures)} of {len(organizations) * len(periods)} statements)"
    if readout.skipped:
        message += (
            f", and {readout.skipped} statement(s) were not read: the run stopped after "
            f"{len(readout.failures)} failures"
        )
    remedy = hint(readout.failures[0][2])
    if cached and readout.from_api + readout.from_cache:
        remedy += "; what was read of closed months is cached: the same command reads only the rest"
    raise CommandError(message + "; nothing printed, since the totals would be wrong", remedy)


def _draw_chart(info: FleetUsageInfo, request: _ChartRequest) -> None:
    from .._chart import draw_chart

    by: Literal["customer", "product"] = "customer" if request.by == "customer" else "product"
    periods = info["periods"]
    span = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
    try:
        draw_chart(
            chart_panels(info, by=by, top=request.top),
            request.path,
            title=f"Usage by {by}, {span} (top {request.top})",
            open_periods=info["open_periods"],
        )
    except OSError as exc:
        raise CommandError(f"cannot write the chart {request.path}: {exc.strerror or exc}") from None
    click.echo(f"chart written to {request.path}", err=True)


_LINE_COLUMNS = (
    "organization_id",
    "client_id",
    "name",
    "period",
    "product",
    "variable",
    "description",
    "quantity",
    "unit",
    "total_excl_vat",
    "total_incl_vat",
    "currency",
)


def _print_usage_lines(info: FleetUsageInfo, output: str) -> None:
    if output == "json":
        _print_json(info)
        return
    if output == "csv":
        # Rows only: a spreadsheet or a billing system sums them (the json has the totals).
        _print_csv(_LINE_COLUMNS, ([line.get(column) for column in _LINE_COLUMNS] for line in info["lines"]))
        return
    console = _stdout_console()
    table = _table(
        "NAME",
        "CLIENT ID",
        "PERIOD",
        "PRODUCT",
        "VARIABLE",
        "QUANTITY",
        "UNIT",
        "CURRENCY",
        "EXCL. VAT",
        "INCL. VAT",
        title=f"usage lines {_span(info['periods'])}",
        numeric=("QUANTITY", "EXCL. VAT", "INCL. VAT"),
    )
    for line in info["lines"]:
        cells: tuple[object, ...] = (
            line["name"] or line["organization_id"],
            line["client_id"],
            line["period"],
            line["product"],
            line["variable"],
            line["quantity"],
            line["unit"],
            line["currency"],
            _money(line["total_excl_vat"]),
            _money(line["total_incl_vat"]),
        )
        table.add_row(*map(_cell, cells))
    console.print(table)
    console.print()
    totals = _table(
        "PERIOD",
        "CURRENCY",
        "ORGANIZATIONS",
        "LINES",
        "EXCL. VAT",
        "INCL. VAT",
        title="totals: the sums of the lines",
        numeric=("ORGANIZATIONS", "LINES", "EXCL. VAT", "INCL. VAT"),
    )
    for total in info["totals"]:
        cells = (
            total["period"] + (" (not closed)" if total["period"] in info["open_periods"] else ""),
            total["currency"],
            total["organizations"],
            total["lines"],
            _money(total["total_excl_vat"]),
            _money(total["total_incl_vat"]),
        )
        totals.add_row(*map(_cell, cells))
    if len(info["periods"]) > 1:
        totals.add_section()
        for currency, overall in info["totals_by_currency"].items():
            cells = (
                f"total {currency}",
                currency,
                None,
                overall["lines"],
                _money(overall["total_excl_vat"]),
                _money(overall["total_incl_vat"]),
            )
            totals.add_row(*map(_cell, cells))
    console.print(totals)
    console.print(
        f"{len(info['lines'])} line(s) from {info['statements']} statement(s) of "
        f"{info['organizations']} organization(s)"
    )


def _span(periods: Sequence[str]) -> str:
    return periods[0] if len(periods) == 1 else f"{periods[0]}..{periods[-1]}"


def _or_none(statements: list[UsageStatementInfo] | None) -> list[UsageStatementInfo | None]:
    """The statements, or one None for a month without (it still gets its row)."""
    return list(statements) if statements else [None]


def _print_statements(
    organizations: Sequence[OrganizationInfo],
    periods: Sequence[str],
    readout: Readout,
    *,
    ranged: bool,
    output: str,
) -> None:
    """One row per organization and month: the statement's own totals, and their sums."""
    rows = [
        _UsageRow(org, period, statement)
        for org in organizations
        for period in periods
        for statement in _or_none(readout.statements.get((org["id"], period)))
    ]
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in rows:
        if row.statement is not None:
            total = totals[row.statement["currency"] or "?"]
            total[0] += _amount(row.statement["total_excl_vat"])
            total[1] += _amount(row.statement["total_incl_vat"])

    if output == "json":
        _print_json(
            {
                **({"periods": list(periods)} if ranged else {"period": periods[0]}),
                "organizations": [
                    {
                        "id": row.org["id"],
                        "client_id": row.org["client_id"],
                        "name": _name(row.org),
                        "status": row.org["status"],
                        **({"period": row.period} if ranged else {}),
                        "statement": row.statement,
                    }
                    for row in rows
                ],
                "totals": {
                    currency: {"total_excl_vat": str(excl), "total_incl_vat": str(incl)}
                    for currency, (excl, incl) in sorted(totals.items())
                },
            }
        )
        return

    def cells(
        row: _UsageRow, amount: Callable[[str | None], str | None] = lambda value: value
    ) -> list[object]:
        s = row.statement
        return [
            row.org["id"],
            row.org["client_id"],
            _name(row.org),
            row.org["status"],
            *([row.period] if ranged else []),
            s["code"] if s else None,
            s["currency"] if s else None,
            amount(s["total_excl_vat"]) if s else None,
            amount(s["total_incl_vat"]) if s else None,
        ]

    if output == "csv":
        # Rows only: a spreadsheet or a billing system sums them.
        header = ["id", "client_id", "name", "status", *(["period"] if ranged else [])]
        header += ["code", "currency", "total_excl_vat", "total_incl_vat"]
        _print_csv(header, (cells(row) for row in rows))
        return
    columns = ["ID", "CLIENT ID", "NAME", "STATUS", *(["PERIOD"] if ranged else [])]
    columns += ["STATEMENT", "CURRENCY", "EXCL. VAT", "INCL. VAT"]
    table = _table(*columns, title=f"usage {_span(periods)}", numeric=("EXCL. VAT", "INCL. VAT"))
    for row in rows:
        table.add_row(*map(_cell, cells(row, _money)))
    table.add_section()
    for currency, (excl_total, incl_total) in sorted(totals.items()):
        blanks = [None] * (len(columns) - 4)
        total_row = (f"total {currency}", *blanks, currency, _money(excl_total), _money(incl_total))
        table.add_row(*map(_cell, total_row))
    console = _stdout_console()
    console.print(table)
    without = sum(1 for row in rows if row.statement is None)
    if ranged:
        gap = f", {without} organization-month(s) without usage" if without else ""
    else:
        gap = f", {without} without usage in {periods[0]}" if without else ""
    console.print(f"{len(organizations)} organization(s), {len(rows) - without} statement(s)" + gap)
