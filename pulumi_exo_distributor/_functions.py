"""Read-only functions for Pulumi programs: one organization, all of them, an organization's usage,
the usage of the whole fleet over months.

They call the Partner API from the program itself, in `pulumi preview` as in `pulumi up`, with
the configuration the resource uses (stack config ``exo-distributor:key``, ``exo-distributor:secret``
and ``exo-distributor:endpoint``, see ``_config``, else ``EXOSCALE_API_KEY``, ``EXOSCALE_API_SECRET``
and ``EXOSCALE_PARTNER_API_ENDPOINT``) and the client's retries. Each returns a ``pulumi.Output`` of
plain typed data (``_data``), which a program can export as it is. An input that is not known yet
(the id of an organization a preview has still to create) gives an unknown output, as usual.

The HTTP client is imported and made on the first call, so importing the package stays cheap.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

import pulumi

from ._data import (
    OrganizationInfo,
    UsageStatementInfo,
    check_period,
    organization_info,
    usage_statement_info,
)
from ._errors import ExoDistributorError
from ._explain import detail, environment_help, hint

if TYPE_CHECKING:
    from ._billing import FleetUsageInfo
    from ._client import PartnerClient
    from ._config import Credentials

__all__ = [
    "DistributorFunctionError",
    "get_fleet_usage",
    "get_organization",
    "get_organization_usage",
    "list_organizations",
]

_T = TypeVar("_T")


class DistributorFunctionError(ExoDistributorError, pulumi.RunError):
    """What a program sees when ``get_organization``, ``list_organizations``,
    ``get_organization_usage`` or ``get_fleet_usage`` fails: what, on which organization, what the
    server said, what to do.

    It is a ``pulumi.RunError``, so `pulumi up` shows its message without a Python traceback.
    """


# One client (one connection pool) per credentials for the program's process.
_clients: dict[Credentials, PartnerClient] = {}
_clients_lock = threading.Lock()


def _close_clients() -> None:
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


atexit.register(_close_clients)


def _credentials_help() -> str:
    from ._config import CONFIG_ENDPOINT, CONFIG_KEY, CONFIG_SECRET, SHARED_CONFIG_KEY, SHARED_CONFIG_SECRET

    return (
        f"`pulumi config set {CONFIG_KEY} EXO...` and `pulumi config set --secret {CONFIG_SECRET} ...` "
        f"(else {SHARED_CONFIG_KEY} and {SHARED_CONFIG_SECRET}; {CONFIG_ENDPOINT} for another endpoint), "
        f"or {environment_help()}"
    )


_deprecations_told = False


def _stack_credentials() -> Credentials:
    """The resource's configuration: stack config first, each value else from the environment."""
    from ._config import StackSettings

    def config(full_key: str) -> str | None:
        namespace, key = full_key.split(":", 1)
        return pulumi.Config(namespace).get(key)

    settings = StackSettings.read(config)
    global _deprecations_told
    if not _deprecations_told:
        _deprecations_told = True
        for note in settings.deprecation_notes():
            pulumi.log.warn(note)
    return settings.credentials()


def _client(credentials: Credentials) -> PartnerClient:
    from ._client import PartnerClient

    with _clients_lock:
        client = _clients.get(credentials)
        if client is None:
            client = _clients[credentials] = PartnerClient(credentials=credentials)
        return client


async def _call(action: str, fn: Callable[[PartnerClient], _T]) -> _T:
    """Run one read in a worker thread (the engine's event loop keeps registering resources)."""

    def failure(message: str) -> DistributorFunctionError:
        return DistributorFunctionError(f"cannot {action}: {message}")

    try:
        credentials = _stack_credentials()
    except ExoDistributorError as exc:
        raise failure(f"{detail(exc)}\n  hint: {hint(exc, credentials_help=_credentials_help())}") from None

    def run() -> _T:
        try:
            return fn(_client(credentials))
        except DistributorFunctionError:
            raise  # worded for the program already
        except ExoDistributorError as exc:
            message = f"{detail(exc)}\n  hint: {hint(exc, credentials_help=_credentials_help())}"
            raise failure(message) from None
        except ValueError as exc:  # an id that is not a UUID
            raise failure(str(exc)) from None

    return await asyncio.to_thread(run)


def get_organization(id: pulumi.Input[str]) -> pulumi.Output[OrganizationInfo]:
    """The organization ``id`` as the Partner API returns it (get-distributor-organization).

    :param id: The organization's id (a UUID), for example ``DistributorOrganization.id``.
    :return: An output of a dict: ``id``, ``status``, ``client_id``, ``billing_address``.
    :raises DistributorFunctionError: in the program's run, if the organization cannot be read
        (it does not exist for these credentials, they are missing or refused, the API fails).
    """

    def read(organization_id: str) -> Awaitable[OrganizationInfo]:
        return _call(
            f"get organization {organization_id}",
            lambda client: organization_info(client.get_organization(organization_id)),
        )

    return pulumi.Output.from_input(id).apply(read)


def list_organizations() -> pulumi.Output[list[OrganizationInfo]]:
    """Every organization of the distributor, terminated ones included until they are purged
    (list-distributor-organizations).

    The list is read when the program starts: it does not include organizations the same
    `pulumi up` creates.
    """
    return pulumi.Output.from_input(
        _call(
            "list organizations",
            lambda client: [organization_info(org) for org in client.list_organizations()],
        )
    )


