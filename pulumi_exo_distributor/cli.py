"""``exo-distributor``: the Partner API's read-only operations from a shell.

``orgs list``, ``orgs get``, ``usage`` (one organization, or ``--all``: the monthly billing run),
``orphans`` (what no stack manages) and ``import-code`` (a program, or a customer list, that
adopts what exists). Credentials and endpoint come from ``EXOSCALE_API_KEY``,
``EXOSCALE_API_SECRET`` and ``EXOSCALE_PARTNER_API_ENDPOINT``. ``review`` needs none of them: it
reads `pulumi preview --json` output and says what `pulumi up` would do to each customer (its
analysis lives in ``_review``; this module only draws it).

Tables go to stdout, drawn by rich; progress and errors go to stderr. Errors are one message
and a hint, exit code 1 (2 for a wrong command line), never a traceback or a credential;
``review`` has exit codes of its own for CI gates (see ``_review``).

This module needs the ``cli`` extra (click and rich); the console script reaches it through
``_scripts``, which says how to install the extra when it is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NoReturn, cast

import click
from click.core import ParameterSource
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from ._billing import (
    FleetUsageInfo,
    Readout,
    UsageCache,
    chart_panels,
    fleet_usage,
    months,
    read_usage,
)
from ._data import (
    DYNAMIC_RESOURCE_TYPE,
    OrganizationInfo,
    UsageStatementInfo,
    check_period,
    organization_info,
    usage_statement_info,
)
from ._errors import ExoDistributorError
from ._explain import detail, hint
from ._review import (
    CONSEQUENCES,
    MARKDOWN_MAX_ROWS,
    UNCHANGED,
    Level,
    PreviewFile,
    PreviewFileError,
    Review,
    markdown,
    read_preview,
)
from ._spreadsheet import write_csv

if TYPE_CHECKING:
    from ._client import PartnerClient

__all__ = ["DYNAMIC_RESOURCE_TYPE", "app", "main"]

# The client id a stack gives an organization that declares none: pulumi:<project>/<stack>/<name>.
_DERIVED_CLIENT_ID = re.compile(r"pulumi:[^/]+/[^/]+/(?P<name>[^/]+)")

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


# -- consoles ----------------------------------------------------------------------------------


def _stdout_console() -> Console:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Redirected to a file or a pipe: rich's default of 80 columns would wrap the ids.
        console.width = 200
    return console


def _stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


# -- errors ------------------------------------------------------------------------------------


class CommandError(click.ClickException):
    """A failure the user can act on: printed as ``error: ...`` (and a hint), exit code 1."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)
        if self.hint:
            click.echo(f"  hint: {self.hint}", err=True)


def _fail(action: str, error: ExoDistributorError) -> NoReturn:
    raise CommandError(f"cannot {action}: {detail(error)}", hint(error)) from None


class _Group(click.Group):
    """Turns what a command raises into a short message and an exit code: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ExoDistributorError as exc:
            raise CommandError(detail(exc), hint(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if ctx.find_root().params.get("debug"):
                raise
            raise CommandError(
                f"unexpected failure: {type(exc).__name__}: {exc}",
                "run the command again with --debug to see where it failed, and report it",
            ) from None


class _RetryNotes(logging.Handler):
    """The client's retries (logged by stamina) as one short note each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        data = record.__dict__
        click.echo(
            f"note: retry {data.get('stamina.retry_num', '?')} in {data.get('stamina.wait_for', '?')} s "
            f"after {data.get('stamina.caused_by', record.getMessage())}",
            err=True,
        )


def _log_retries() -> None:
    logger = logging.getLogger("stamina")
    if not any(isinstance(handler, _RetryNotes) for handler in logger.handlers):
        logger.addHandler(_RetryNotes())
        logger.propagate = False


# -- the session: one client for the command ------------------------------------------------


@dataclass
class Session:
    """What every command shares: the client, made on first use, closed at the end."""

    _client: PartnerClient | None = field(default=None, init=False)

    def client(self) -> PartnerClient:
        if self._client is None:
            from ._client import PartnerClient

            self._client = PartnerClient()  # the environment variables; ConfigurationError if unset
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _session() -> Session:
    return click.get_current_context().find_object(Session) or Session()


# -- output ------------------------------------------------------------------------------------


def _output_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--output",
        "-o",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format: a table for people, json or csv for programs.",
    )


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _print_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    # Every cell through safe_cell: a name such as "=HYPERLINK(...)" must not run in a spreadsheet.
    write_csv(sys.stdout, header, rows)


def _cell(value: object) -> Text:
    # Text, not str: a name such as "[bold]" from the API must print as it is, not as markup.
    return Text("" if value is None else str(value))


