"""The public Python API, the copy of the request schema, and HTTP-level routing."""

from __future__ import annotations

from typing import Any

import pytest
import requests

import pulumi_exo_distributor.simulator as simulator
from pulumi_exo_distributor.simulator import Credential, RunningSimulator, SimulatorConfig
from pulumi_exo_distributor.simulator._schema import ORGANIZATION_INPUT_SCHEMA

from .conftest import OPERATIONS, SPEC, assert_conforms, resolve


def test_all_is_the_sorted_public_api() -> None:
    # Sorted the way ruff's RUF022 wants it: constants, then classes, then functions.
    def rank(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert simulator.__all__ == sorted(simulator.__all__, key=rank)
    public = {name for name in vars(simulator) if not name.startswith("_")}
    # Submodules show up as attributes once imported; they are not API.
    public -= {"annotations"}
    public = {name for name in public if not isinstance(getattr(simulator, name), type(simulator))}
    assert public == set(simulator.__all__)
    assert set(simulator.OPERATION_IDS) == set(OPERATIONS)


def without_descriptions(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: without_descriptions(value) for key, value in schema.items() if key != "description"}
    return schema


def test_the_request_schema_is_the_documents() -> None:
    documented = resolve(
        SPEC["paths"]["/distributor/organization"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]
    )
    assert without_descriptions(documented) == without_descriptions(ORGANIZATION_INPUT_SCHEMA)


def test_the_secret_never_shows() -> None:
    credential = Credential("EXOkey", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(credential)
    assert "s3cr3t-value" not in repr(SimulatorConfig(credentials=(credential,)))


# Each field's own check: test_cli's test_the_parser_and_the_config_refuse_alike. Here, the checks
# across fields, which no single flag reaches.
@pytest.mark.parametrize(
    ("options", "field"),
    [
        pytest.param({"fault_rate": 0.5, "fault_kinds": ()}, "fault_kinds", id="a-rate-without-kinds"),
        pytest.param(
            {"credentials": (Credential("EXOa", "x"), Credential("EXOa", "y"))}, "credentials", id="key-twice"
        ),
    ],
)
def test_config_is_checked_across_fields(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        SimulatorConfig(**options)


def test_credentials_may_be_given_as_a_list() -> None:
    config = SimulatorConfig(credentials=[Credential("EXOa", "x")])  # type: ignore[arg-type]
    assert config.credentials == (Credential("EXOa", "x"),)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/distributor/organization/00000000-0000-4000-8000-000000000000:activate", "PUT"),
        ("POST", "/distributor/organization/00000000-0000-4000-8000-000000000000", "GET"),
        ("DELETE", "/distributor/organization/00000000-0000-4000-8000-000000000000", "GET"),
        ("PUT", "/distributor/organization", "GET, POST"),
        ("PATCH", "/distributor/organization", "GET, POST"),
        ("HEAD", "/distributor/organization/00000000-0000-4000-8000-000000000000/usage", "GET"),
        ("PUT", "/distributor/organization/00000000-0000-4000-8000-000000000000:terminate", "DELETE"),
        ("DELETE", "/distributor/organization/00000000-0000-4000-8000-000000000000:schedule-purge", "PUT"),
    ],
)
def test_a_wrong_method_is_405(
    http: requests.Session, sim: RunningSimulator, method: str, path: str, allow: str
) -> None:
    response = http.request(method, sim.url + path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    if method != "HEAD":
        assert_conforms("get-distributor-organization", 405, response.json())


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/",
        "/distributor",
        "/distributor/organization/",
        "/distributor/organizations",
        "/distributor/organization/00000000-0000-4000-8000-000000000000:explode",
        "/distributor/organization/00000000-0000-4000-8000-000000000000/usage/extra",
        "/metering:apply",
    ],
)
def test_an_unknown_path_is_404(http: requests.Session, sim: RunningSimulator, path: str) -> None:
    response = http.get(sim.url + path)
    assert response.status_code == 404
    assert_conforms("get-distributor-organization", 404, response.json())


@pytest.mark.parametrize("path", ["/", "/v2/zone", "/_sim", "/_sim/nothing", "/v1.alphabet"])
def test_paths_outside_the_api_are_json_404s(sim: RunningSimulator, path: str) -> None:
    response = requests.get(sim.root_url + path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["message"], str)
