"""``exo-distributor import-code``: a program, or a customers file, that adopts what exists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import IO

import click

from .._data import (
    OrganizationInfo,
    organization_info,
)
from .._errors import ExoDistributorError
from ._app import app
from ._base import _DERIVED_CLIENT_ID, CommandError, _fail, _session
from ._output import _name
from .orphans import _managed_ids, _shared_client_ids, _stack_state_option

# -- import-code ---------------------------------------------------------------------------------


@app.command("import-code")
@click.option(
    "--format",
    "format_",
    type=click.Choice(("python", "yaml")),
    default="python",
    show_default=True,
    help="A Pulumi program, or a customer list for a program reading customers.yaml.",
)
@_stack_state_option(required=False)
def import_code(format_: str, stack_states: tuple[IO[str], ...]) -> None:
    """Print code that declares every live organization with adopt_id and deletion_policy="retain",
    so that one `pulumi up` takes the existing fleet under management without changing it.

    With --stack-state, only the organizations that state does not manage already. Terminated
    organizations are left out. The API returns no owner e-mail, so a placeholder stands in
    (it is only used when an organization is created: for an adopted one it changes nothing).

    Each is named after its client id (or its name): lower-case ASCII letters, digits, '.', '_'
    and '-', at most 60 characters, as a customers file requires. A client id that several live
    organizations share is written as a comment only, and named on stderr: two resources of one
    program cannot declare it.
    """
    from ._writers import ImportedCustomer, customers_yaml, python_program

    managed = _managed_ids(stack_states)
    try:
        organizations = [organization_info(org) for org in _session().client().list_organizations()]
    except ExoDistributorError as exc:
        _fail("list organizations", exc)
    selected = [org for org in organizations if org["status"] != "terminated" and org["id"] not in managed]
    selected.sort(key=lambda org: ((_name(org) or "").casefold(), org["id"]))
    without_address = [org["id"] for org in selected if not org["billing_address"]]
    if without_address:
        raise CommandError(
            f"{len(without_address)} organization(s) came without a billing address "
            f"({', '.join(without_address)}): they cannot be declared",
            "declare them by hand with `adopt_id`",
        )
    names = _resource_names(selected)
    shared = _shared_client_ids(org for org in organizations if org["status"] != "terminated")
    for client_id, orgs in shared.items():
        ids = [org["id"] for org in orgs]
        declared = [org_id for org_id in ids if org_id in names]
        if declared:
            click.echo(
                f"warning: client id {client_id!r} is shared by {len(ids)} live organizations "
                f"({', '.join(ids)}); declared without it, in a comment: {', '.join(declared)} "
                "(two resources of one program cannot declare one client id)",
                err=True,
            )
    customers = [
        ImportedCustomer(
            name=names[org["id"]],
            organization=org,
            client_id_shared_with=tuple(
                other["id"] for other in shared.get(org["client_id"] or "", []) if other["id"] != org["id"]
            ),
        )
        for org in selected
    ]
    for customer in customers:
        if customer.organization["status"] == "created":
            click.echo(
                f"note: organization {customer.organization['id']} is 'created': it is declared "
                "status 'active', so the next `pulumi up` activates it (write 'suspended' to keep it "
                "unusable)",
                err=True,
            )
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    write = python_program if format_ == "python" else customers_yaml
    click.echo(write(customers, generated), nl=False)
    click.echo(f"{len(customers)} organization(s) declared", err=True)


def _resource_names(organizations: Sequence[OrganizationInfo]) -> Mapping[str, str]:
    """A Pulumi resource name per organization, which is also its key in a customers file: valid
    there (see ``customer_key``), unique, recognisable, stable across runs."""
    from ._writers import customer_key

    names: dict[str, str] = {}
    used: set[str] = set()
    for org in organizations:
        derived = _DERIVED_CLIENT_ID.fullmatch(org["client_id"] or "")
        base = (
            (customer_key(derived.group("name")) if derived else None)
            or customer_key(org["client_id"] or "")
            or customer_key(_name(org) or "")
            or f"org-{org['id'][:8]}"
        )
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        names[org["id"]] = name
    return names
