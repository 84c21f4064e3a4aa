"""Generated requests: whatever schemathesis sends, the answer stays within the document.

The document lists only success codes, so an error is conforming when it is one of the 4xx
the simulator documents (400, 403, 404, 405, 409, 413) with a ``{"message": str}`` body;
any 5xx is a failure.

Two simulators take the same generated requests: one with the defaults, and one with every
open question answered the other way (``switched``). The rate limit is left out of both: a
429 is an answer to how fast requests come, not to what they hold (see test_rate_limit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from pulumi_exo_distributor.simulator import RunningSimulator, SimulatorConfig, run_simulator
from pulumi_exo_distributor.simulator._normalize import tidy

from .conftest import (
    ALICE,
    BOB,
    OPERATIONS,
    SPEC,
    assert_conforms,
    kwargs_of,
    names,
    outside_lengths_once_tidied,
    resolve,
    valid_body,
)

SCHEMA = schemathesis.openapi.from_dict(SPEC)
#: What RFC 9110 does not allow in a header value (h11, uvicorn's parser, refuses it).
FORBIDDEN_IN_HEADERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
INPUT_SCHEMA = resolve(
    SPEC["paths"]["/distributor/organization"]["post"]["requestBody"]["content"]["application/json"]["schema"]
)

FUZZ = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def signed_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = ExoscaleV2Auth(ALICE.key, ALICE.secret)
        yield session


VARIANTS = {
    "defaults": SimulatorConfig(credentials=(ALICE, BOB)),
    "switched": SimulatorConfig(
        credentials=(ALICE, BOB),
        normalize=True,
        foreign_status=403,
        terminate_again=409,
        initial_status="active",
        unknown_fields="ignore",
        purge_delay_s=3600.0,
        retry_after_header=False,
    ),
}


@dataclass
class Variant:
    config: SimulatorConfig
    sim: RunningSimulator
    #: Organizations for generated cases to act on, so they reach more than 404: ALICE's own
    #: and two of BOB's (which ALICE may not touch).
    existing_ids: list[str]

    @property
    def strict(self) -> bool:
        # --normalize adds fields the document does not list. The document allows them (it
        # never sets additionalProperties: test_normalize checks it), so such answers are held
        # to the document itself rather than to the strict check.
        return not self.config.normalize


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> Iterator[Variant]:
    config = VARIANTS[request.param]
    with run_simulator(config) as sim:
        ids = [
            Client(who.key, who.secret, url=sim.url).create_distributor_organization(
                **kwargs_of(valid_body())
            )["id"]
            for who in (ALICE, ALICE, ALICE, ALICE, BOB, BOB)
        ]
        yield Variant(config, sim, ids)


def as_text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("latin-1")


def only_known_fields(body: Any, schema: Mapping[str, Any]) -> bool:
    if schema.get("type") != "object" or not isinstance(body, dict):
        return True
    properties = schema.get("properties", {})
    return set(body) <= set(properties) and all(
        only_known_fields(value, properties[name]) for name, value in body.items()
    )


# list-distributor-organizations has no parameter and no body: there is nothing to make invalid.
CASES = [
    (operation_id, mode)
    for operation_id in sorted(OPERATIONS)
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    if (operation_id, mode) != ("list-distributor-organizations", schemathesis.GenerationMode.NEGATIVE)
]


@pytest.mark.parametrize(("operation_id", "mode"), CASES, ids=[f"{o}-{m}" for o, m in CASES])
@FUZZ
@given(data=st.data())
def test_generated_requests_get_conforming_answers(
    variant: Variant,
    signed_session: requests.Session,
    operation_id: str,
    mode: schemathesis.GenerationMode,
    data: st.DataObject,
) -> None:
    method, path = OPERATIONS[operation_id]
    operation = SCHEMA[path][method]
    strategies = [operation.as_strategy(mode)]
    if "{id}" in path:
        strategies.append(
            operation.as_strategy(
                mode, path_parameters={"id": data.draw(st.sampled_from(variant.existing_ids))}
            )
        )
    case = data.draw(st.one_of(strategies))
    try:
        response = case.call(base_url=variant.sim.url, session=signed_session)
    except (UnicodeEncodeError, ValueError) as exc:
        # The reference signer copies query parameter names into the Authorization header;
        # http.client refuses a header beyond latin-1 or holding control characters. No
        # client can send such a request, so there is no answer to check.
        if isinstance(exc, UnicodeEncodeError) or "Invalid header value" in str(exc):
            reject()
        raise
    if any(FORBIDDEN_IN_HEADERS.search(as_text(value)) for value in response.request.headers.values()):
        # The same, one step further: http.client sent a control character (such as \x0c) in
        # the Authorization header, and the HTTP server's parser refused the request with its
        # own plain-text 400 before the simulator saw it. No request can carry one.
        reject()
    assert response.status_code < 500, response.text
    try:
        body = response.json()
    except ValueError:
        pytest.fail(
            f"HTTP {response.status_code} {response.headers} {response.text!r} is not JSON, for "
            f"{response.request.method} {response.request.url} {response.request.headers}"
        )
    assert_conforms(operation_id, response.status_code, body, strict=variant.strict)
    if (
        mode is schemathesis.GenerationMode.POSITIVE
        and operation_id == "create-distributor-organization"
        and (variant.config.unknown_fields == "ignore" or only_known_fields(case.body, INPUT_SCHEMA))
    ):
        # A body the document calls valid, with nothing the simulator rejects as unknown; a
        # normalising simulator must still refuse what its normalisation would leave too short.
        assert isinstance(case.body, dict)
        address = case.body["billing-address"]
        assert isinstance(address, dict)
        refused = outside_lengths_once_tidied(address) if variant.config.normalize else []
        if refused:
            assert response.status_code == 400, (case.body, body)
            assert all(names(body["message"], field) for field in refused), (refused, body)
        else:
            assert response.status_code == 200, (case.body, body)


def strategy_for(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Valid instances of an object/string schema of the document (what organization-input uses)."""
    if schema["type"] == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 300))
    required = set(schema.get("required", ()))
    properties = schema["properties"]
    return st.fixed_dictionaries(
        {name: strategy_for(sub) for name, sub in properties.items() if name in required},
        optional={name: strategy_for(sub) for name, sub in properties.items() if name not in required},
    )


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=strategy_for(INPUT_SCHEMA))
def test_any_valid_body_is_created_and_read_back_exactly(client: Client, body: dict[str, Any]) -> None:
    created = client.create_distributor_organization(**kwargs_of(body))
    assert_conforms("create-distributor-organization", 200, created)
    fetched = client.get_distributor_organization(id=created["id"])
    assert fetched == created
    assert fetched["billing-address"] == body["billing-address"]
    assert fetched.get("client-id") == body.get("client-id")


@pytest.fixture(scope="module")
def normalizing() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig(credentials=(ALICE,), normalize=True)) as sim:
        yield sim


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=strategy_for(INPUT_SCHEMA))
def test_any_valid_body_is_stored_normalised_or_refused_by_name(
    normalizing: RunningSimulator, signed_session: requests.Session, body: dict[str, Any]
) -> None:
    response = signed_session.post(normalizing.url + "/distributor/organization", json=body)
    refused = outside_lengths_once_tidied(body["billing-address"])
    if refused:
        assert response.status_code == 400, response.text
        assert all(names(response.json()["message"], field) for field in refused), (refused, response.text)
        return
    assert response.status_code == 200, response.text
    created = response.json()
    assert_conforms("create-distributor-organization", 200, created, strict=False)
    fetched = signed_session.get(normalizing.url + f"/distributor/organization/{created['id']}")
    assert fetched.json() == created
    address = created["billing-address"]
    for key, value in address.items():
        assert value == tidy(value), key
    assert "address" in address
    assert created.get("client-id") == body.get("client-id")  # as sent, untrimmed
