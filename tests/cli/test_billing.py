"""The month-end run: `usage --all` over months, line by line, against a simulator whose fleet
has existed for months (a ManualClock set back when it was created). The simulator's books count
every call: each test says how many statements a run read, and a killed run proves what it kept."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pulumi_exo_distributor import BillingAddress, OrganizationInput, PartnerClient, ServerError
from pulumi_exo_distributor import cli as cli_module
from pulumi_exo_distributor._billing import month_end, months
from pulumi_exo_distributor.simulator import (
    Credential,
    ManualClock,
    RunningSimulator,
    SimulatorConfig,
    run_simulator,
)

from .conftest import SCRIPT, Run

KEY, SECRET = "EXObillingtests00000000001", "billing-secret-that-must-never-leak-71c2"
LIST = "list-distributor-organizations"
USAGE = "list-distributor-organization-usage"
ORGANIZATIONS = 210
NOW = dt.datetime.now(dt.timezone.utc)
THIS_MONTH = NOW.strftime("%Y-%m")
#: The three months before this one: closed, so cached.
CLOSED = months(
    (NOW.replace(day=1) - dt.timedelta(days=80)).strftime("%Y-%m"),
    (NOW.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m"),
)[-3:]
#: Names a spreadsheet would take for formulas.
HOSTILE = ('=HYPERLINK("http://evil.example","x")', "@SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0")


@dataclass
class Fleet:
    simulator: RunningSimulator
    ids: list[str]
    api: PartnerClient

    def env(self, cache: Path) -> dict[str, str]:
        env = {
            **os.environ,
            "EXOSCALE_API_KEY": KEY,
            "EXOSCALE_API_SECRET": SECRET,
            "EXOSCALE_PARTNER_API_ENDPOINT": self.simulator.url,
            "XDG_CACHE_HOME": str(cache),
        }
        for name in ("COLUMNS", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
            env.pop(name, None)
        return env

    def run(self, cache: Path, *args: str) -> tuple[Run, dict[str, int]]:
        """The command's result, and the calls it made (the simulator's books before and after)."""
        before = self.simulator.stats()
        done = subprocess.run(
            [str(SCRIPT), *args],
            env=self.env(cache),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        after = self.simulator.stats()
        calls = {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}
        return Run(done.returncode, done.stdout, done.stderr), calls


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    # Every organization exists from the start of the first closed month: each has a statement for
    # each month of the range. A little latency, so that a run can be killed halfway.
    created = month_end(CLOSED[0]) - dt.timedelta(days=28)
    clock = ManualClock(created.timestamp())
    config = SimulatorConfig(credentials=(Credential(KEY, SECRET),), latency_ms=2)
    with run_simulator(config, clock=clock) as simulator, PartnerClient(KEY, SECRET, simulator.url) as api:

        def create(n: int) -> str:
            name = HOSTILE[n] if n < len(HOSTILE) else f"Customer {n:03d} AG"
            org = api.create_organization(
                OrganizationInput(
                    display_name=name,
                    owner_email=f"billing{n}@customer.example",
                    billing_address=BillingAddress(
                        name=name, country="CH", city="Bern", postal_code="3011", street_name="Marktgasse"
                    ),
                    client_id=f"cust-{n:03d}",
                )
            )
            return str(org.id)

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(create, range(ORGANIZATIONS)))
        clock.advance(time.time() - clock())  # back to the present: the months since have passed
        yield Fleet(simulator, ids, api)


def statements_one_by_one(fleet: Fleet, periods: list[str]) -> dict[tuple[str, str], list[Decimal]]:
    """(period, currency) -> [excl., incl.], from each organization's statement read on its own."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for org_id in fleet.ids:
        for period in periods:
            for statement in fleet.api.list_organization_usage(org_id, period):
                assert statement.currency and statement.total_excl_vat is not None
                assert statement.total_incl_vat is not None
                sums[period, statement.currency][0] += statement.total_excl_vat
                sums[period, statement.currency][1] += statement.total_incl_vat
    return sums