def _table(*columns: str, title: str | None = None, numeric: Iterable[str] = ()) -> Table:
    table = Table(
        title=title,
        min_width=len(title) if title else None,  # a title wider than the table stays on one line
        box=box.SIMPLE_HEAD,
        title_justify="left",
        title_style="bold",
        pad_edge=False,
        show_edge=False,
    )
    right = set(numeric)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return table


def _name(org: OrganizationInfo) -> str | None:
    return org["billing_address"]["name"] if org["billing_address"] else None


_ADDRESS_FIELDS = ("name", "country", "city", "postal_code", "street_name", "building_number", "address")


def _address(org: OrganizationInfo, key: str) -> str | None:
    address = org["billing_address"]
    return None if address is None else cast("str | None", address.get(key))


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr, shown only to a person (an interactive terminal)."""
    console = _stderr_console()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (console.is_terminal and console.is_interactive),
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


# -- the command -------------------------------------------------------------------------------


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--debug",
    is_flag=True,
    help="Log every request on stderr (operation, status, time; never headers or bodies) and show "
    "the traceback of an unexpected failure.",
)
@click.version_option(package_name="pulumi-exo-distributor", message="%(prog)s %(version)s")
@click.pass_context
def app(ctx: click.Context, debug: bool) -> None:
    """Read the organizations of an Exoscale distributor: list and inspect them, their monthly
    usage, the ones no Pulumi stack manages, and a program that takes them under management;
    and review what a `pulumi preview` would do to each customer.

    Credentials come from EXOSCALE_API_KEY and EXOSCALE_API_SECRET; the endpoint from
    EXOSCALE_PARTNER_API_ENDPOINT (default: Exoscale's).
    """
    _log_retries()
    if debug:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
        logging.getLogger("pulumi_exo_distributor").setLevel(logging.DEBUG)
    session = ctx.ensure_object(Session)
    ctx.call_on_close(session.close)


@app.group()
def orgs() -> None:
    """List and inspect organizations."""


_STATUSES = ("created", "active", "suspended", "terminated")


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


class _OrganizationId(click.ParamType[str]):
    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            self.fail(f"{value!r} is not an organization id (a UUID, as `orgs list` shows)", param, ctx)


ORGANIZATION_ID = _OrganizationId()


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
    from ._chart import EXTRA, missing_modules

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
    from ._chart import draw_chart

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


@dataclass
class _Findings:
    unmanaged: list[OrganizationInfo]
    duplicates: dict[str, list[OrganizationInfo]]
    gone: list[str]


def _find(organizations: list[OrganizationInfo], managed: set[str]) -> _Findings:
    live = [org for org in organizations if org["status"] != "terminated"]
    live_ids = {org["id"] for org in live}
    by_client_id: dict[str, list[OrganizationInfo]] = defaultdict(list)
    for org in live:
        if org["client_id"]:
            by_client_id[org["client_id"]].append(org)
    return _Findings(
        unmanaged=[org for org in live if org["id"] not in managed],
        duplicates={cid: orgs for cid, orgs in sorted(by_client_id.items()) if len(orgs) > 1},
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

    Terminated organizations are not orphans (they await their purge). Example:

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
            }
        )
        return
    console = _stdout_console()
    console.print(
        f"{len(organizations)} organization(s) live, {len(managed)} in the stack state(s): "
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
    """
    from ._fleet import ImportedCustomer, customers_yaml, python_program

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
    customers = [ImportedCustomer(name=names[org["id"]], organization=org) for org in selected]
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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60].strip("-")


