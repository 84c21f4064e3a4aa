"""``exo-distributor usage ID``: one organization's statements for a month, as a table per
statement (with its totals), JSON or CSV (one row per product line)."""

from __future__ import annotations

from .._data import usage_statement_info
from .._errors import ExoDistributorError
from ._base import _fail, _session, _stdout_console
from ._output import _cell, _money, _print_csv, _print_json, _table


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
