"""Reading, caching and adding up the fleet's usage, with a fake client that counts its calls."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pulumi_exo_distributor._billing import (
    FleetUsageInfo,
    UsageCache,
    cache_root,
    chart_panels,
    fleet_usage,
    is_closed,
    month_end,
    months,
    read_usage,
)
from pulumi_exo_distributor._data import OrganizationInfo, UsageStatementInfo, usage_statement_info
from pulumi_exo_distributor._errors import NotFoundError, ServerError
from pulumi_exo_distributor._models import UsageStatement

NOW = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.timezone.utc)
FINGERPRINT = "sha256:0123456789abcdef"


def org(name: str, client_id: str | None = None) -> OrganizationInfo:
    return {
        "id": str(uuid.uuid4()),
        "status": "active",
        "client_id": client_id,
        "billing_address": {
            "name": name,
            "country": "CH",
            "city": "Bern",
            "postal_code": "3011",
            "street_name": "Marktgasse",
            "building_number": None,
            "address": None,
        },
    }


def statement(period: str, currency: str, *lines: tuple[str, str, str]) -> UsageStatement:
    """A statement whose totals are the sums of ``lines`` of (product, excl., incl.)."""
    end = month_end(period)
    return UsageStatement.model_validate(
        {
            "code": f"S-{period}",
            "currency": currency,
            "total-excl-vat": sum((Decimal(excl) for _, excl, _ in lines), Decimal(0)),
            "total-incl-vat": sum((Decimal(incl) for _, _, incl in lines), Decimal(0)),
            "start-date": f"{period}-01T00:00:00Z",
            "end-date": end.isoformat(),
            "usage": [
                {
                    "product": product,
                    "variable": "v",
                    "description": product,
                    "quantity": Decimal("1.5"),
                    "unit": "hour",
                    "total-excl-vat": Decimal(excl),
                    "total-incl-vat": Decimal(incl),
                }
                for product, excl, incl in lines
            ],
        }
    )


class FakeClient:
    """Answers two lines per statement; counts calls; fails as told."""

    def __init__(self, currencies: dict[str, str] | None = None) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.fail: dict[tuple[str, str], Exception] = {}
        self.gone: set[str] = set()
        self.currencies = currencies or {}
        self._lock = threading.Lock()

    def list_organization_usage(
        self, organization_id: str, period: str | None = None
    ) -> list[UsageStatement]:
        assert period is not None
        with self._lock:
            self.calls[organization_id, period] += 1
        if organization_id in self.gone:
            raise NotFoundError("list-distributor-organization-usage", 404, "not found")
        if (organization_id, period) in self.fail:
            raise self.fail[organization_id, period]
        currency = self.currencies.get(organization_id, "CHF")
        return [statement(period, currency, ("compute", "10.05", "10.86"), ("sos", "0.10", "0.11"))]


def test_months_of_a_range() -> None:
    assert months("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months("2026-03", "2026-03") == ["2026-03"]
    with pytest.raises(ValueError, match="ends"):
        months("2026-03", "2026-02")
    with pytest.raises(ValueError, match="more than 120 months"):
        months("2016-01", "2026-02")
    with pytest.raises(ValueError, match="YYYY-MM"):
        months("2026-1", "2026-02")


def test_a_month_is_closed_once_it_has_ended() -> None:
    assert month_end("2026-12") == dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    assert is_closed("2026-11", NOW)
    assert not is_closed("2026-12", NOW)
    assert not is_closed("2026-11", dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=dt.timezone.utc))
    assert is_closed("2026-11", dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))


def test_the_cache_lives_where_xdg_says(tmp_path: Path) -> None:
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "exo-distributor" / "usage"
    assert cache_root({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache" / "exo-distributor" / "usage"
    assert cache_root({}) == Path.home() / ".cache" / "exo-distributor" / "usage"
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)
    assert cache.directory == tmp_path / "0123456789abcdef"  # the fingerprint, never the key
    with pytest.raises(ValueError, match="fingerprint"):
        UsageCache.for_key("../../etc", tmp_path)


def test_an_entry_is_written_whole_and_read_back(tmp_path: Path) -> None:
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)
    org_id = str(uuid.uuid4())
    statements = [usage_statement_info(statement("2026-10", "EUR", ("compute", "1.10", "1.31")))]
    assert cache.get(org_id, "2026-10") is None
    cache.put(org_id, "2026-10", statements, NOW)
    assert cache.get(org_id, "2026-10") == statements
    assert cache.entries() == 1
    entry = cache.directory / org_id / "2026-10.json"
    assert json.loads(entry.read_text())["read_at"] == NOW.isoformat()
    assert [path.name for path in entry.parent.iterdir()] == ["2026-10.json"]  # no temporary left
    if os.name == "posix":  # billing figures: the key's directory, and each file, are the user's alone
        for path in (entry, entry.parent, cache.directory):
            assert path.stat().st_mode & 0o077 == 0, path
    with pytest.raises(ValueError, match="organization id"):
        cache.put("../../etc", "2026-10", statements, NOW)
    assert cache.get("../../etc", "2026-10") is None


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        '{"format": 99, "statements": []}',
        '{"format": 1, "organization_id": "other", "period": "2026-10", "statements": []}',
        '{"format": 1, "organization_id": "ORG", "period": "2026-10", "statements": [{"usage": 1}]}',
    ],
)
def test_an_entry_that_cannot_be_used_is_read_again(tmp_path: Path, content: str) -> None:
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)
    org_id = str(uuid.uuid4())
    (cache.directory / org_id).mkdir(parents=True)
    (cache.directory / org_id / "2026-10.json").write_text(content.replace("ORG", org_id))
    assert cache.get(org_id, "2026-10") is None


def test_clear_removes_every_entry_and_stray_temporaries(tmp_path: Path) -> None:
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)
    other = UsageCache.for_key("sha256:fedcba9876543210", tmp_path)
    for cached in (cache, other):
        cached.put(str(uuid.uuid4()), "2026-10", [], NOW)
        cached.put(str(uuid.uuid4()), "2026-09", [], NOW)
    (next(cache.directory.iterdir()) / ".abc.tmp").write_text("half")
    assert cache.clear() == 2
    assert not cache.directory.exists()
    assert cache.clear() == 0
    assert other.entries() == 2  # another key's cache is left alone


def test_a_cache_that_cannot_be_written_is_noted_not_fatal(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = UsageCache(blocker / "cache")
    client = FakeClient()
    readout = read_usage(client, [str(uuid.uuid4())], ["2026-10"], cache=cache, now=NOW)
    assert readout.complete and readout.from_api == 1
    assert isinstance(cache.write_error, OSError)


def test_closed_months_are_read_once_open_ones_every_time(tmp_path: Path) -> None:
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)
    client = FakeClient()
    ids = [str(uuid.uuid4()) for _ in range(5)]
    periods = ["2026-10", "2026-11", "2026-12"]
    progress: list[int] = []
    first = read_usage(client, ids, periods, cache=cache, now=NOW, on_progress=lambda: progress.append(1))
    assert first.complete and first.from_api == 15 and first.from_cache == 0
    assert first.open_periods == ["2026-12"]
    assert len(progress) == 15
    assert cache.entries() == 10  # the open month is not cached

    second = read_usage(client, ids, periods, cache=cache, now=NOW)
    assert second.from_cache == 10 and second.from_api == 5
    assert {key for key, n in client.calls.items() if n == 2} == {(i, "2026-12") for i in ids}
    assert second.statements == first.statements

    read_usage(client, ids, periods, cache=None, now=NOW)  # --no-cache: everything again
    assert all(client.calls[i, p] >= 2 for i in ids for p in periods)


def test_a_statement_the_server_says_is_not_over_is_not_cached(tmp_path: Path) -> None:
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)

    class Late(FakeClient):
        def list_organization_usage(
            self, organization_id: str, period: str | None = None
        ) -> list[UsageStatement]:
            [answer] = super().list_organization_usage(organization_id, period)
            return [answer.model_copy(update={"end_date": dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc)})]

    readout = read_usage(Late(), [str(uuid.uuid4())], ["2026-10"], cache=cache, now=NOW)
    assert readout.complete and cache.entries() == 0


def test_failures_are_kept_and_what_was_read_is_cached(tmp_path: Path) -> None:
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)
    client = FakeClient()
    ids = [str(uuid.uuid4()) for _ in range(4)]
    client.fail[ids[1], "2026-10"] = ServerError("list-distributor-organization-usage", 503, "down")
    first = read_usage(client, ids, ["2026-09", "2026-10"], cache=cache, now=NOW)
    assert not first.complete
    assert [(org_id, period) for org_id, period, _ in first.failures] == [(ids[1], "2026-10")]
    assert cache.entries() == 7

    client.fail.clear()
    client.calls.clear()
    second = read_usage(client, ids, ["2026-09", "2026-10"], cache=cache, now=NOW)
    assert second.complete and dict(client.calls) == {(ids[1], "2026-10"): 1}


def test_the_run_stops_after_too_many_failures(tmp_path: Path) -> None:
    client = FakeClient()
    ids = [str(uuid.uuid4()) for _ in range(200)]
    for org_id in ids:
        client.fail[org_id, "2026-10"] = ServerError("list-distributor-organization-usage", 503, "down")
    readout = read_usage(client, ids, ["2026-10"], parallel=1, now=NOW, max_failures=3)
    assert len(readout.failures) == 3
    assert readout.skipped == 200 - 3
    assert sum(client.calls.values()) == 3


def test_an_organization_gone_is_left_out_whole() -> None:
    client = FakeClient()
    ids = [str(uuid.uuid4()) for _ in range(3)]
    client.gone.add(ids[0])
    readout = read_usage(client, ids, ["2026-09", "2026-10", "2026-11"], parallel=1, now=NOW)
    assert readout.complete and readout.gone == {ids[0]}
    assert {org_id for org_id, _ in readout.statements} == set(ids[1:])
    assert sum(n for (org_id, _), n in client.calls.items() if org_id == ids[0]) == 1  # 404 once: enough


def lines_of(info: FleetUsageInfo, currency: str, *, incl: bool = False) -> Decimal:
    lines = [line for line in info["lines"] if line["currency"] == currency]
    amounts = [line["total_incl_vat"] if incl else line["total_excl_vat"] for line in lines]
    return sum((Decimal(amount or 0) for amount in amounts), Decimal(0))


def test_totals_are_the_exact_sums_of_the_lines() -> None:
    alpha, beta, gamma = org("Alpha", "a-1"), org("=Beta"), org("Gamma")
    huge = "12345678901234567.89"
    statements: dict[tuple[str, str], list[UsageStatementInfo]] = {
        (alpha["id"], "2026-10"): [
            usage_statement_info(
                statement("2026-10", "CHF", ("compute", "0.10", "0.11"), ("sos", "0.20", "0.22"))
            )
        ],
        (alpha["id"], "2026-11"): [
            usage_statement_info(statement("2026-11", "CHF", ("compute", huge, huge)))
        ],
        (beta["id"], "2026-10"): [
            usage_statement_info(statement("2026-10", "EUR", ("dbaas", "-5.00", "-5.95")))
        ],
        (gamma["id"], "2026-11"): [],
    }
    info = fleet_usage([alpha, beta, gamma], ["2026-10", "2026-11"], statements, open_periods=["2026-11"])
    assert info["periods"] == ["2026-10", "2026-11"] and info["open_periods"] == ["2026-11"]
    assert info["organizations"] == 2 and info["statements"] == 3 and len(info["lines"]) == 4
    assert info["lines"][0] == {
        "organization_id": alpha["id"],
        "client_id": "a-1",
        "name": "Alpha",
        "period": "2026-10",
        "product": "compute",
        "variable": "v",
        "description": "compute",
        "quantity": "1.5",
        "unit": "hour",
        "total_excl_vat": "0.10",
        "total_incl_vat": "0.11",
        "currency": "CHF",
    }
    assert [(t["period"], t["currency"], t["total_excl_vat"], t["lines"]) for t in info["totals"]] == [
        ("2026-10", "CHF", "0.30", 2),
        ("2026-10", "EUR", "-5.00", 1),
        ("2026-11", "CHF", huge, 1),
    ]
    # 0.1 + 0.2 is not 0.30000000000000004 here, and the huge amount keeps its cents.
    assert info["totals_by_currency"]["CHF"] == {
        "total_excl_vat": "12345678901234568.19",
        "total_incl_vat": "12345678901234568.22",
        "lines": 3,
    }
    for currency, total in info["totals_by_currency"].items():
        assert Decimal(total["total_excl_vat"]) == lines_of(info, currency)
        assert Decimal(total["total_incl_vat"]) == lines_of(info, currency, incl=True)
    assert info["mismatches"] == []
    json.dumps(info)  # plain data: a program can export it as it is


def test_a_statement_whose_lines_do_not_add_up_is_reported() -> None:
    alpha = org("Alpha")
    bad = usage_statement_info(statement("2026-10", "CHF", ("compute", "1.00", "1.08")))
    bad["total_excl_vat"] = "1.01"
    info = fleet_usage([alpha], ["2026-10"], {(alpha["id"], "2026-10"): [bad]})
    assert info["totals"][0]["total_excl_vat"] == "1.00"  # the lines, not the statement's own figure
    [mismatch] = info["mismatches"]
    assert mismatch["statement_excl_vat"] == "1.01" and mismatch["lines_excl_vat"] == "1.00"


def test_a_chart_shows_the_top_and_groups_the_rest_per_currency() -> None:
    organizations = [org(f"Org {n}") for n in range(6)] + [org("Org 0")]  # a name used twice
    statements: dict[tuple[str, str], list[UsageStatementInfo]] = {}
    for n, one in enumerate(organizations):
        currency = "USD" if n == 6 else "CHF"
        for period in ("2026-10", "2026-11"):
            statements[one["id"], period] = [
                usage_statement_info(
                    statement(period, currency, ("compute", f"{n + 1}.00", "0"), ("sos", "1", "0"))
                )
            ]
    info = fleet_usage(organizations, ["2026-10", "2026-11"], statements)
    chf, usd = chart_panels(info, by="customer", top=2)
    assert chf.currency == "CHF" and usd.currency == "USD"
    assert [series.label for series in chf.series] == ["Org 5", "Org 4", "4 other customers"]
    assert chf.series[-1].others == 4
    assert chf.totals == (Decimal(sum(range(1, 7)) + 6), Decimal(sum(range(1, 7)) + 6))
    assert [series.label for series in usd.series] == [f"Org 0 ({organizations[6]['id'][:8]})"]
    products = chart_panels(info, by="product", top=1)
    assert [series.label for series in products[0].series] == ["compute", "1 other product"]
    with pytest.raises(ValueError, match="top"):
        chart_panels(info, top=0)


def test_a_cache_entry_is_plain_json(tmp_path: Path) -> None:
    cache = UsageCache.for_key(FINGERPRINT, tmp_path)
    client = FakeClient()
    org_id = str(uuid.uuid4())
    read_usage(client, [org_id], ["2026-10"], cache=cache, now=NOW)
    entry: dict[str, Any] = json.loads((cache.directory / org_id / "2026-10.json").read_text())
    assert entry["format"] == 1 and entry["organization_id"] == org_id and entry["period"] == "2026-10"
    assert entry["statements"][0]["usage"][0]["total_excl_vat"] == "10.05"  # a string: exact


def test_the_function_is_all_or_nothing_too() -> None:
    from pulumi_exo_distributor._functions import DistributorFunctionError, _fleet_usage
    from pulumi_exo_distributor._models import Organization

    organizations = [org("Beta"), org("Alpha")]

    class Listing(FakeClient):
        def list_organizations(self) -> list[Organization]:
            return [
                Organization.model_validate({**o, "billing-address": o["billing_address"]})
                for o in organizations
            ]

    client = Listing()
    info = _fleet_usage(client, ["2026-10"], None)  # type: ignore[arg-type]
    assert [line["name"] for line in info["lines"]][::2] == ["Alpha", "Beta"]
    assert info["totals"][0]["total_excl_vat"] == "20.30"

    client.fail[organizations[0]["id"], "2026-10"] = ServerError(
        "list-distributor-organization-usage", 503, "x"
    )
    with pytest.raises(DistributorFunctionError) as info_error:
        _fleet_usage(client, ["2026-10"], None)  # type: ignore[arg-type]
    message = str(info_error.value)
    assert message.startswith("cannot read the fleet's usage: 1 statement(s) could not be read, so no totals")
    assert f"organization {organizations[0]['id']} for 2026-10" in message
    assert "hint: the Partner API failed through every retry" in message
