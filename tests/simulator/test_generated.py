"""Generated requests: whatever schemathesis sends, the answer stays within the document.

The document lists only success codes, so an error is conforming when it is one of the 4xx
the simulator documents (400, 403, 404, 405, 409, 413) with a ``{"message": str}`` body;
any 5xx is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests
import schemathesis
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from pulumi_exo_distributor.simulator import RunningSimulator

from .conftest import ALICE, OPERATIONS, SPEC, assert_conforms, kwargs_of, resolve, valid_body

SCHEMA = schemathesis.openapi.from_dict(SPEC)
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


@pytest.fixture(scope="module")
def existing_ids(client: Client) -> list[str]:
    """Organizations for generated cases to act on, so they reach more than 404."""
    return [client.create_distributor_organization(**kwargs_of(valid_body()))["id"] for _ in range(4)]


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
    sim: RunningSimulator,
    signed_session: requests.Session,
    existing_ids: list[str],
    operation_id: str,
    mode: schemathesis.GenerationMode,
    data: st.DataObject,
) -> None:
    method, path = OPERATIONS[operation_id]
    operation = SCHEMA[path][method]
    strategies = [operation.as_strategy(mode)]
    if "{id}" in path:
        strategies.append(
            operation.as_strategy(mode, path_parameters={"id": data.draw(st.sampled_from(existing_ids))})
        )
    case = data.draw(st.one_of(strategies))
    try:
        response = case.call(base_url=sim.url, session=signed_session)
    except (UnicodeEncodeError, ValueError) as exc:
        # The reference signer copies query parameter names into the Authorization header;
        # http.client refuses a header beyond latin-1 or holding control characters. No
        # client can send such a request, so there is no answer to check.
        if isinstance(exc, UnicodeEncodeError) or "Invalid header value" in str(exc):
            reject()
        raise
    assert response.status_code < 500, response.text
    body = response.json()
    assert_conforms(operation_id, response.status_code, body)
    if (
        mode is schemathesis.GenerationMode.POSITIVE
        and operation_id == "create-distributor-organization"
        and only_known_fields(case.body, INPUT_SCHEMA)
    ):
        # A body the document calls valid, with nothing the simulator rejects as unknown.
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
