"""The plain data the functions return and the command prints."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from pulumi_exo_distributor import Organization, UsageStatement
from pulumi_exo_distributor._data import check_period, organization_info, usage_statement_info


@pytest.mark.parametrize("period", ["2026-01", "1999-12", "2026-10"])
def test_a_month_is_a_period(period: str) -> None:
    assert check_period(period) == period


@pytest.mark.parametrize(
    "period", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", " 2026-01", "", "2026-01\n"]
)
def test_anything_else_is_refused_with_the_format(period: str) -> None:
    with pytest.raises(ValueError, match=r"period must be a month written YYYY-MM \(such as 2026-10\)"):
        check_period(period)


def test_organization_info_is_plain_and_complete() -> None:
    org = Organization.model_validate(
        {
            "id": "6C1D2E3F-0000-4000-8000-0000000000E2",
            "status": "suspended",
            "client-id": "acme-001",
            "billing-address": {
                "name": "Acme SA",
                "country": "CH",
                "city": "Lausanne",
                "postal-code": "1003",
                "street-name": "Rue de Bourg",
                "extra-field-from-the-server": "ignored",
            },
        }
    )
    info = organization_info(org)
    assert info == {
        "id": "6c1d2e3f-0000-4000-8000-0000000000e2",
        "status": "suspended",
        "client_id": "acme-001",
        "billing_address": {
            "name": "Acme SA",
            "country": "CH",
            "city": "Lausanne",
            "postal_code": "1003",
            "street_name": "Rue de Bourg",
            "building_number": None,
            "address": None,
        },
    }
    assert json.loads(json.dumps(info)) == info  # what a Pulumi output or a JSON document can carry


def test_usage_keeps_amounts_exact() -> None:
    statement = UsageStatement(
        code="ST-1",
        currency="CHF",
        total_excl_vat=Decimal("0.10"),
        total_incl_vat=Decimal("1E+2"),
        start_date=dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc),
        end_date=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
        usage=[{"product": "compute", "quantity": Decimal("3.333333333333333333"), "unit": "h"}],  # type: ignore[list-item]
    )
    info = usage_statement_info(statement)
    assert info["total_excl_vat"] == "0.10"
    assert Decimal(info["total_incl_vat"] or "") == 100
    assert info["start_date"] == "2026-10-01T00:00:00+00:00"
    assert info["usage"][0]["quantity"] == "3.333333333333333333"
    assert info["usage"][0]["total_incl_vat"] is None
    assert json.loads(json.dumps(info)) == info
