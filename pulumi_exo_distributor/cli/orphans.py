"""``exo-distributor orphans``: the organizations no stack manages, and the stack-state files it reads."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import click

from .._data import (
    DYNAMIC_RESOURCE_TYPE,
    OrganizationInfo,
    organization_info,
)
from .._errors import ExoDistributorError
from ._app import app
from ._base import _fail, _session, _stdout_console
from ._output import _cell, _name, _output_option, _print_json, _table

# -- orphans ---------------------------------------------------------------------------------------


def _managed_ids(files: Sequence[IO[str]]) -> set[str]:
    """The organization ids a stack's state holds, from `pulumi stack export` files."""
    managed: set[str] = set()
    for file in files:
        name = getattr(file, "name", "-")
        try:
            document = json.load(file)
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(
                f"{name} is not JSON ({exc}); give the output of `pulumi stack export`",
                param_hint="--stack-state",
            ) from None
        deployment = document.get("deployment", document) if isinstance(document, dict) else None
        resources = deployment.get("resources") if isinstance(deployment, dict) else None
        if deployment is None or (resources is not None and not isinstance(resources, list)):
            raise click.BadParameter(
                f"{name} is not a `pulumi stack export` document (no deployment.resources)",
                param_hint="--stack-state",
            )
        for resource in resources or []:
            is_organization = isinstance(resource, dict) and resource.get("type") == DYNAMIC_RESOURCE_TYPE
            if is_organization and resource.get("id"):
                managed.add(str(resource["id"]).lower())
    return managed


def _shared_client_ids(live: Iterable[OrganizationInfo]) -> dict[str, list[OrganizationInfo]]:
    """Client id -> the live organizations carrying it, for the ids more than one carries."""
    by_client_id: dict[str, list[OrganizationInfo]] = defaultdict(list)
    for org in live:
        if org["client_id"]:
            by_client_id[org["client_id"]].append(org)
    return {cid: orgs for cid, orgs in sorted(by_client_id.items()) if len(orgs) > 1}


@dataclass
class _Findings:
    live: list[OrganizationInfo]
    #: Terminated organizations await their purge: neither live nor orphans.
    terminated: list[OrganizationInfo]
    unmanaged: list[OrganizationInfo]
    duplicates: dict[str, list[OrganizationInfo]]
    gone: list[str]


def _find(organizations: list[OrganizationInfo], managed: set[str]) -> _Findings:
    live = [org for org in organizations if org["status"] != "terminated"]
    live_ids = {org["id"] for org in live}
    return _Findings(
        live=live,
        terminated=[org for org in organizations if org["status"] == "terminated"],
        unmanaged=[org for org in live if org["id"] not in managed],
        duplicates=_shared_client_ids(live),
        gone=sorted(managed - live_ids),
    )


def _stack_state_option(*, required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--stack-state",
        "stack_states",
        type=click.File("r", encoding="utf-8"),
        multiple=True,
        required=required,
        metavar="FILE|-",
        help="A `pulumi stack export` file, or - for stdin; repeat it for several stacks.",
    )


@app.command()
@_stack_state_option(required=True)
@_output_option("table", "json")
def orphans(stack_states: tuple[IO[str], ...], output: str) -> None:
    """What to adopt or clean up: organizations no stack manages, client ids used twice, and
    organizations a stack manages that are gone or terminated.

    Terminated organizations are not orphans (they await their purge): they are counted and
    listed apart. Example:

        pulumi stack export --stack prod | exo-distributor orphans --stack-state -
    """
    managed = _managed_ids(stack_states)
    try:
        organizations = [organization_info(org) for org in _session().client().list_organizations()]
    except ExoDistributorError as exc:
        _fail("list organizations", exc)
    found = _find(organizations, managed)
    if output == "json":
        _print_json(
            {
                "unmanaged": found.unmanaged,
                "duplicate_client_ids": {
                    cid: [org["id"] for org in orgs] for cid, orgs in found.duplicates.items()
                },
                "gone": found.gone,
                "terminated": [{**org, "managed": org["id"] in managed} for org in found.terminated],
            }
        )
        return
    console = _stdout_console()
    console.print(
        f"{len(found.live)} organization(s) live, {len(found.terminated)} terminated, "
        f"{len(managed)} in the stack state(s): "
        f"{len(found.unmanaged)} unmanaged, {len(found.duplicates)} client id(s) used twice, "
        f"{len(found.gone)} gone"
    )
    if found.unmanaged:
        console.print()
        table = _table(
            "ID", "STATUS", "CLIENT ID", "NAME", title="Not managed by any stack (adopt: `import-code`)"
        )
        for org in found.unmanaged:
            table.add_row(*map(_cell, (org["id"], org["status"], org["client_id"], _name(org))))
        console.print(table)
    if found.duplicates:
        console.print()
        table = _table("CLIENT ID", "ID", "STATUS", "NAME", "MANAGED", title="Client ids used twice")
        for cid, orgs in found.duplicates.items():
            for org in orgs:
                managed_here = "yes" if org["id"] in managed else "no"
                table.add_row(*map(_cell, (cid, org["id"], org["status"], _name(org), managed_here)))
        console.print(table)
    if found.gone:
        console.print()
        table = _table("ID", title="In a stack state but gone or terminated (run `pulumi refresh`)")
        for gone in found.gone:
            table.add_row(_cell(gone))
        console.print(table)
    if found.terminated:
        console.print()
        table = _table("ID", "CLIENT ID", "NAME", "MANAGED", title="Terminated, awaiting their purge")
        for org in found.terminated:
            managed_here = "yes" if org["id"] in managed else "no"
            table.add_row(*map(_cell, (org["id"], org["client_id"], _name(org), managed_here)))
        console.print(table)
