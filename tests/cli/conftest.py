"""The exo-distributor command, run as its installed console script against the simulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from pulumi_exo_distributor import BillingAddress, OrganizationInput, PartnerClient
from pulumi_exo_distributor.simulator import Credential, RunningSimulator, SimulatorConfig, run_simulator

KEY, SECRET = "EXOclitests000000000000001", "cli-secret-that-must-never-leak-93be"
SCRIPT = Path(sys.executable).with_name("exo-distributor")

#: (display name, client id, country, city, postal code, street, status to reach)
FLEET = [
    ("Acme SA", "acme-001", "CH", "Lausanne", "1003", "Rue de Bourg", "active"),
    ("Globex GmbH", "globex-001", "DE", "München", "80331", "Marienplatz", "suspended"),
    ("Initech SARL", "initech-001", "FR", "Lyon", "69002", "Rue de la République", "active"),
    ("Hooli AG", "acme-001", "CH", "Zürich", "8001", "Bahnhofstrasse", "created"),  # a client id used twice
    ("[bold]Umbrella[/bold]", None, "GB", "London", "EC1A 1BB", "Aldersgate", "terminated"),
]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Command:
    """Runs the console script with the simulator's credentials (overridable per call)."""

    simulator: RunningSimulator
    ids: dict[str, str]  # display name -> organization id

    def env(self, **overrides: str | None) -> dict[str, str]:
        env = {
            **os.environ,
            "EXOSCALE_API_KEY": KEY,
            "EXOSCALE_API_SECRET": SECRET,
            "EXOSCALE_PARTNER_API_ENDPOINT": self.simulator.url,
        }
        for name in ("COLUMNS", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR"):
            env.pop(name, None)
        for name, value in overrides.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def __call__(
        self, *args: str, stdin: str | None = None, env: Mapping[str, str | None] | None = None
    ) -> Run:
        done = subprocess.run(
            [str(SCRIPT), *args],
            input=stdin,
            env=self.env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def calls(self) -> dict[str, int]:
        return dict(self.simulator.stats())


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The usage cache of each test in a directory of its own, never the user's."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture(scope="session")
def script() -> Path:
    if not SCRIPT.exists():
        pytest.fail(
            f"{SCRIPT} is missing: install the package with its cli extra (make setup)", pytrace=False
        )
    assert shutil.which(str(SCRIPT))
    return SCRIPT


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig(credentials=(Credential(KEY, SECRET),))) as running:
        yield running


@pytest.fixture(scope="module")
def api(simulator: RunningSimulator) -> Iterator[PartnerClient]:
    with PartnerClient(KEY, SECRET, simulator.url) as client:
        yield client


@pytest.fixture(scope="module")
def fleet(api: PartnerClient) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name, client_id, country, city, postal_code, street, status in FLEET:
        org = api.create_organization(
            OrganizationInput(
                display_name=name,
                owner_email="ops@customer.example",
                billing_address=BillingAddress(
                    name=name, country=country, city=city, postal_code=postal_code, street_name=street
                ),
                client_id=client_id,
            )
        )
        if status == "active":
            api.activate_organization(org.id)
        elif status == "suspended":
            api.suspend_organization(org.id)
        elif status == "terminated":
            api.terminate_organization(org.id)
        ids[name] = str(org.id)
    return ids


@pytest.fixture
def cli(script: Path, simulator: RunningSimulator, fleet: dict[str, str]) -> Command:
    return Command(simulator, fleet)
