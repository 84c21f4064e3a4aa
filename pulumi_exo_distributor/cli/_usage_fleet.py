"""``exo-distributor usage --all``: every organization's usage for a month or a range of months,
read all or nothing through ``_billing``, written one row per statement, one row per product line
(``--lines``) or as a chart (``--chart``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal, NoReturn

import click

from .._billing import (
    FleetUsageInfo,
    Readout,
    UsageCache,
    chart_panels,
    fleet_usage,
    read_usage,
)
from .._data import OrganizationInfo, UsageStatementInfo, organization_info
from .._errors import ExoDistributorError
from .._explain import detail, hint
from ._base import CommandError, _fail, _session, _stdout_console
from ._output import _cell, _money, _name, _print_csv, _print_json, _progress, _table


def _amount(value: str | None) -> Decimal:
    return Decimal(value) if value else Decimal(0)


@dataclass
class _UsageRow:
    org: OrganizationInfo
    period: str
    statement: UsageStatementInfo | None


@dataclass(frozen=True)
class _ChartRequest:
    path: Path
    by: str
    top: int


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