def test_the_export_adds_up_line_by_line_to_every_statement(fleet: Fleet, tmp_path: Path) -> None:
    total = ORGANIZATIONS * len(CLOSED)
    run, calls = fleet.run(
        tmp_path, "usage", "--all", "--from", CLOSED[0], "--to", CLOSED[-1], "--lines", "-o", "json"
    )
    assert run.returncode == 0, run.stderr
    assert calls == {LIST: 1, USAGE: total}
    report: dict[str, Any] = json.loads(run.stdout)
    assert report["periods"] == CLOSED and report["open_periods"] == []
    assert report["organizations"] == ORGANIZATIONS and report["statements"] == total
    assert report["mismatches"] == []

    # Sums of the lines, with Decimal, per month and currency and per currency.
    lines: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in report["lines"]:
        assert isinstance(line["total_excl_vat"], str)  # exact: never a JSON float
        lines[line["period"], line["currency"]][0] += Decimal(line["total_excl_vat"])
        lines[line["period"], line["currency"]][1] += Decimal(line["total_incl_vat"])
    totals = {
        (t["period"], t["currency"]): [Decimal(t["total_excl_vat"]), Decimal(t["total_incl_vat"])]
        for t in report["totals"]
    }
    one_by_one = statements_one_by_one(fleet, CLOSED)
    assert totals == lines == one_by_one
    assert {currency for _, currency in totals} == {"CHF", "EUR", "USD"}
    for currency, overall in report["totals_by_currency"].items():
        assert [Decimal(overall["total_excl_vat"]), Decimal(overall["total_incl_vat"])] == [
            sum((v[i] for (_, c), v in one_by_one.items() if c == currency), Decimal(0)) for i in (0, 1)
        ]
        assert overall["lines"] == sum(1 for line in report["lines"] if line["currency"] == currency)
    products = {line["product"] for line in report["lines"]}
    assert {"compute", "block-storage", "network"} <= products and len(products) >= 5

    # The same lines as CSV, from the cache: no statement read again.
    run, calls = fleet.run(
        tmp_path, "usage", "--all", "--from", CLOSED[0], "--to", CLOSED[-1], "--lines", "-o", "csv"
    )
    assert run.returncode == 0 and calls == {LIST: 1}
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert list(rows[0]) == [
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
    ]
    assert len(rows) == len(report["lines"])
    csv_sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in rows:
        csv_sums[row["period"], row["currency"]][0] += Decimal(row["total_excl_vat"])
        csv_sums[row["period"], row["currency"]][1] += Decimal(row["total_incl_vat"])
    assert csv_sums == one_by_one
    # A name that would be a formula is text in the CSV (and as it is in the JSON).
    for name in HOSTILE:
        assert {row["name"] for row in rows if row["client_id"] == f"cust-{HOSTILE.index(name):03d}"} == {
            "'" + name
        }
        assert name in {line["name"] for line in report["lines"]}

    # The table ends with the totals: the sums of the lines.
    run, calls = fleet.run(tmp_path, "usage", "--all", "--from", CLOSED[0], "--to", CLOSED[-1], "--lines")
    assert run.returncode == 0 and calls == {LIST: 1}
    for currency, overall in report["totals_by_currency"].items():
        line = next(text for text in run.stdout.splitlines() if text.startswith(f"total {currency}"))
        assert line.split()[-1] == f"{Decimal(overall['total_incl_vat']):.2f}"
    assert run.stdout.splitlines()[-1] == (
        f"{len(report['lines'])} line(s) from {total} statement(s) of {ORGANIZATIONS} organization(s)"
    )


