"""get_organization, list_organizations, get_organization_usage and get_fleet_usage through the real
engine."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from pulumi import automation as auto

from pulumi_exo_distributor import BillingAddress, OrganizationInput, PartnerClient
from pulumi_exo_distributor._billing import fleet_usage
from pulumi_exo_distributor._data import organization_info, usage_statement_info

from .conftest import ADDRESS, SECRET, Stack

PROGRAM = Path(__file__).with_name("functions_program.py")

LIST = "list-distributor-organizations"
GET = "get-distributor-organization"
USAGE = "list-distributor-organization-usage"


def use_functions_program(stack: Stack) -> Stack:
    shutil.copy(PROGRAM, Path(stack.stack.workspace.work_dir) / "__main__.py")
    return stack


@pytest.fixture
def fstack(stack: Stack) -> Stack:
    return use_functions_program(stack)


@pytest.fixture
def env_fstack(env_stack: Stack) -> Stack:
    return use_functions_program(env_stack)


def make_org(api: PartnerClient, client_id: str) -> str:
    org = api.create_organization(
        OrganizationInput(
            display_name="Functions SA",
            owner_email="ops@functions.example",
            billing_address=BillingAddress.model_validate(ADDRESS),
            client_id=client_id,
        )
    )
    api.activate_organization(org.id)
    return str(org.id)


def failure_text(exc: pytest.ExceptionInfo[auto.CommandError], stack: Stack) -> str:
    return str(exc.value) + "".join(stack.output)


def test_functions_read_in_preview_and_up(fstack: Stack, api: PartnerClient) -> None:
    target = make_org(api, "fn-target")
    fstack.stack.set_config("target", auto.ConfigValue(target))

    _, calls = fstack.calls(fstack.preview)
    assert calls == {LIST: 1, GET: 1, USAGE: 1}
    assert target in "".join(fstack.output)  # the preview shows what the functions read

    result, calls = fstack.calls(fstack.up)
    assert result.summary.result == "succeeded"
    assert calls == {LIST: 1, GET: 1, USAGE: 1}
    outputs = fstack.outputs()
    assert outputs["target"] == organization_info(api.get_organization(target))
    assert outputs["target"]["status"] == "active"
    assert outputs["target"]["client_id"] == "fn-target"
    assert outputs["listed"] == [organization_info(org) for org in api.list_organizations()]
    assert target in {org["id"] for org in outputs["listed"]}
    # No period: the current month, one statement with its product lines, amounts exact.
    expected_usage = [usage_statement_info(s) for s in api.list_organization_usage(target)]
    assert outputs["usage"] == expected_usage
    assert len(outputs["usage"]) == 1 and outputs["usage"][0]["usage"]
    assert isinstance(outputs["usage"][0]["total_incl_vat"], str)

    # A month before the organization existed has no statement.
    fstack.stack.set_config("period", auto.ConfigValue("2001-01"))
    fstack.up()
    assert fstack.outputs()["usage"] == []


def test_a_function_of_an_unknown_id_waits_for_the_up(fstack: Stack, api: PartnerClient) -> None:
    fstack.stack.set_config("create", auto.ConfigValue("true"))

    preview, calls = fstack.calls(fstack.preview)
    assert preview.change_summary.get("create") == 2  # the stack and `made`
    # No get for an organization that does not exist yet. Two lists: the program's function, and
    # the provider's check that the new organization's declared client id is not taken already.
    assert calls == {LIST: 2}

    result, calls = fstack.calls(fstack.up)
    assert result.summary.result == "succeeded"
    assert calls[GET] == 2 and calls["create-distributor-organization"] == 1
    outputs = fstack.outputs()
    assert outputs["made"]["client_id"] == "made-001"
    assert outputs["made_status"] == "active"
    assert api.get_organization(outputs["made"]["id"]).client_id == "made-001"


def test_errors_are_short_and_say_what_to_do(fstack: Stack) -> None:
    missing = str(uuid.uuid4())
    fstack.stack.set_config("target", auto.ConfigValue(missing))
    with pytest.raises(auto.CommandError) as exc:
        fstack.up()
    text = failure_text(exc, fstack)
    # The program reads the organization and its usage at once: whichever fails first is reported.
    assert (
        f"cannot get organization {missing}: {GET} answered HTTP 404" in text
        or f"cannot read the usage of organization {missing}: {USAGE} answered HTTP 404" in text
    )
    assert "hint: no such organization for these credentials" in text
    assert "Traceback" not in text
    assert SECRET not in text

    fstack.stack.set_config("target", auto.ConfigValue("not-a-uuid"))
    with pytest.raises(auto.CommandError) as exc:
        fstack.preview()
    text = failure_text(exc, fstack)
    assert "organization id 'not-a-uuid' is not a UUID" in text
    # As above: the read and the usage fail at once, whichever comes first is reported.
    assert any(
        f"cannot {action} not-a-uuid: " in text
        for action in ("get organization", "read the usage of organization")
    )

    fstack.stack.remove_config("target")
    fstack.stack.set_config("create", auto.ConfigValue("true"))
    fstack.stack.set_config("period", auto.ConfigValue("2026-13"))
    with pytest.raises(auto.CommandError) as exc:
        fstack.preview()
    text = failure_text(exc, fstack)
    assert "cannot read usage: period must be a month written YYYY-MM (such as 2026-10), got '2026-13'" in (
        text
    )
    assert "Traceback" not in text


def test_missing_credentials_say_where_to_put_them(fstack: Stack) -> None:
    fstack.stack.remove_config("exo-distributor:key")
    fstack.stack.remove_config("exo-distributor:secret")
    _, calls = fstack.calls(lambda: pytest.raises(auto.CommandError, fstack.preview))
    assert calls == {}
    text = "".join(fstack.output)
    assert "cannot list organizations: missing Exoscale credentials: set EXOSCALE_API_KEY" in text
    assert "pulumi config set --secret exo-distributor:secret" in text
    assert "Traceback" not in text


def test_credentials_from_the_environment(env_fstack: Stack, api: PartnerClient) -> None:
    target = make_org(api, "fn-env")
    env_fstack.stack.set_config("target", auto.ConfigValue(target))
    result, calls = env_fstack.calls(env_fstack.up)
    assert result.summary.result == "succeeded"
    assert calls == {LIST: 1, GET: 1, USAGE: 1}
    assert env_fstack.outputs()["target"]["id"] == target


def test_the_fleet_usage_of_chosen_organizations(fstack: Stack, api: PartnerClient) -> None:
    month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    ids = [make_org(api, f"fn-fleet-{n}") for n in range(3)]
    fstack.stack.set_config("fleet_from", auto.ConfigValue(month))
    fstack.stack.set_config("fleet_ids", auto.ConfigValue(json.dumps(ids)))

    _, calls = fstack.calls(fstack.preview)
    assert calls == {LIST: 2, USAGE: 3}  # the program's list, then the fleet's list and statements
    result, calls = fstack.calls(fstack.up)
    assert result.summary.result == "succeeded"
    assert calls == {LIST: 2, USAGE: 3}
    fleet = fstack.outputs()["fleet"]

    # What the command's --lines export computes, from the statements read one by one.
    chosen = sorted(
        (organization_info(org) for org in api.list_organizations() if str(org.id) in ids),
        key=lambda org: (
            org["billing_address"]["name"].casefold() if org["billing_address"] else "",
            org["id"],
        ),
    )
    statements = {
        (org_id, month): [usage_statement_info(s) for s in api.list_organization_usage(org_id, month)]
        for org_id in ids
    }
    assert fleet == fleet_usage(chosen, [month], statements, open_periods=[month])
    assert fleet["open_periods"] == [month] and fleet["organizations"] == 3
    for currency, total in fleet["totals_by_currency"].items():
        assert Decimal(total["total_excl_vat"]) == sum(
            (Decimal(s["total_excl_vat"] or 0) for [s] in statements.values() if s["currency"] == currency),
            Decimal(0),
        )

    missing = str(uuid.uuid4())
    fstack.stack.set_config("fleet_ids", auto.ConfigValue(json.dumps([ids[0], missing])))
    with pytest.raises(auto.CommandError) as exc:
        fstack.preview()
    text = failure_text(exc, fstack)
    assert f"cannot read the fleet's usage: no organization {missing} for these credentials" in text
    assert "Traceback" not in text

    fstack.stack.set_config("fleet_to", auto.ConfigValue("2001-01"))
    with pytest.raises(auto.CommandError) as exc:
        fstack.preview()
    assert "the range ends (2001-01) before it starts" in failure_text(exc, fstack)
