"""Usage across every customer and month, ready for invoicing: read, cached, added up, charted.

The command (``usage --all``), the function ``get_fleet_usage`` and the chart (``_chart``) stand on
this module; it imports neither click, rich nor Pulumi.

Reading (:func:`read_usage`): the statements of organizations x months, ``parallel`` at a time
through one client, whose throttle makes all its threads back off together on a 429. An
organization gone (404) is left out; any other failure is recorded, and after ``max_failures`` of
them the reads not started yet are dropped (a Partner API that is down would otherwise cost every
remaining read all its retries).

The cache (:class:`UsageCache`): a month that has ended is closed, and its statement no longer
changes. Each statement of a closed month is written to a local file as soon as it is read
(atomically: a temporary file renamed over the entry), so a run that fails or is killed keeps what
it read and the next run reads only the rest. A month not closed when the run started is always
read from the API and never cached. Entries live under ``$XDG_CACHE_HOME/exo-distributor/usage``
(``~/.cache/...`` without it), one directory per endpoint and API key (a fingerprint of both,
never the key), then ``<organization id>/<YYYY-MM>.json``; they are kept until cleared
(:meth:`UsageCache.clear`), since a closed month does not change.

Adding up (:func:`fleet_usage`): one row per organization x month x product line, totals per month
and currency and per currency, all in ``Decimal`` with a context that refuses to round, written as
plain decimal strings. The totals are the sums of the lines; a statement whose own total differs
from the sum of its lines is reported (``mismatches``), not hidden.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypedDict, cast

from ._data import (
    OrganizationInfo,
    UsageLineInfo,
    UsageStatementInfo,
    check_period,
    usage_statement_info,
)
from ._errors import ExoDistributorError, NotFoundError

if TYPE_CHECKING:
    from ._models import UsageStatement

__all__ = [
    "CACHE_FORMAT",
    "ChartPanel",
    "ChartSeries",
    "FleetCurrencyTotalInfo",
    "FleetUsageInfo",
    "FleetUsageLineInfo",
    "FleetUsageMismatchInfo",
    "FleetUsageTotalInfo",
    "Readout",
    "UsageCache",
    "UsageReader",
    "cache_root",
    "chart_panels",
    "fleet_usage",
    "is_closed",
    "month_end",
    "months",
    "read_usage",
]

#: Bumped when an entry's layout changes: entries of another format are read again.
CACHE_FORMAT = 1
#: The most months one run covers (ten years): a typo such as 2206 for 2026 fails at once.
MAX_MONTHS = 120

_PLAIN_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_MONTH_FILE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])\.json")


# -- months ------------------------------------------------------------------------------------


def _year_month(period: str) -> tuple[int, int]:
    check_period(period)
    return int(period[:4]), int(period[5:])


def months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (``YYYY-MM``); ``ValueError`` if
    ``last`` comes before ``first`` or the range is longer than ten years."""
    (year, month), end = _year_month(first), _year_month(last)
    if end < (year, month):
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    found: list[str] = []
    while (year, month) <= end:
        found.append(f"{year:04d}-{month:02d}")
        if len(found) > MAX_MONTHS:
            raise ValueError(f"{first} to {last} is more than {MAX_MONTHS} months")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def month_end(period: str) -> dt.datetime:
    """The first instant (UTC) after the month ``period``."""
    year, month = _year_month(period)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)


def is_closed(period: str, now: dt.datetime) -> bool:
    """Whether the month ``period`` had ended at ``now``: its statement no longer changes."""
    return now >= month_end(period)


# -- the cache ---------------------------------------------------------------------------------


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/exo-distributor/usage``, else ``~/.cache/exo-distributor/usage``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or ""
    # The XDG rule: a relative path is invalid and ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "exo-distributor" / "usage"


