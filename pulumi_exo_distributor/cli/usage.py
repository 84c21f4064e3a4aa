"""``exo-distributor usage``: one organization's statements, or every organization's month."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import click

from .._data import (
    OrganizationInfo,
    UsageStatementInfo,
    check_period,
    organization_info,
    usage_statement_info,
)
from .._errors import ExoDistributorError, NotFoundError
from .._explain import detail, hint
from ._app import app
from ._base import ORGANIZATION_ID, CommandError, _fail, _session, _stdout_console
from ._output import _cell, _each, _name, _output_option, _print_csv, _print_json, _table

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
    statement: UsageStatementInfo | None


@app.command()
@click.argument("organization_id", metavar="[ID]", type=ORGANIZATION_ID, required=False)
@click.option("--all", "all_", is_flag=True, help="Every organization: one line each, totals per currency.")
@_period_option
@click.option(
    "--parallel",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    help="With --all: how many organizations are read at once.",
)
@_output_option("table", "json", "csv")
def usage(organization_id: str | None, all_: bool, period: str, parallel: int, output: str) -> None:
    """The usage statement of one organization for a month, or with --all of every organization
    (the monthly billing run).

    --all is all or nothing: if the usage of an organization cannot be read (after the client's
    retries), nothing is printed on stdout and the command fails, since the totals would be
    wrong. An organization purged during the run is left out, with a note on stderr.
    """
    if all_ == (organization_id is not None):
        raise click.UsageError("give either an organization ID or --all")
    if organization_id is not None:
        _usage_of_one(organization_id, period, output)
    else:
        _usage_of_all(period, parallel, output)


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


def _usage_of_all(period: str, parallel: int, output: str) -> None:
    client = _session().client()
    try:
        organizations = [organization_info(org) for org in client.list_organizations()]
    except ExoDistributorError as exc:
        _fail("list organizations", exc)
    organizations.sort(key=lambda org: ((_name(org) or "").casefold(), org["id"]))

    def read(org: OrganizationInfo) -> list[UsageStatementInfo]:
        return [usage_statement_info(s) for s in client.list_organization_usage(org["id"], period)]

    results = _each(f"usage {period}", organizations, read, parallel)
    failures = [(org, error) for org, _, error in results if error and not isinstance(error, NotFoundError)]
    for org, _, error in results:
        if isinstance(error, NotFoundError):
            click.echo(f"note: organization {org['id']} is gone (purged during the run): left out", err=True)
    if failures:
        for org, error in failures:
            click.echo(f"error: organization {org['id']} ({_name(org)}): {detail(error)}", err=True)
        raise CommandError(
            f"the usage of {len(failures)} of {len(organizations)} organization(s) could not be read; "
            "nothing printed, since the totals would be wrong",
            hint(failures[0][1]),
        )

    rows = [
        _UsageRow(org, statement)
        for org, statements, error in results
        if error is None
        for statement in (statements or [None])
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
                "period": period,
                "organizations": [
                    {
                        "id": row.org["id"],
                        "client_id": row.org["client_id"],
                        "name": _name(row.org),
                        "status": row.org["status"],
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
            s["code"] if s else None,
            s["currency"] if s else None,
            amount(s["total_excl_vat"]) if s else None,
            amount(s["total_incl_vat"]) if s else None,
        ]

    if output == "csv":
        # Rows only: a spreadsheet or a billing system sums them.
        header = ["id", "client_id", "name", "status", "code", "currency", "total_excl_vat", "total_incl_vat"]
        _print_csv(header, (cells(row) for row in rows))
        return
    table = _table(
        "ID",
        "CLIENT ID",
        "NAME",
        "STATUS",
        "STATEMENT",
        "CURRENCY",
        "EXCL. VAT",
        "INCL. VAT",
        title=f"usage {period}",
        numeric=("EXCL. VAT", "INCL. VAT"),
    )
    for row in rows:
        table.add_row(*map(_cell, cells(row, _money)))
    table.add_section()
    for currency, (excl_total, incl_total) in sorted(totals.items()):
        total_row = (
            f"total {currency}",
            None,
            None,
            None,
            None,
            currency,
            _money(excl_total),
            _money(incl_total),
        )
        table.add_row(*map(_cell, total_row))
    console = _stdout_console()
    console.print(table)
    without = sum(1 for row in rows if row.statement is None)
    console.print(
        f"{len(organizations)} organization(s), {len(rows) - without} statement(s)"
        + (f", {without} without usage in {period}" if without else "")
    )