def _resource_names(organizations: Sequence[OrganizationInfo]) -> Mapping[str, str]:
    """A Pulumi resource name per organization: unique, readable, stable across runs."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for org in organizations:
        derived = _DERIVED_CLIENT_ID.fullmatch(org["client_id"] or "")
        base = (
            (derived.group("name") if derived else None)
            or _slug(org["client_id"] or "")
            or _slug(_name(org) or "")
            or f"org-{org['id'][:8]}"
        )
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        names[org["id"]] = name
    return names


# -- review ----------------------------------------------------------------------------------------

_LEVEL_STYLES = {Level.DESTRUCTIVE: "bold red", Level.ATTENTION: "yellow", Level.NONE: ""}


def _read_preview(path: str) -> PreviewFile:
    source = "stdin" if path == "-" else path
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as file:
                text = file.read()
    except OSError as exc:
        raise CommandError(
            f"cannot read {source}: {exc.strerror or exc}",
            "give the file that `pulumi preview --json` wrote, or - for stdin",
        ) from None
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start}): not the output of "
            "`pulumi preview --json`"
        ) from None
    try:
        return read_preview(text, source)
    except PreviewFileError as exc:
        raise CommandError(
            str(exc), "write the preview with `pulumi preview --json > preview.json` (stdout only)"
        ) from None


def _print_review(result: Review, *, include_unchanged: bool, max_rows: int | None) -> None:
    console = _stdout_console()
    style = _LEVEL_STYLES[result.level] if not result.failed else "bold red"
    console.print(Text(_review_headline(result), style=style))
    counts = _table("CONSEQUENCE", "ORGANIZATIONS", numeric=("ORGANIZATIONS",))
    for consequence in CONSEQUENCES:
        if result.counts[consequence.key] or consequence is UNCHANGED:
            counts.add_row(_cell(consequence.title), _cell(result.counts[consequence.key]))
    console.print(counts)
    listed = result.changes + (result.unchanged if include_unchanged else [])
    rows_left = max_rows
    for consequence in CONSEQUENCES:
        rows = [change for change in listed if change.consequence == consequence]
        if not rows:
            continue
        level = max(row.level for row in rows)
        table = _table(
            "ORGANIZATION",
            "NAME",
            "CLIENT ID",
            "STACK",
            "RESOURCE",
            "WHAT HAPPENS",
            title=f"{consequence.title} ({len(rows)})",
        )
        if level is not Level.NONE:
            table.title_style = _LEVEL_STYLES[level]
        shown = rows if rows_left is None else rows[: max(rows_left, 0)]
        for row in shown:
            cells = (row.organization_id or "(new)", row.name, row.client_id, row.stack or row.source)
            table.add_row(*map(_cell, (*cells, row.resource, row.detail)))
        if len(shown) < len(rows):
            table.add_row(_cell("..."), _cell(f"{len(rows) - len(shown)} more (--max-rows)"))
        if rows_left is not None:
            rows_left -= len(shown)
        console.print()
        console.print(table)
    if include_unchanged and not result.unchanged and result.unchanged_count:
        console.print(
            f"{result.unchanged_count} unchanged: the preview does not list them "
            "(`pulumi preview --show-sames` does)"
        )
    for file in result.failed:
        console.print()
        console.print(Text(f"{file.source}: {file.failure}", style="bold red"))
        for error in file.errors:
            console.print(Text(error.message))
    warnings = result.warnings
    if warnings:
        console.print()
        for message in dict.fromkeys(warning.message for warning in warnings):
            console.print(Text(f"warning: {message}", style="yellow"))
    console.print()
    console.print(f"exit code {result.exit_code} ({result.verdict})")


def _review_headline(result: Review) -> str:
    if result.failed:
        return "The preview failed: what it lists is not everything `pulumi up` would do."
    if result.level is Level.DESTRUCTIVE:
        return "DESTRUCTIVE: organizations would be terminated, purged or replaced."
    if result.level is Level.ATTENTION:
        return "Needs attention: nothing is destroyed, but customers are affected."
    return "Nothing destructive or disruptive."


@app.command()
@click.argument(
    "previews",
    metavar="PREVIEW...",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(("table", "markdown", "json")),
    default="table",
    show_default=True,
    help="A table for people, markdown for a pull-request comment, json for programs.",
)
@click.option(
    "--all", "all_", is_flag=True, help="List the unchanged organizations too (those the preview lists)."
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=0),
    help=f"List at most this many organizations (default: {MARKDOWN_MAX_ROWS} for markdown, all otherwise).",
)
def review(previews: tuple[str, ...], output: str, all_: bool, max_rows: int | None) -> None:
    """What `pulumi up` would do to each customer, read from `pulumi preview --json` output.

    Give one file per stack (or - for stdin): several files make one review over several stacks.
    Each organization is named with what happens to it: created, taken over, suspended,
    re-activated, terminated, terminated and purged, left running unmanaged, replaced, a
    deletion policy changed, or a value recorded with no remote effect. The deletion policy is
    read from the preview itself: no credentials, no API call.

    Exit codes, for CI gates:

    \b
    - 0: nothing destructive or disruptive
    - 10: needs attention: a suspension (or a take-over declared suspended), an organization
      left running unmanaged (retain), a deletion policy made more destructive, an
      organization re-created after it vanished, a step this review does not know
    - 20: destructive: an organization terminated, purged or replaced
    - 30: the preview failed: its errors are reported, the review is incomplete
    - 1: a file cannot be read or is not a preview's JSON (2: a wrong command line)

    Example:

    \b
        pulumi preview --json --refresh --stack prod > prod.json
        exo-distributor review prod.json --output markdown
    """
    result = Review([_read_preview(path) for path in previews])
    if output == "json":
        _print_json(result.as_dict(include_unchanged=all_))
    elif output == "markdown":
        limit = MARKDOWN_MAX_ROWS if max_rows is None else max_rows
        click.echo(markdown(result, include_unchanged=all_, max_rows=limit), nl=False)
    else:
        _print_review(result, include_unchanged=all_, max_rows=max_rows)
    click.get_current_context().exit(result.exit_code)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command (``prog_name`` fixed, so that help and errors say ``exo-distributor``)."""
    app.main(args=argv, prog_name="exo-distributor")


if __name__ == "__main__":
    main()
