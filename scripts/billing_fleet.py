"""A simulator whose customers have been there for months: what the billing demo and the usage
benchmark run `exo-distributor usage --all` against.

The simulator serves in this process with a :class:`ManualClock` set back to the first month of
the history; customers are created as the clock moves forward month by month (so a customer
created in March has statements from March on), then the clock comes back to the present.
Usage statements depend only on the organization and the month: the figures are the
simulator's plausible ones (``simulator/_usage.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pulumi_exo_distributor import BillingAddress, OrganizationInput, PartnerClient
from pulumi_exo_distributor._billing import month_end, months
from pulumi_exo_distributor.simulator import (
    Credential,
    ManualClock,
    RunningSimulator,
    SimulatorConfig,
    run_simulator,
)

KEY = "EXObillingdemo000000000001"
SECRET = "billing-demo-" + os.urandom(8).hex()

#: (name, country, city, postal code, street): names a distributor's customers could have.
CUSTOMERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Alpenglow Analytics AG", "CH", "Zürich", "8001", "Bahnhofstrasse"),
    ("Brightwater Logistics GmbH", "DE", "Hamburg", "20095", "Mönckebergstraße"),
    ("Cascade Health SA", "CH", "Lausanne", "1003", "Rue de Bourg"),
    ("Delta Fintech SAS", "FR", "Paris", "75002", "Rue du Sentier"),
    ("Edelweiss Retail AG", "CH", "Bern", "3011", "Marktgasse"),
    ("Fjord Media AS", "NO", "Oslo", "0150", "Karl Johans gate"),
    ("Granite Robotics Inc.", "US", "Boston", "02110", "Congress Street"),
    ("Helvetia Games Sàrl", "CH", "Genève", "1204", "Rue du Rhône"),
    ("Isar Mobility GmbH", "DE", "München", "80331", "Marienplatz"),
    ("Juniper Legal LLP", "GB", "London", "EC1A 1BB", "Aldersgate Street"),
    ("Kestrel Security Oy", "FI", "Helsinki", "00100", "Mannerheimintie"),
    ("Lumen Education BV", "NL", "Utrecht", "3511", "Oudegracht"),
    ("Moraine Energy AG", "AT", "Wien", "1010", "Graben"),
    ("Nordlicht Studios GmbH", "DE", "Berlin", "10117", "Friedrichstraße"),
    ("Orbit Telematics SRL", "IT", "Milano", "20121", "Via Manzoni"),
    ("Pine Ridge Software Inc.", "US", "Denver", "80202", "Larimer Street"),
    ("Quartz Insurance SA", "LU", "Luxembourg", "1118", "Rue Aldringen"),
    ("Riverbank Foods NV", "BE", "Gent", "9000", "Korenmarkt"),
    ("Summit Clinics AG", "CH", "Basel", "4051", "Freie Strasse"),
    ("Tidewater Labs ApS", "DK", "København", "1150", "Købmagergade"),
)


@dataclass
class History:
    simulator: RunningSimulator
    #: The organization ids, in the order they were created.
    ids: list[str]
    #: Every month of the history, the first one first.
    periods: list[str]
    #: A client of the simulator with the same credentials.
    api: PartnerClient

    def env(self, cache_home: str) -> dict[str, str]:
        """The command's environment: these credentials, this simulator, this cache."""
        env = {
            **os.environ,
            "EXOSCALE_API_KEY": KEY,
            "EXOSCALE_API_SECRET": SECRET,
            "EXOSCALE_PARTNER_API_ENDPOINT": self.simulator.url,
            "XDG_CACHE_HOME": cache_home,
        }
        for name in ("COLUMNS", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
            env.pop(name, None)
        return env


def closed_months(count: int, now: dt.datetime | None = None) -> list[str]:
    """The ``count`` months before the current one (UTC), the oldest first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    last = (now.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    first = now.replace(day=1)
    for _ in range(count):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return months(first.strftime("%Y-%m"), last)


def _input(n: int) -> OrganizationInput:
    name, country, city, postal_code, street = CUSTOMERS[n % len(CUSTOMERS)]
    if n >= len(CUSTOMERS):
        name = f"{name} ({n // len(CUSTOMERS) + 1})"
    return OrganizationInput(
        display_name=name,
        owner_email=f"billing{n}@customer.example",
        billing_address=BillingAddress(
            name=name, country=country, city=city, postal_code=postal_code, street_name=street
        ),
        client_id=f"cust-{n:04d}",
    )


@contextlib.contextmanager
def history(
    customers: int,
    periods: Sequence[str],
    *,
    joining: Sequence[int] = (),
    latency_ms: float = 0.0,
    parallel: int = 16,
) -> Iterator[History]:
    """A simulator with ``customers`` organizations: all but ``sum(joining)`` of them there since the
    first month of ``periods``, then ``joining[i]`` more created in month ``i + 1``."""
    start = month_end(periods[0]) - dt.timedelta(days=27)  # a day or so into the first month
    clock = ManualClock(start.timestamp())
    config = SimulatorConfig(credentials=(Credential(KEY, SECRET),), latency_ms=latency_ms)
    founders = customers - sum(joining)
    if founders < 1 or len(joining) >= len(periods):
        raise ValueError("at least one customer from the start, and every joiner within the months")
    with (
        run_simulator(config, clock=clock) as simulator,
        PartnerClient(KEY, SECRET, simulator.url) as api,
        ThreadPoolExecutor(parallel) as pool,
    ):

        def create(n: int) -> str:
            return str(api.create_organization(_input(n)).id)

        ids = list(pool.map(create, range(founders)))
        for month, count in enumerate(joining, start=1):
            clock.advance(month_end(periods[month]).timestamp() - 27 * 86400 - clock())
            ids += list(pool.map(create, range(len(ids), len(ids) + count)))
        clock.advance(max(0.0, time.time() - clock()))  # the months since have passed
        simulator.reset_stats()
        yield History(simulator, ids, list(periods), api)