def test_every_csv_the_command_writes_is_safe_in_a_spreadsheet(fleet: Fleet, tmp_path: Path) -> None:
    for args in (["orgs", "list"], ["usage", "--all", "--period", CLOSED[-1]]):
        run, _ = fleet.run(tmp_path, *args, "-o", "csv")
        assert run.returncode == 0, run.stderr
        names = {row["name"] for row in csv.DictReader(io.StringIO(run.stdout))}
        assert {"'" + name for name in HOSTILE} <= names
        assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_the_current_month_is_read_every_time_and_closed_ones_once(fleet: Fleet, tmp_path: Path) -> None:
    args = ("usage", "--all", "--from", CLOSED[-1], "-o", "json", "--lines")  # --to: this month
    run, calls = fleet.run(tmp_path, *args)
    assert run.returncode == 0, run.stderr
    assert calls == {LIST: 1, USAGE: 2 * ORGANIZATIONS}
    assert json.loads(run.stdout)["open_periods"] == [THIS_MONTH]
    run, calls = fleet.run(tmp_path, *args)
    assert calls == {LIST: 1, USAGE: ORGANIZATIONS}  # this month only

    # One closed month, one total per organization: the cache serves it too.
    run, calls = fleet.run(tmp_path, "usage", "--all", "--period", CLOSED[-1], "-o", "csv")
    assert run.returncode == 0 and calls == {LIST: 1}
    assert len(list(csv.DictReader(io.StringIO(run.stdout)))) == ORGANIZATIONS

    run, calls = fleet.run(tmp_path, *args, "--no-cache")
    assert calls == {LIST: 1, USAGE: 2 * ORGANIZATIONS}

    run, calls = fleet.run(tmp_path, "usage", "--clear-cache")
    assert run.returncode == 0 and calls == {} and run.stdout == ""
    assert run.stderr.strip() == f"{ORGANIZATIONS} cached statement(s) deleted"
    run, calls = fleet.run(tmp_path, *args)
    assert calls == {LIST: 1, USAGE: 2 * ORGANIZATIONS}


def cache_entries(cache: Path) -> int:
    return sum(1 for _ in (cache / "exo-distributor" / "usage").glob("*/*/*.json"))


def test_a_killed_run_reads_again_only_what_it_lacks(fleet: Fleet, tmp_path: Path) -> None:
    total = ORGANIZATIONS * len(CLOSED)
    args = ["usage", "--all", "--from", CLOSED[0], "--to", CLOSED[-1], "--lines", "-o", "csv"]
    kill_after = total // 2
    before = fleet.simulator.stats()[USAGE]
    process = subprocess.Popen(
        [str(SCRIPT), *args], env=fleet.env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while fleet.simulator.stats()[USAGE] - before < kill_after:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.001)  # polls the books: the kill follows the calls, not a guess of time
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert stdout == b""  # all or nothing: a killed run printed no line
    # A barrier, not a wait: a request the killed run had sent is counted once its latency has
    # passed, and this one's latency ends after theirs.
    fleet.api.list_organizations()
    read_before_kill = fleet.simulator.stats()[USAGE] - before
    kept = cache_entries(tmp_path)
    # Every statement answered was written at once; at most one per worker was in flight.
    assert read_before_kill - 4 <= kept <= read_before_kill < total
    assert kept >= kill_after - 4

    run, calls = fleet.run(tmp_path, *args)
    assert run.returncode == 0, run.stderr
    assert calls == {LIST: 1, USAGE: total - kept}  # only what the killed run had not kept
    assert cache_entries(tmp_path) == total

    fresh, calls = fleet.run(tmp_path, *args, "--no-cache")
    assert calls == {LIST: 1, USAGE: total}
    assert run.stdout == fresh.stdout  # the resumed export is the export


# -- in-process: failures the simulator does not make on demand ------------------------------------


class FlakyClient:
    """The simulator's fleet through a real client, except one statement that fails."""

    def __init__(self, api: PartnerClient, failing: tuple[str, str] | None) -> None:
        self.api = api
        self.key_fingerprint = api.key_fingerprint
        self.failing = failing
        self.reads = 0

    def list_organizations(self) -> Any:
        return self.api.list_organizations()

    def list_organization_usage(self, organization_id: Any, period: str | None = None) -> Any:
        self.reads += 1
        if (str(organization_id), period) == self.failing:
            raise ServerError(USAGE, 503, "maintenance")
        return self.api.list_organization_usage(organization_id, period)

    def close(self) -> None:
        pass


def invoke(client: Any, *args: str) -> Any:
    session = cli_module.Session()
    session._client = client
    return CliRunner().invoke(cli_module.app, list(args), obj=session, prog_name="exo-distributor")