class UsageCache:
    """Statements of closed months, one file per organization and month, under ``directory``
    (one endpoint and key: see :meth:`for_key`). Thread-safe: each entry is its own file,
    replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        #: The first failure to write an entry (the run goes on; the next one reads it again).
        self.write_error: OSError | None = None
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def for_key(cls, key_fingerprint: str, root: Path | None = None) -> UsageCache:
        """The cache of one endpoint and key, named by ``Credentials.key_fingerprint``."""
        name = key_fingerprint.split(":", 1)[-1]
        if not re.fullmatch(r"[0-9a-f]{8,64}", name):
            raise ValueError(f"not a key fingerprint: {key_fingerprint!r}")
        return cls((root or cache_root()) / name)

    def _path(self, organization_id: str, period: str) -> Path:
        check_period(period)
        try:
            canonical = str(uuid.UUID(organization_id))
        except ValueError:
            canonical = None
        if canonical != organization_id:  # never a path of another shape
            raise ValueError(f"not an organization id: {organization_id!r}")
        return self.directory / organization_id / f"{period}.json"

    def get(self, organization_id: str, period: str) -> list[UsageStatementInfo] | None:
        """The cached statements, or None if there are none (or the entry cannot be used)."""
        try:
            entry = json.loads(self._path(organization_id, period).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not (
            isinstance(entry, dict)
            and entry.get("format") == CACHE_FORMAT
            and entry.get("organization_id") == organization_id
            and entry.get("period") == period
            and isinstance(entry.get("statements"), list)
            and all(_is_statement(item) for item in entry["statements"])
        ):
            return None
        statements: list[UsageStatementInfo] = entry["statements"]
        return statements

    def put(
        self, organization_id: str, period: str, statements: list[UsageStatementInfo], read_at: dt.datetime
    ) -> None:
        """Write the entry atomically; a failure is kept in :attr:`write_error`, not raised."""
        path = self._path(organization_id, period)
        entry = {
            "format": CACHE_FORMAT,
            "organization_id": organization_id,
            "period": period,
            "read_at": read_at.isoformat(),
            "statements": statements,
        }
        temporary: str | None = None
        try:
            # Billing figures: this key's directory is the user's alone (and mkstemp's files).
            if not self._ready:
                self.directory.parent.mkdir(parents=True, exist_ok=True)
                self.directory.mkdir(mode=0o700, exist_ok=True)
                self._ready = True
            path.parent.mkdir(mode=0o700, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(entry, file, ensure_ascii=False)
            # A rename within a directory is atomic: a reader sees the old entry or the new one,
            # and a kill leaves at worst a stray .tmp file (which clear() removes).
            os.replace(temporary, path)
        except OSError as exc:
            with self._lock:
                self.write_error = self.write_error or exc
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    def entries(self) -> int:
        """How many entries there are (any organization, any month)."""
        if not self.directory.is_dir():
            return 0
        return sum(1 for path in self.directory.glob("*/*.json") if _MONTH_FILE.fullmatch(path.name))

    def clear(self) -> int:
        """Remove every entry of this endpoint and key; return how many there were."""
        count = self.entries()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self._ready = False
        return count


def _is_statement(item: object) -> bool:
    return isinstance(item, dict) and isinstance(item.get("usage"), list) and "currency" in item


# -- reading -----------------------------------------------------------------------------------


class UsageReader(Protocol):
    """What reading needs of a client (``PartnerClient`` is one)."""

    def list_organization_usage(
        self, organization_id: str, period: str | None = None
    ) -> list[UsageStatement]: ...  # pragma: no cover


@dataclass
class Readout:
    """What a run read: statements per (organization id, month), and what it could not read."""

    statements: dict[tuple[str, str], list[UsageStatementInfo]] = field(default_factory=dict)
    #: Organizations that answered 404 (purged during the run): left out.
    gone: set[str] = field(default_factory=set)
    #: (organization id, month, error), in the order they happened.
    failures: list[tuple[str, str, ExoDistributorError]] = field(default_factory=list)
    #: Reads never started, because the run stopped after too many failures.
    skipped: int = 0
    #: Statements taken from the cache, and read from the API.
    from_cache: int = 0
    from_api: int = 0
    #: Months that had not ended when the run started: read fresh, never cached.
    open_periods: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failures and not self.skipped


def read_usage(
    client: UsageReader,
    organization_ids: Sequence[str],
    periods: Sequence[str],
    *,
    parallel: int = 4,
    cache: UsageCache | None = None,
    now: dt.datetime | None = None,
    on_progress: Callable[[], None] | None = None,
    max_failures: int = 10,
) -> Readout:
    """Read the statements of every organization for every month (see the module's docstring).

    ``now`` is when the run starts (default: the current time): a month ended before it is
    closed and cached. ``on_progress`` is called once per organization and month done, read
    from the cache or the API, failed or left out.
    """
    started = now or dt.datetime.now(dt.timezone.utc)
    closed = {period: is_closed(period, started) for period in periods}
    readout = Readout(open_periods=[period for period in periods if not closed[period]])
    advance = on_progress or (lambda: None)

    wanted: list[tuple[str, str]] = []
    for organization_id in organization_ids:
        for period in periods:
            cached = cache.get(organization_id, period) if cache is not None and closed[period] else None
            if cached is None:
                wanted.append((organization_id, period))
            else:
                readout.statements[organization_id, period] = cached
                readout.from_cache += 1
                advance()

    # Kept by the workers themselves, so that the next read a worker starts already knows.
    lock = threading.Lock()
    failed = 0

    def read(organization_id: str, period: str) -> tuple[str, object]:
        nonlocal failed
        with lock:
            if organization_id in readout.gone:
                return "gone", None  # its other months answered 404: this one would too
            if failed >= max_failures:
                return "skipped", None
        read_at = dt.datetime.now(dt.timezone.utc)
        try:
            statements = [
                usage_statement_info(statement)
                for statement in client.list_organization_usage(organization_id, period)
            ]
        except NotFoundError:
            with lock:
                readout.gone.add(organization_id)
            return "gone", None
        except ExoDistributorError as exc:
            with lock:
                failed += 1
            return "failed", exc
        if cache is not None and closed[period] and _ended(statements, read_at):
            cache.put(organization_id, period, statements, read_at)
        return "read", statements

    with _pool(parallel) as pool:
        futures: dict[Future[tuple[str, object]], tuple[str, str]] = {
            pool.submit(read, organization_id, period): (organization_id, period)
            for organization_id, period in wanted
        }
        for future in as_completed(futures):
            if future.cancelled():
                continue
            organization_id, period = futures[future]
            outcome, value = future.result()  # anything but an API error stops the run
            if outcome == "read":
                readout.statements[organization_id, period] = cast("list[UsageStatementInfo]", value)
                readout.from_api += 1
            elif outcome == "failed":
                readout.failures.append((organization_id, period, cast("ExoDistributorError", value)))
                if len(readout.failures) >= max_failures:
                    readout.skipped += sum(1 for pending in futures if pending.cancel())
            elif outcome == "skipped":
                readout.skipped += 1
            advance()
    for organization_id in readout.gone:
        for period in periods:
            readout.statements.pop((organization_id, period), None)
    return readout


def _ended(statements: Sequence[UsageStatementInfo], read_at: dt.datetime) -> bool:
    """Whether every statement says it ended before it was read (a server that disagrees with
    our calendar is believed: such a statement is not cached)."""
    for statement in statements:
        end = statement["end_date"]
        if end is not None:
            try:
                ends = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
            except ValueError:
                return False
            if ends.tzinfo is None or ends > read_at:
                return False
    return True


@contextmanager
def _pool(parallel: int) -> Iterator[ThreadPoolExecutor]:
    """A pool whose pending reads are dropped when the run stops (Ctrl-C, an error): only the
    reads in flight finish, and what they read is still cached."""
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="usage")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# -- adding up ---------------------------------------------------------------------------------


class FleetUsageLineInfo(TypedDict):
    """One product line of one organization's statement for one month. Amounts and quantity are
    plain decimal strings (``"-12.50"``, never an exponent), exact as the API sent them."""

    organization_id: str
    client_id: str | None
    #: The billing address's name: the organization's display name.
    name: str | None
    period: str
    product: str | None
    variable: str | None
    description: str | None
    quantity: str | None
    unit: str | None
    total_excl_vat: str | None
    total_incl_vat: str | None
    currency: str | None


class FleetUsageTotalInfo(TypedDict):
    """The lines of one month in one currency, added up."""

    period: str
    currency: str
    total_excl_vat: str
    total_incl_vat: str
    lines: int
    organizations: int


class FleetCurrencyTotalInfo(TypedDict):
    """The lines of every month in one currency, added up."""

    total_excl_vat: str
    total_incl_vat: str
    lines: int


class FleetUsageMismatchInfo(TypedDict):
    """A statement whose own totals are not the sum of its lines (the export adds the lines)."""

    organization_id: str
    period: str
    code: str | None
    currency: str | None
    statement_excl_vat: str | None
    lines_excl_vat: str
    statement_incl_vat: str | None
    lines_incl_vat: str


class FleetUsageInfo(TypedDict):
    """Usage across organizations and months, ready for invoicing (see :func:`fleet_usage`)."""

    #: Every month asked for, in order.
    periods: list[str]
    #: Those that had not ended when they were read: their figures may still grow.
    open_periods: list[str]
    #: How many organizations, and how many statements, the lines come from.
    organizations: int
    statements: int
    lines: list[FleetUsageLineInfo]
    #: Per month and currency, in month then currency order.
    totals: list[FleetUsageTotalInfo]
    #: Per currency, over every month.
    totals_by_currency: dict[str, FleetCurrencyTotalInfo]
    mismatches: list[FleetUsageMismatchInfo]


#: Exact sums or an error: a total that would need rounding raises decimal.Inexact.
_EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])


def _plain(value: str | Decimal | None) -> str | None:
    """An amount in plain notation (``1E+1`` is written ``10``), exactly."""
    if value is None:
        return None
    if isinstance(value, str) and _PLAIN_AMOUNT.fullmatch(value):
        return value  # as the API wrote it: most amounts, and no Decimal to make
    with decimal.localcontext(_EXACT):
        amount = Decimal(value)
        if not amount.is_finite():
            raise decimal.InvalidOperation(f"not a finite amount: {value!r}")
    return f"{amount:f}"


def _amount(value: str | None) -> Decimal:
    return Decimal(value) if value else Decimal(0)


def _name(org: OrganizationInfo) -> str | None:
    return org["billing_address"]["name"] if org["billing_address"] else None


def _line_row(
    org: OrganizationInfo, period: str, currency: str | None, line: UsageLineInfo
) -> FleetUsageLineInfo:
    return {
        "organization_id": org["id"],
        "client_id": org["client_id"],
        "name": _name(org),
        "period": period,
        "product": line["product"],
        "variable": line["variable"],
        "description": line["description"],
        "quantity": _plain(line["quantity"]),
        "unit": line["unit"],
        "total_excl_vat": _plain(line["total_excl_vat"]),
        "total_incl_vat": _plain(line["total_incl_vat"]),
        "currency": currency,
    }


def _differs(stated: str | None, summed: Decimal) -> bool:
    return stated is not None and Decimal(stated) != summed


@dataclass
class _Sum:
    excl: Decimal = Decimal(0)
    incl: Decimal = Decimal(0)
    lines: int = 0
    organizations: set[str] = field(default_factory=set)

    def add(self, other: _Sum) -> None:
        self.excl += other.excl
        self.incl += other.incl
        self.lines += other.lines
        self.organizations |= other.organizations


def fleet_usage(
    organizations: Sequence[OrganizationInfo],
    periods: Sequence[str],
    statements: Mapping[tuple[str, str], list[UsageStatementInfo]],
    *,
    open_periods: Sequence[str] = (),
) -> FleetUsageInfo:
    """The lines of every statement, organization by organization (in the given order) then month
    by month, and their totals. Organizations without a statement give no line."""
    lines: list[FleetUsageLineInfo] = []
    mismatches: list[FleetUsageMismatchInfo] = []
    by_month: dict[tuple[str, str], _Sum] = defaultdict(_Sum)
    statement_count = 0
    with decimal.localcontext(_EXACT):
        for org in organizations:
            for period in periods:
                for statement in statements.get((org["id"], period), []):
                    statement_count += 1
                    this = _Sum(organizations={org["id"]})
                    for line in statement["usage"]:
                        this.excl += _amount(line["total_excl_vat"])
                        this.incl += _amount(line["total_incl_vat"])
                        this.lines += 1
                        lines.append(_line_row(org, period, statement["currency"], line))
                    by_month[period, statement["currency"] or "?"].add(this)
                    stated_excl, stated_incl = statement["total_excl_vat"], statement["total_incl_vat"]
                    if _differs(stated_excl, this.excl) or _differs(stated_incl, this.incl):
                        mismatches.append(
                            {
                                "organization_id": org["id"],
                                "period": period,
                                "code": statement["code"],
                                "currency": statement["currency"],
                                "statement_excl_vat": _plain(stated_excl),
                                "lines_excl_vat": f"{this.excl:f}",
                                "statement_incl_vat": _plain(stated_incl),
                                "lines_incl_vat": f"{this.incl:f}",
                            }
                        )
        totals: list[FleetUsageTotalInfo] = []
        by_currency: dict[str, _Sum] = defaultdict(_Sum)
        for (period, currency), total in sorted(by_month.items()):
            totals.append(
                {
                    "period": period,
                    "currency": currency,
                    "total_excl_vat": f"{total.excl:f}",
                    "total_incl_vat": f"{total.incl:f}",
                    "lines": total.lines,
                    "organizations": len(total.organizations),
                }
            )
            by_currency[currency].add(total)
    return {
        "periods": list(periods),
        "open_periods": [period for period in periods if period in set(open_periods)],
        "organizations": len({org_id for total in by_month.values() for org_id in total.organizations}),
        "statements": statement_count,
        "lines": lines,
        "totals": totals,
        "totals_by_currency": {
            currency: {
                "total_excl_vat": f"{total.excl:f}",
                "total_incl_vat": f"{total.incl:f}",
                "lines": total.lines,
            }
            for currency, total in sorted(by_currency.items())
        },
        "mismatches": mismatches,
    }


# -- what a chart draws ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartSeries:
    """One customer's (or product's) amounts, month by month; ``others`` for the rest grouped."""

    label: str
    amounts: tuple[Decimal, ...]
    others: int = 0


@dataclass(frozen=True)
class ChartPanel:
    """One currency's months and series, largest first; amounts excl. VAT (what is invoiced net)."""

    currency: str
    periods: tuple[str, ...]
    series: tuple[ChartSeries, ...]

    @property
    def totals(self) -> tuple[Decimal, ...]:
        columns = zip(*(series.amounts for series in self.series), strict=True)
        return tuple(sum(column, Decimal(0)) for column in columns)


