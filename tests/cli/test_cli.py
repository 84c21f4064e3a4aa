"""exo-distributor through its console script: every command, every output, every error path."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections import defaultdict
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

import pytest

import pulumi_exo_distributor
from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor._data import organization_info, usage_statement_info
from pulumi_exo_distributor._fleet import load_customers

from .conftest import KEY, SECRET, Command

LIST = "list-distributor-organizations"
GET = "get-distributor-organization"
USAGE = "list-distributor-organization-usage"
TYPE = "pulumi-python:dynamic/exoscale:DistributorOrganization"
THIS_MONTH = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


def state(*ids: str) -> str:
    resources = [
        {"urn": "urn:pulumi:prod::fleet::pulumi:pulumi:Stack::fleet-prod", "type": "pulumi:pulumi:Stack"}
    ]
    resources += [
        {"urn": f"urn:pulumi:prod::fleet::{TYPE}::c{i}", "type": TYPE, "id": id_} for i, id_ in enumerate(ids)
    ]
    return json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": resources}})


@pytest.mark.parametrize(
    "args",
    [[], ["orgs"], ["orgs", "list"], ["orgs", "get"], ["usage"], ["orphans"], ["import-code"]],
    ids=lambda args: " ".join(args) or "top",
)
def test_help_everywhere(cli: Command, args: list[str]) -> None:
    for flag in ("--help", "-h"):
        run = cli(*args, flag)
        assert run.returncode == 0, run.text
        assert run.stdout.startswith(f"Usage: exo-distributor {' '.join(args)}".rstrip() + " ")
        assert run.stderr == ""


def test_version(cli: Command) -> None:
    run = cli("--version")
    assert run.returncode == 0
    assert run.stdout == f"exo-distributor {version('pulumi-exo-distributor')}\n"
    assert version("pulumi-exo-distributor") == pulumi_exo_distributor.__version__


def test_orgs_list_in_three_formats(cli: Command, api: PartnerClient) -> None:
    expected = [organization_info(org) for org in api.list_organizations()]

    run = cli("orgs", "list", "-o", "json")
    assert run.returncode == 0, run.text
    assert sorted(json.loads(run.stdout), key=lambda o: o["id"]) == sorted(expected, key=lambda o: o["id"])

    rows = list(csv.DictReader(io.StringIO(cli("orgs", "list", "--output", "csv").stdout)))
    assert {row["id"] for row in rows} == {org["id"] for org in expected}
    munich = next(row for row in rows if row["id"] == cli.ids["Globex GmbH"])
    assert munich["city"] == "München" and munich["status"] == "suspended" and munich["building_number"] == ""

    table = cli("orgs", "list")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "CLIENT", "ID", "NAME", "COUNTRY", "CITY"]
    assert set(lines[1]) == {"─"}  # a rule drawn by the table library
    for name, org_id in cli.ids.items():
        line = next(line for line in lines if org_id in line)
        assert name in line  # "[bold]" printed as written, not taken for markup
    assert lines[-1] == f"{len(expected)} organization(s)"
    assert "\x1b[" not in table.stdout  # no colour codes when redirected


def test_orgs_list_filters_by_status(cli: Command) -> None:
    run = cli("orgs", "list", "--status", "active", "--status", "created", "-o", "json")
    assert {org["status"] for org in json.loads(run.stdout)} == {"active", "created"}
    assert cli("orgs", "list", "--status", "gone").returncode == 2


def test_orgs_get(cli: Command, api: PartnerClient) -> None:
    org_id = cli.ids["Initech SARL"]
    before = cli.calls()
    run = cli("orgs", "get", org_id, "-o", "json")
    assert delta(before, cli.calls()) == {GET: 1}
    assert json.loads(run.stdout) == organization_info(api.get_organization(org_id))

    table = cli("orgs", "get", org_id.upper()).stdout  # any UUID spelling
    assert "billing_address.street_name" in table and "Rue de la République" in table
    assert "billing_address.address" not in table  # unset fields are left out


def test_usage_of_one_organization(cli: Command, api: PartnerClient) -> None:
    org_id = cli.ids["Acme SA"]
    expected = [usage_statement_info(s) for s in api.list_organization_usage(org_id, THIS_MONTH)]
    assert len(expected) == 1

    run = cli("usage", org_id, "-o", "json")
    assert run.returncode == 0, run.text
    assert json.loads(run.stdout) == expected

    rows = list(csv.DictReader(io.StringIO(cli("usage", org_id, "-o", "csv").stdout)))
    assert len(rows) == len(expected[0]["usage"])
    assert sum(Decimal(row["total_incl_vat"]) for row in rows) == Decimal(expected[0]["total_incl_vat"] or "")

    table = cli("usage", org_id, "--period", THIS_MONTH).stdout
    assert f"{expected[0]['code']}, {THIS_MONTH}, {expected[0]['currency']}" in table
    assert table.splitlines()[-1].split()[0] == "total"

    old = cli("usage", org_id, "--period", "2001-01")
    assert old.returncode == 0
    assert old.stdout.strip() == f"no usage statement for organization {org_id} in 2001-01"


def test_usage_all_is_the_billing_run(cli: Command, api: PartnerClient) -> None:
    organizations = api.list_organizations()
    before = cli.calls()
    run = cli("usage", "--all", "--period", THIS_MONTH, "-o", "json")
    assert run.returncode == 0, run.text
    assert delta(before, cli.calls()) == {LIST: 1, USAGE: len(organizations)}
    report = json.loads(run.stdout)
    assert report["period"] == THIS_MONTH
    assert {row["id"] for row in report["organizations"]} == {str(org.id) for org in organizations}

    expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for org in organizations:
        for statement in api.list_organization_usage(org.id, THIS_MONTH):
            assert statement.currency and statement.total_excl_vat is not None
            expected[statement.currency][0] += statement.total_excl_vat
            expected[statement.currency][1] += statement.total_incl_vat or 0
    assert {
        currency: [Decimal(t["total_excl_vat"]), Decimal(t["total_incl_vat"])]
        for currency, t in report["totals"].items()
    } == expected

    table = cli("usage", "--all", "--period", THIS_MONTH).stdout.splitlines()
    for currency, (_, incl) in expected.items():
        total = next(line for line in table if line.startswith(f"total {currency}"))
        assert total.split()[-1] == f"{incl:.2f}"
    assert table[-1] == f"{len(organizations)} organization(s), {len(organizations)} statement(s)"

    rows = list(csv.DictReader(io.StringIO(cli("usage", "--all", "-o", "csv").stdout)))
    assert len(rows) == len(organizations)  # rows only, no totals in the CSV


def test_usage_all_without_usage_this_month(cli: Command) -> None:
    run = cli("usage", "--all", "--period", "2001-01")
    assert run.returncode == 0
    assert ", 0 statement(s), " in run.stdout.splitlines()[-1]


def test_progress_shows_to_a_person_only(cli: Command) -> None:
    quiet = cli("usage", "--all")
    assert quiet.returncode == 0 and quiet.stderr == ""
    # rich takes the streams for a terminal: the bar goes to stderr, counting every organization.
    shown = cli("usage", "--all", env={"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "200"})
    assert shown.returncode == 0
    total = len(json.loads(cli("orgs", "list", "-o", "json").stdout))
    assert f"usage {THIS_MONTH}" in shown.stderr and f"{total}/{total}" in shown.stderr
    assert "total " in shown.stdout and f"usage {THIS_MONTH}" not in shown.stdout.split("\n", 1)[1]


def test_orphans(cli: Command) -> None:
    managed = [cli.ids["Acme SA"], cli.ids["Globex GmbH"]]
    gone = str(uuid.uuid4())
    run = cli("orphans", "--stack-state", "-", "-o", "json", stdin=state(*managed, gone))
    assert run.returncode == 0, run.text
    found = json.loads(run.stdout)
    # Terminated organizations are not orphans; the state's own are not either.
    assert {org["id"] for org in found["unmanaged"]} == {cli.ids["Initech SARL"], cli.ids["Hooli AG"]}
    assert found["duplicate_client_ids"] == {
        "acme-001": sorted([cli.ids["Acme SA"], cli.ids["Hooli AG"]])
    } or (found["duplicate_client_ids"] == {"acme-001": [cli.ids["Acme SA"], cli.ids["Hooli AG"]]})
    assert set(found["duplicate_client_ids"]["acme-001"]) == {cli.ids["Acme SA"], cli.ids["Hooli AG"]}
    assert found["gone"] == [gone]

    # Terminated ones are counted and listed apart, whether a stack still holds them or not.
    umbrella = cli.ids["[bold]Umbrella[/bold]"]
    assert [(org["id"], org["status"], org["managed"]) for org in found["terminated"]] == [
        (umbrella, "terminated", False)
    ]
    assert umbrella not in {org["id"] for org in found["unmanaged"]}

    table = cli("orphans", "--stack-state", "-", stdin=state(*managed, gone)).stdout
    # 5 organizations: 4 live (one of them created) and 1 terminated.
    assert table.splitlines()[0] == (
        "4 organization(s) live, 1 terminated, 3 in the stack state(s): "
        "2 unmanaged, 1 client id(s) used twice, 1 gone"
    )
    assert "Not managed by any stack" in table and "Client ids used twice" in table and gone in table
    terminated = table.split("Terminated, awaiting their purge", 1)[1]
    assert umbrella in terminated and "[bold]Umbrella[/bold]" in terminated

    # A stack that still holds the terminated one: it is gone from the stack's view, and managed.
    held = json.loads(cli("orphans", "--stack-state", "-", "-o", "json", stdin=state(umbrella)).stdout)
    assert held["gone"] == [umbrella] and held["terminated"][0]["managed"] is True


def test_orphans_of_several_stacks(cli: Command, tmp_path: pytest.TempPathFactory) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"  # type: ignore[operator]
    first.write_text(state(cli.ids["Acme SA"], cli.ids["Globex GmbH"]))
    second.write_text(state(cli.ids["Initech SARL"], cli.ids["Hooli AG"]))
    run = cli("orphans", "--stack-state", str(first), "--stack-state", str(second), "-o", "json")
    assert json.loads(run.stdout)["unmanaged"] == []


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("not json", "<stdin> is not JSON"),
        ("[1, 2]", "<stdin> is not a `pulumi stack export` document"),
        ('{"deployment": {"resources": 3}}', "<stdin> is not a `pulumi stack export` document"),
    ],
)
def test_orphans_refuses_what_is_not_a_stack_export(cli: Command, stdin: str, message: str) -> None:
    run = cli("orphans", "--stack-state", "-", stdin=stdin)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.text


def test_import_code_python_declares_what_exists(cli: Command) -> None:
    run = cli("import-code", "--stack-state", "-", stdin=state(cli.ids["Acme SA"]))
    assert run.returncode == 0, run.text
    program = run.stdout
    compile(program, "import.py", "exec")
    assert program.count("DistributorOrganization(\n") == 3  # not the managed one, nor the terminated one
    assert f'adopt_id="{cli.ids["Acme SA"]}"' not in program
    assert cli.ids["[bold]Umbrella[/bold]"] not in program
    assert program.count('    deletion_policy="retain",\n') == 3
    assert f'adopt_id="{cli.ids["Hooli AG"]}"' in program
    assert '"acme-001",\n' in program  # the resource name comes from the client id
    # Hooli AG shares Acme's client id; Acme is managed: Hooli is declared without it.
    assert '    # client_id="acme-001",\n' in program and '    client_id="acme-001",\n' not in program
    assert (
        f"warning: client id 'acme-001' is shared by 2 live organizations "
        f"({cli.ids['Acme SA']}, {cli.ids['Hooli AG']})"
        in run.stderr
        or f"({cli.ids['Hooli AG']}, {cli.ids['Acme SA']})" in run.stderr
    )
    assert 'status="suspended"' in program  # Globex stays suspended
    assert "live status: created" in program
    assert f"note: organization {cli.ids['Hooli AG']} is 'created'" in run.stderr
    assert "3 organization(s) declared" in run.stderr


def test_import_code_yaml_is_a_customers_file(cli: Command, tmp_path: pytest.TempPathFactory) -> None:
    run = cli("import-code", "--format", "yaml")
    assert run.returncode == 0, run.text
    path = tmp_path / "customers.yaml"  # type: ignore[operator]
    path.write_text(run.stdout, encoding="utf-8")
    customers = {customer.name: customer for customer in load_customers(path)}
    assert set(customers) == {"acme-001", "acme-001-2", "globex-001", "initech-001"}
    for customer in customers.values():
        assert customer.protect is True
        assert customer.inputs["deletion_policy"] == "retain"
    assert customers["globex-001"].inputs["billing_address"]["city"] == "München"
    assert customers["globex-001"].inputs["status"] == "suspended"
    # Shared by two: declared for neither, so that the program previews.
    assert (
        "client_id" not in customers["acme-001"].inputs and "client_id" not in customers["acme-001-2"].inputs
    )
    assert customers["globex-001"].inputs["client_id"] == "globex-001"


def test_missing_credentials(cli: Command) -> None:
    run = cli("orgs", "list", env={"EXOSCALE_API_SECRET": None})
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.splitlines()[0] == (
        "error: cannot list organizations: missing Exoscale credentials: set EXOSCALE_API_SECRET"
    )
    assert run.stderr.splitlines()[1].startswith("  hint: set EXOSCALE_API_KEY and EXOSCALE_API_SECRET")


def test_refused_credentials_never_show_the_secret(cli: Command) -> None:
    for args in (["orgs", "list"], ["usage", "--all"], ["--debug", "orgs", "get", cli.ids["Acme SA"]]):
        run = cli(*args, env={"EXOSCALE_API_SECRET": SECRET + "-wrong"})
        assert run.returncode == 1
        assert (
            "answered HTTP 403" in run.stderr
            and "hint: the Partner API refused the credentials" in run.stderr
        )
        assert SECRET not in run.text
        assert "Traceback" not in run.text


def test_unknown_organization(cli: Command) -> None:
    missing = str(uuid.uuid4())
    run = cli("orgs", "get", missing)
    assert run.returncode == 1
    assert run.stderr.startswith(f"error: cannot get organization {missing}: {GET} answered HTTP 404")
    assert "hint: no such organization for these credentials" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["orgs", "get", "acme"], "'acme' is not an organization id (a UUID, as `orgs list` shows)"),
        (["usage"], "give either an organization ID or --all"),
        (["usage", str(uuid.UUID(int=1)), "--all"], "give either an organization ID or --all"),
        (["usage", "--all", "--period", "2026-1"], "period must be a month written YYYY-MM"),
        (["usage", "--all", "--parallel", "0"], "--parallel"),
        (["orphans"], "Missing option '--stack-state'"),
        (["import-code", "--format", "toml"], "'toml' is not one of 'python', 'yaml'"),
        (["orgs", "delete"], "No such command 'delete'"),
    ],
)
def test_wrong_command_lines_exit_2(cli: Command, args: list[str], message: str) -> None:
    before = cli.calls()
    run = cli(*args)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.text
    assert delta(before, cli.calls()) == {}


def test_an_endpoint_that_is_not_allowed(cli: Command) -> None:
    run = cli(
        "orgs", "list", env={"EXOSCALE_PARTNER_API_ENDPOINT": "http://partner-api.example.com/v1.alpha"}
    )
    assert run.returncode == 1
    assert "is not allowed: use https://" in run.stderr


def test_the_exo_clis_account_gives_the_key_pair(cli: Command, tmp_path: Path) -> None:
    config = tmp_path / "exoscale.toml"
    config.write_text(
        f'defaultAccount = "lab"\n\n[[accounts]]\nname = "prod"\nkey = "EXOwrong"\nsecret = "wrong"\n\n'
        f'[[accounts]]\nname = "distributor"\nkey = "{KEY}"\nsecret = "{SECRET}"\n'
    )
    without_env = {"EXOSCALE_API_KEY": None, "EXOSCALE_API_SECRET": None, "EXOSCALE_CONFIG": str(config)}
    chosen = cli("orgs", "list", "-o", "json", env={**without_env, "EXOSCALE_ACCOUNT": "distributor"})
    assert chosen.returncode == 0, chosen.stderr
    assert {org["id"] for org in json.loads(chosen.stdout)} >= set(cli.ids.values())
    # The default account, "lab", is not in the file: an error naming it, never another account's key.
    missing = cli("orgs", "list", env=without_env)
    assert missing.returncode == 1
    assert "has no account 'lab' (accounts: distributor, prod)" in missing.stderr
