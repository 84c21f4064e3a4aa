"""Reading the statements of organizations x months: concurrent, throttled, all or nothing, with
progress.

Reading (:func:`read_usage`): the statements of organizations x months, ``parallel`` at a time
through one client, whose throttle makes all its threads back off together on a 429. An
organization gone (404) is left out; any other failure is recorded, and after ``max_failures`` of
them the reads not started yet are dropped (a Partner API that is down would otherwise cost every
remaining read all its retries).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

from .._data import UsageStatementInfo, usage_statement_info
from .._errors import ExoDistributorError, NotFoundError
from .cache import UsageCache
from .periods import is_closed

if TYPE_CHECKING:
    from .._models import UsageStatement


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