def chart_panels(
    info: FleetUsageInfo, *, by: Literal["customer", "product"] = "customer", top: int = 10
) -> list[ChartPanel]:
    """Per currency (amounts in different currencies are never added), the ``top`` customers or
    products by their total over the months, and the rest as one series."""
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    periods = tuple(info["periods"])
    index = {period: n for n, period in enumerate(periods)}
    labels = _customer_labels(info["lines"]) if by == "customer" else {}
    sums: dict[str, dict[str, list[Decimal]]] = defaultdict(dict)
    for line in info["lines"]:
        currency = line["currency"] or "?"
        key = labels[line["organization_id"]] if by == "customer" else (line["product"] or "(no product)")
        row = sums[currency].setdefault(key, [Decimal(0)] * len(periods))
        row[index[line["period"]]] += _amount(line["total_excl_vat"])
    panels: list[ChartPanel] = []
    for currency, rows in sorted(sums.items()):
        ranked = sorted(rows.items(), key=lambda item: (-sum(item[1]), item[0]))
        series = [ChartSeries(label, tuple(amounts)) for label, amounts in ranked[:top]]
        rest = ranked[top:]
        if rest:
            amounts = tuple(sum(column, Decimal(0)) for column in zip(*(row for _, row in rest), strict=True))
            noun = by + ("s" if len(rest) > 1 else "")
            series.append(ChartSeries(f"{len(rest)} other {noun}", amounts, others=len(rest)))
        panels.append(ChartPanel(currency, periods, tuple(series)))
    return panels


def _customer_labels(lines: Sequence[FleetUsageLineInfo]) -> dict[str, str]:
    """A label per organization: its name (else client id, else id), made unique with the id."""
    first: dict[str, FleetUsageLineInfo] = {}
    for line in lines:
        first.setdefault(line["organization_id"], line)
    base = {
        organization_id: line["name"] or line["client_id"] or organization_id[:8]
        for organization_id, line in first.items()
    }
    counts: dict[str, int] = defaultdict(int)
    for label in base.values():
        counts[label] += 1
    return {
        organization_id: label if counts[label] == 1 else f"{label} ({organization_id[:8]})"
        for organization_id, label in base.items()
    }
