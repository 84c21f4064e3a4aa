from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_exo_distributor import DistributorOrganizationProvider, PartnerClient
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, run_simulator

KEY, SECRET = "EXOprovidertests0000000001", "provider-tests-secret-value"
OTHER_KEY, OTHER_SECRET = "EXOprovidertests0000000002", "the-other-distributor-secret"


@pytest.fixture(scope="session")
def simulator() -> Iterator[Any]:
    config = SimulatorConfig(credentials=(Credential(KEY, SECRET), Credential(OTHER_KEY, OTHER_SECRET)))
    with run_simulator(config) as running:
        yield running


def configured(endpoint: str, key: str = KEY, secret: str = SECRET) -> DistributorOrganizationProvider:
    provider = DistributorOrganizationProvider()
    raw = {"exo-distributor:key": key, "exo-distributor:secret": secret, "exo-distributor:endpoint": endpoint}
    provider.configure(ConfigureRequest(Config(raw, "tests")))
    return provider


@pytest.fixture
def provider(simulator: Any) -> DistributorOrganizationProvider:
    return configured(simulator.url)


@pytest.fixture
def api(simulator: Any) -> Iterator[PartnerClient]:
    with PartnerClient(KEY, SECRET, simulator.url) as client:
        yield client


@pytest.fixture(autouse=True)
def _journal_in_tmp(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The journal of unknown creates lives under PULUMI_HOME: one per test, never the user's.
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