def test_a_failure_prints_nothing_names_it_and_the_next_run_reads_only_the_rest(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    target = fleet.ids[7]
    name = f"Customer {7:03d} AG"
    args = ("usage", "--all", "--from", CLOSED[0], "--to", CLOSED[-1], "--lines", "-o", "csv")
    flaky = FlakyClient(fleet.api, (target, CLOSED[1]))
    result = invoke(flaky, *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        f"error: organization {target} ({name}) for {CLOSED[1]}: {USAGE} answered HTTP 503" in result.stderr
    )
    assert (
        f"the usage of 1 of {ORGANIZATIONS} organization(s) could not be read "
        f"(1 of {ORGANIZATIONS * 3} statements); nothing printed, since the totals would be wrong"
    ) in result.stderr
    assert "the same command reads only the rest" in result.stderr
    assert flaky.reads == ORGANIZATIONS * 3

    healed = FlakyClient(fleet.api, None)
    result = invoke(healed, *args)
    assert result.exit_code == 0, result.stderr
    assert healed.reads == 1
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) > ORGANIZATIONS * 3


def test_an_interrupted_run_keeps_what_it_read(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    args = ("usage", "--all", "--from", CLOSED[0], "--to", CLOSED[-1], "--lines", "--parallel", "1")

    class Interrupted(FlakyClient):
        """Ctrl-C during the 51st read (a KeyboardInterrupt, as the main thread gets it)."""

        def list_organization_usage(self, organization_id: Any, period: str | None = None) -> Any:
            if self.reads == 50:
                raise KeyboardInterrupt
            return super().list_organization_usage(organization_id, period)

    result = invoke(Interrupted(fleet.api, None), *args)
    assert result.exit_code == 130 and result.stdout == ""
    assert "the statements of closed months read so far are cached" in result.stderr
    assert result.stderr.endswith("interrupted\n")
    assert cache_entries(tmp_path) == 50

    resumed = FlakyClient(fleet.api, None)
    assert invoke(resumed, *args).exit_code == 0
    assert resumed.reads == ORGANIZATIONS * 3 - 50


def test_a_chart_from_the_same_data(fleet: Fleet, tmp_path: Path) -> None:
    chart = tmp_path / "usage.png"
    run, calls = fleet.run(
        tmp_path, "usage", "--all", "--from", CLOSED[0], "--to", CLOSED[-1], "--chart", str(chart),
        "--by", "product", "--top", "3", "-o", "json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert calls == {LIST: 1, USAGE: ORGANIZATIONS * 3}
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert run.stderr.strip() == f"chart written to {chart}"
    json.loads(run.stdout)  # the chosen output is still printed


def test_without_the_billing_extra_a_chart_fails_before_any_read(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_exo_distributor import _chart

    monkeypatch.setattr(_chart, "missing_modules", lambda: ["matplotlib"])
    client = FlakyClient(fleet.api, None)
    result = invoke(client, "usage", "--all", "--period", CLOSED[0], "--chart", str(tmp_path / "x.png"))
    assert result.exit_code == 1 and result.stdout == ""
    assert "--chart needs the 'billing' extra" in result.stderr
    assert "pip install 'pulumi-exo-distributor[billing]'" in result.stderr
    assert client.reads == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["usage", "00000000-0000-4000-8000-000000000001", "--lines"], "--lines goes with --all"),
        (
            ["usage", "--all", "--period", "2026-01", "--from", "2026-01"],
            "give either --period or --from/--to",
        ),
        (["usage", "--all", "--to", "2026-01"], "--to needs --from"),
        (
            ["usage", "--all", "--from", "2026-03", "--to", "2026-01"],
            "the range ends (2026-01) before it starts",
        ),
        (["usage", "--all", "--from", "2026-3"], "period must be a month written YYYY-MM"),
        (["usage", "--all", "--by", "product"], "--by goes with --chart"),
        (["usage", "--all", "--chart", "x.png", "--top", "0"], "--top"),
    ],
)
def test_wrong_command_lines_exit_2(fleet: Fleet, tmp_path: Path, args: list[str], message: str) -> None:
    run, calls = fleet.run(tmp_path, *args)
    assert run.returncode == 2, run.text
    assert message in run.stderr
    assert calls == {}
