"""Rules of the command that the simulator cannot be made to break on demand: tested in-process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from importlib.metadata import metadata, version
from typing import Any

import pytest
from click.testing import CliRunner

from pulumi_exo_distributor import NotFoundError, Organization, ServerError, UsageStatement
from pulumi_exo_distributor import cli as cli_module
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


def run_with(client: FakeClient, *args: str) -> Any:
    session = cli_module.Session()
    session._client = client  # type: ignore[assignment]
    return CliRunner().invoke(cli_module.app, list(args), obj=session, prog_name="exo-distributor")


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
