"""Usage statements: deterministic, consistent sums and VAT, covering the month; period checks."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import requests
from exoscale.api.exceptions import ExoscaleAPIClientException
from exoscale.api.partner import Client

from pulumi_exo_distributor.simulator import ManualClock, RunningSimulator
from pulumi_exo_distributor.simulator._usage import VAT_RATES, usage_statements

from .conftest import assert_conforms, kwargs_of, names, valid_body

USAGE = "list-distributor-organization-usage"


def this_month(clock: ManualClock) -> str:
    """The simulator's current month (its clock, not ours: they could straddle a month end)."""
    return time.strftime("%Y-%m", time.gmtime(clock()))


def usage(client: Client, org_id: str, period: str | None = None) -> list[dict[str, Any]]:
    params = {} if period is None else {"period": period}
    result: list[dict[str, Any]] = client.list_distributor_organization_usage(id=org_id, **params)
    assert_conforms(USAGE, 200, result)
    return result


def test_the_same_question_gets_the_same_answer(
    client: Client, org: dict[str, Any], sim_clock: ManualClock
) -> None:
    first = usage(client, org["id"], this_month(sim_clock))
    assert first == usage(client, org["id"], this_month(sim_clock))
    assert len(first) == 1


def test_without_period_it_is_the_current_month(
    client: Client, org: dict[str, Any], sim_clock: ManualClock
) -> None:
    assert usage(client, org["id"]) == usage(client, org["id"], this_month(sim_clock))


def test_a_month_before_creation_or_in_the_future_is_empty(client: Client, org: dict[str, Any]) -> None:
    assert usage(client, org["id"], "2001-01") == []
    assert usage(client, org["id"], "9999-12") == []


def test_statements_are_consistent(client: Client, sim_clock: ManualClock) -> None:
    for _ in range(12):
        org = client.create_distributor_organization(**kwargs_of(valid_body()))
        [statement] = usage(client, org["id"], this_month(sim_clock))
        rate = VAT_RATES[statement["currency"]]
        lines = statement["usage"]
        assert lines
        for line in lines:
            excl, incl = Decimal(str(line["total-excl-vat"])), Decimal(str(line["total-incl-vat"]))
            assert excl == excl.quantize(Decimal("0.01"))
            # Half up, as documented: quantize() alone rounds half to even (15.50 at 19 % is 18.445).
            assert incl == (excl * (1 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            assert line["quantity"] > 0
            assert line["product"] and line["variable"] and line["description"] and line["unit"]
        assert Decimal(str(statement["total-excl-vat"])) == sum(
            Decimal(str(x["total-excl-vat"])) for x in lines
        )
        assert Decimal(str(statement["total-incl-vat"])) == sum(
            Decimal(str(x["total-incl-vat"])) for x in lines
        )
        start = datetime.fromisoformat(statement["start-date"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(statement["end-date"].replace("Z", "+00:00"))
        now = datetime.fromtimestamp(sim_clock(), timezone.utc)
        assert (start.year, start.month, start.day, start.hour) == (now.year, now.month, 1, 0)
        assert start < now < end
        assert end.day == 1
        assert 28 <= (end - start).days <= 31


def test_the_currency_is_fixed_per_organization_and_all_three_occur() -> None:
    currencies = set()
    for n in range(60):
        org_id = f"00000000-0000-4000-8000-{n:012d}"
        seen = {
            usage_statements(org_id, 0.0, (2020, month), time.time())[0]["currency"] for month in range(1, 13)
        }
        assert len(seen) == 1
        currencies |= seen
    assert currencies == {"CHF", "EUR", "USD"}


def test_vat_is_rounded_half_up() -> None:
    # An organization whose statement holds a line of 15.50 EUR: 15.50 * 1.19 = 18.445.
    org_id = "00000000-0000-4000-8000-00011b4d3e40"
    [statement] = usage_statements(org_id, 0.0, (2026, 11), time.time())
    assert statement["currency"] == "EUR"
    assert {"total-excl-vat": 15.5, "total-incl-vat": 18.45}.items() <= next(
        line for line in statement["usage"] if line["total-excl-vat"] == 15.5
    ).items()


def test_months_differ_and_december_ends_in_january() -> None:
    org_id = "00000000-0000-4000-8000-000000000001"
    statements = [usage_statements(org_id, 0.0, (2020, month), time.time())[0] for month in range(1, 13)]
    assert len({repr(statement["usage"]) for statement in statements}) > 6
    assert statements[11]["start-date"] == "2020-12-01T00:00:00Z"
    assert statements[11]["end-date"] == "2021-01-01T00:00:00Z"
    assert statements[1]["end-date"] == "2020-03-01T00:00:00Z"


@pytest.mark.parametrize(
    "period",
    [
        "",
        "2024",
        "2024-5",
        "2024-13",
        "2024-00",
        "0000-01",
        "24-05-1",
        "2024/05",
        "2024-05-01",
        "٢٠٢٤-05",
        "abcd-ef",
    ],
)
def test_a_bad_period_is_400_naming_it(client: Client, org: dict[str, Any], period: str) -> None:
    with pytest.raises(ExoscaleAPIClientException) as info:
        client.list_distributor_organization_usage(id=org["id"], period=period)
    assert info.value.response.status_code == 400
    assert_conforms(USAGE, 400, info.value.response.json())
    assert names(info.value.response.json()["message"], "period"), info.value.response.text


def test_period_given_twice_is_400(
    http: requests.Session, sim: RunningSimulator, org: dict[str, Any]
) -> None:
    url = sim.url + f"/distributor/organization/{org['id']}/usage?period=2024-01&period=2024-02"
    response = http.get(url)
    assert response.status_code == 400
    assert_conforms(USAGE, 400, response.json())
    assert names(response.json()["message"], "period"), response.text


def test_a_bad_period_for_an_unknown_organization(client: Client) -> None:
    # The period is checked first: a 400 says what is wrong with the request itself.
    with pytest.raises(ExoscaleAPIClientException) as info:
        client.list_distributor_organization_usage(id="00000000-0000-4000-8000-000000000000", period="x")
    assert info.value.response.status_code == 400
    assert names(info.value.response.json()["message"], "period"), info.value.response.text
