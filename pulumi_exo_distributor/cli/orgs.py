"""``exo-distributor orgs list`` and ``orgs get``."""

from __future__ import annotations

import click

from .._data import (
    organization_info,
)
from .._errors import ExoDistributorError
from .._models import OrganizationStatus
from ._app import app
from ._base import ORGANIZATION_ID, _fail, _session, _stdout_console
from ._output import _ADDRESS_FIELDS, _address, _cell, _name, _output_option, _print_csv, _print_json, _table


@app.group()
def orgs() -> None:
    """List and inspect organizations."""


#: The API's statuses, as the wire model knows them.
_STATUSES = tuple(status.value for status in OrganizationStatus)


@orgs.command("list")
@click.option(
    "--status",
    "statuses",
    type=click.Choice(_STATUSES),
    multiple=True,
    help="Only organizations with this status (repeatable).",
)
@_output_option("table", "json", "csv")
def orgs_list(statuses: tuple[str, ...], output: str) -> None:
    """List the distributor's organizations (terminated ones stay listed until purged)."""
    try:
        found = [organization_info(org) for org in _session().client().list_organizations()]
    except ExoDistributorError as exc:
        _fail("list organizations", exc)
    found = [org for org in found if not statuses or org["status"] in statuses]
    found.sort(key=lambda org: ((_name(org) or "").casefold(), org["id"]))
    if output == "json":
        _print_json(found)
    elif output == "csv":
        _print_csv(
            ["id", "status", "client_id", *_ADDRESS_FIELDS],
            (
                [org["id"], org["status"], org["client_id"], *(_address(org, key) for key in _ADDRESS_FIELDS)]
                for org in found
            ),
        )
    else:
        table = _table("ID", "STATUS", "CLIENT ID", "NAME", "COUNTRY", "CITY")
        for org in found:
            address = org["billing_address"]
            table.add_row(
                *map(
                    _cell,
                    (
                        org["id"],
                        org["status"],
                        org["client_id"],
                        _name(org),
                        address["country"] if address else None,
                        address["city"] if address else None,
                    ),
                )
            )
        console = _stdout_console()
        console.print(table)
        console.print(f"{len(found)} organization(s)")


@orgs.command("get")
@click.argument("organization_id", metavar="ID", type=ORGANIZATION_ID)
@_output_option("table", "json")
def orgs_get(organization_id: str, output: str) -> None:
    """Show one organization: status, client id and billing address."""
    try:
        org = organization_info(_session().client().get_organization(organization_id))
    except ExoDistributorError as exc:
        _fail(f"get organization {organization_id}", exc)
    if output == "json":
        _print_json(org)
        return
    table = _table("FIELD", "VALUE")
    table.add_row(_cell("id"), _cell(org["id"]))
    table.add_row(_cell("status"), _cell(org["status"]))
    table.add_row(_cell("client_id"), _cell(org["client_id"]))
    for key in _ADDRESS_FIELDS:
        value = _address(org, key)
        if value is not None:
            table.add_row(_cell(f"billing_address.{key}"), _cell(value))
    _stdout_console().print(table)
