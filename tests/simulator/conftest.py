"""Fixtures of the simulator's conformance tests: one simulator per test session, the official
client, and a validator of response bodies built from the API document itself."""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import jsonschema
import pytest
import requests
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth

from pulumi_exo_distributor.simulator import (
    Credential,
    ManualClock,
    RunningSimulator,
    SimulatorConfig,
    run_simulator,
)
from pulumi_exo_distributor.simulator._normalize import tidy

ALICE = Credential("EXOalice0000000000000000001", "alice-secret")
BOB = Credential("EXObob000000000000000000002", "bob-secret")


def load_spec() -> dict[str, Any]:
    text = (importlib.resources.files("exoscale") / "partner-api.json").read_text()
    spec: dict[str, Any] = json.loads(text)
    return spec


SPEC = load_spec()

#: operationId -> (method, path) for the distributor operations of the document.
OPERATIONS: dict[str, tuple[str, str]] = {
    operation["operationId"]: (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if "distributor-organization" in operation.get("tags", ())
}


def resolve(schema: Any, *, strict: bool = False) -> Any:
    """Inline every ``$ref``; with ``strict``, objects also refuse properties they do not list."""
    if isinstance(schema, list):
        return [resolve(item, strict=strict) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target: Any = SPEC
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        merged = {**copy.deepcopy(target), **{k: v for k, v in schema.items() if k != "$ref"}}
        return resolve(merged, strict=strict)
    resolved = {key: resolve(value, strict=strict) for key, value in schema.items()}
    if strict and resolved.get("type") == "object" and "properties" in resolved:
        resolved["additionalProperties"] = False
    return resolved


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string", "minLength": 1}},
    "required": ["message"],
    "additionalProperties": False,
}

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _check_dates(instance: Any) -> None:
    # jsonschema checks "date-time" only with an optional dependency; check it here.
    if isinstance(instance, list):
        for item in instance:
            if isinstance(item, dict):
                for key in ("start-date", "end-date"):
                    if key in item:
                        assert _RFC3339.fullmatch(item[key]), item[key]
                        datetime.fromisoformat(item[key].replace("Z", "+00:00"))


def assert_conforms(
    operation_id: str, status: int, body: Any, *, rate_limited: bool = False, strict: bool = True
) -> None:
    """``body`` is what the document promises for this operation and status; errors are
    ``{"message": str}`` and only with a 4xx status the simulator is allowed to give (429 too,
    when it is ``rate_limited``).

    ``strict`` (the default) also refuses any field the document does not list: the simulator
    says nothing more than the document, unless ``--normalize`` makes it. The document itself
    never sets ``additionalProperties``, so it allows extra fields: ``strict=False`` checks
    exactly what it promises, and is what a normalising simulator is held to.
    """
    method, path = OPERATIONS[operation_id]
    responses = SPEC["paths"][path][method.lower()]["responses"]
    if 200 <= status < 300:
        assert str(status) in responses, f"{operation_id} answered {status}, not in the document"
        schema = resolve(responses[str(status)]["content"]["application/json"]["schema"], strict=strict)
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(body)
        _check_dates(body)
    else:
        allowed = (400, 403, 404, 405, 409, 413, 429) if rate_limited else (400, 403, 404, 405, 409, 413)
        assert status in allowed, f"{operation_id} answered {status}: {body}"
        jsonschema.Draft202012Validator(ERROR_SCHEMA).validate(body)


def names(message: str, field: str) -> bool:
    """Whether an error ``message`` names ``field``, a dotted path such as ``billing-address.name``:
    each part as a whole word, not inside a longer name (``name`` in ``display-name`` does not count).

    The real API's wording is unknown, so tests of errors hold the simulator to what a user relies
    on (the status, and which field is wrong), never to its sentences.
    """
    return all(re.search(rf"(?<![\w-]){re.escape(part)}(?![\w-])", message) for part in field.split("."))


#: The billing-address of organization-input, as the document has it.
ADDRESS_SCHEMA: dict[str, Any] = resolve(
    SPEC["paths"]["/distributor/organization"]["post"]["requestBody"]["content"]["application/json"]["schema"]
)["properties"]["billing-address"]


def outside_lengths_once_tidied(address: Mapping[str, Any]) -> list[str]:
    """The fields of ``address`` whose length, once white space is trimmed and collapsed (what
    ``--normalize`` stores), is outside what the document allows: the ones such a simulator must
    refuse, by name."""
    return [
        f"billing-address.{key}"
        for key, schema in ADDRESS_SCHEMA["properties"].items()
        if isinstance(address.get(key), str)
        and not schema.get("minLength", 0)
        <= len(tidy(address[key]))
        <= schema.get("maxLength", len(address[key]))
    ]


def valid_body(**overrides: Any) -> dict[str, Any]:
    """A valid organization-input, with ``overrides`` merged in (``None`` removes a key)."""
    body: dict[str, Any] = {
        "display-name": "Acme SA",
        "owner-email": "owner@acme.example",
        "billing-address": {
            "name": "Acme SA",
            "country": "CH",
            "city": "Lausanne",
            "postal-code": "1003",
            "street-name": "Rue du Lac",
            "building-number": "12",
        },
        "client-id": "acme-001",
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def kwargs_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The official client's keyword arguments for a body (``display-name`` -> ``display_name``)."""
    return {key.replace("-", "_"): value for key, value in body.items()}


@pytest.fixture(scope="session")
def sim_clock() -> ManualClock:
    """The session simulator's time, frozen at the start of the session: a test that asks for
    "this month" cannot straddle a month boundary, whatever the real clock does meanwhile."""
    return ManualClock()


@pytest.fixture(scope="session")
def sim(sim_clock: ManualClock) -> Iterator[RunningSimulator]:
    """One simulator for the session (per xdist worker), with two distributors."""
    with run_simulator(SimulatorConfig(credentials=(ALICE, BOB)), clock=sim_clock) as running:
        yield running


@pytest.fixture(scope="session")
def client(sim: RunningSimulator) -> Client:
    return Client(ALICE.key, ALICE.secret, url=sim.url)


@pytest.fixture(scope="session")
def other_client(sim: RunningSimulator) -> Client:
    return Client(BOB.key, BOB.secret, url=sim.url)


@pytest.fixture
def org(client: Client) -> dict[str, Any]:
    """A fresh organization of ALICE."""
    created: dict[str, Any] = client.create_distributor_organization(**kwargs_of(valid_body()))
    return created


@pytest.fixture(scope="session")
def http(sim: RunningSimulator) -> Iterator[requests.Session]:
    """A requests session signed by the reference signer as ALICE."""
    with requests.Session() as session:
        session.auth = ExoscaleV2Auth(ALICE.key, ALICE.secret)
        yield session


def expiring(seconds_from_now: float) -> ExoscaleV2Auth:
    """The reference signer, with an expiry of our choosing."""

    class _Auth(ExoscaleV2Auth):  # type: ignore[misc]
        def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
            self._sign_request(request, int(time.time() + seconds_from_now))
            return request

    return _Auth(ALICE.key, ALICE.secret)