def get_organization_usage(
    organization_id: pulumi.Input[str], period: pulumi.Input[str] | None = None
) -> pulumi.Output[list[UsageStatementInfo]]:
    """The usage statements of an organization for a month (list-distributor-organization-usage).

    :param organization_id: The organization's id (a UUID).
    :param period: The month, ``YYYY-MM``; the current month when omitted.
    :return: An output of a list of statements (usually one; none for a month without usage):
        ``code``, ``currency``, ``total_excl_vat``, ``total_incl_vat`` (decimal strings),
        ``start_date``, ``end_date`` (ISO 8601) and ``usage`` (the product lines).
    :raises DistributorFunctionError: at once if ``period`` is a string that is not ``YYYY-MM``;
        in the program's run if the usage cannot be read.
    """

    def checked(month: str | None, subject: str) -> str | None:
        try:
            return None if month is None else check_period(month)
        except ValueError as exc:
            raise DistributorFunctionError(f"cannot {subject}: {exc}") from None

    if isinstance(period, str):
        checked(period, "read usage")

    def read(args: list[str | None]) -> Awaitable[list[UsageStatementInfo]]:
        organization, month = args
        subject = f"read the usage of organization {organization}" + (f" for {month}" if month else "")
        checked(month, subject)
        return _call(
            subject,
            lambda client: [
                usage_statement_info(statement)
                for statement in client.list_organization_usage(str(organization), month)
            ],
        )

    return pulumi.Output.all(organization_id, period).apply(read)


#: How many statements ``get_fleet_usage`` reads at once (the client's throttle slows them down
#: together if the API answers 429).
FLEET_USAGE_PARALLEL = 4


def get_fleet_usage(
    period_from: pulumi.Input[str],
    period_to: pulumi.Input[str] | None = None,
    organization_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
) -> pulumi.Output[FleetUsageInfo]:
    """The usage of every organization (or of ``organization_ids``) for every month from
    ``period_from`` to ``period_to``, line by line, with totals: what ``exo-distributor usage
    --all --lines -o json`` prints, from the same code.

    :param period_from: The first month, ``YYYY-MM``.
    :param period_to: The last month, ``YYYY-MM`` (default: ``period_from``).
    :param organization_ids: Only these organizations (default: every organization listed,
        terminated ones included until they are purged).
    :return: An output of a dict: ``periods``, ``open_periods`` (months not ended when read),
        ``organizations``, ``statements``, ``lines`` (one per organization, month and product
        line: ``organization_id``, ``client_id``, ``name``, ``period``, ``product``, ``variable``,
        ``description``, ``quantity``, ``unit``, ``total_excl_vat``, ``total_incl_vat``,
        ``currency``), ``totals`` (per month and currency: the sums of the lines),
        ``totals_by_currency`` and ``mismatches`` (statements whose totals differ from their
        lines). Amounts are exact decimal strings.
    :raises DistributorFunctionError: at once if a month given as a string is not ``YYYY-MM``
        or the range is reversed; in the program's run if any statement cannot be read (all or
        nothing: totals that miss an organization are never returned), or if an organization of
        ``organization_ids`` does not exist. An organization purged while it is read is left out.

    Nothing is cached: every statement is read on each run, ``FLEET_USAGE_PARALLEL`` (4) at a
    time.
    """
    from ._billing import months

    def span(first: str, last: str | None, subject: str) -> list[str]:
        try:
            return months(first, last or first)
        except ValueError as exc:
            raise DistributorFunctionError(f"cannot {subject}: {exc}") from None

    if isinstance(period_from, str) and (period_to is None or isinstance(period_to, str)):
        span(period_from, period_to, "read the fleet's usage")

    def read(args: list[object]) -> Awaitable[FleetUsageInfo]:
        first, last, wanted = args
        periods = span(str(first), None if last is None else str(last), "read the fleet's usage")
        subject = f"read the fleet's usage for {periods[0]}" + (
            f" to {periods[-1]}" if len(periods) > 1 else ""
        )
        ids = None if wanted is None else [str(org_id).lower() for org_id in cast("Sequence[str]", wanted)]
        return _call(subject, lambda client: _fleet_usage(client, periods, ids))

    return pulumi.Output.all(period_from, period_to, organization_ids).apply(read)


def _by_name(org: OrganizationInfo) -> tuple[str, str]:
    return ((org["billing_address"]["name"] if org["billing_address"] else "").casefold(), org["id"])


def _fleet_usage(client: PartnerClient, periods: list[str], wanted: list[str] | None) -> FleetUsageInfo:
    from ._billing import fleet_usage, read_usage

    organizations = [organization_info(org) for org in client.list_organizations()]
    if wanted is not None:
        known = {org["id"] for org in organizations}
        unknown = [org_id for org_id in wanted if org_id not in known]
        if unknown:
            raise DistributorFunctionError(
                f"cannot read the fleet's usage: no organization {', '.join(unknown)} for these credentials "
                "(list-distributor-organizations does not list it)"
            )
        organizations = [org for org in organizations if org["id"] in set(wanted)]
    organizations.sort(key=_by_name)
    readout = read_usage(client, [org["id"] for org in organizations], periods, parallel=FLEET_USAGE_PARALLEL)
    if readout.failures:
        first_org, first_period, first_error = readout.failures[0]
        untried = f", {readout.skipped} not tried" if readout.skipped else ""
        raise DistributorFunctionError(
            f"cannot read the fleet's usage: {len(readout.failures)} statement(s) could not be read"
            f"{untried}, so no totals; the first: organization {first_org} for {first_period}: "
            f"{detail(first_error)}\n  hint: {hint(first_error, credentials_help=_credentials_help())}"
        )
    kept = [org for org in organizations if org["id"] not in readout.gone]
    return fleet_usage(kept, periods, readout.statements, open_periods=readout.open_periods)
