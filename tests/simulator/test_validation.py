"""Create validation: every rule of organization-input, wrong types, bodies that are not JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from exoscale.api.exceptions import ExoscaleAPIClientException
from exoscale.api.partner import Client

from pulumi_exo_distributor.simulator import RunningSimulator, SimulatorConfig, run_simulator

from .conftest import ALICE, assert_conforms, kwargs_of, valid_body

CREATE = "create-distributor-organization"


def address(**overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = dict(valid_body()["billing-address"])
    for key, value in overrides.items():
        if value is None:
            result.pop(key)
        else:
            result[key] = value
    return result


def create_error(client: Client, body: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(ExoscaleAPIClientException) as info:
        client.create_distributor_organization(**kwargs_of(body))
    response = info.value.response
    assert_conforms(CREATE, response.status_code, response.json())
    return response.status_code, response.json()["message"]


# (body overrides, expected message fragment)
INVALID = [
    ({"display-name": None}, "display-name: is required"),
    ({"display-name": ""}, "display-name: must be between 1 and 191 characters (got 0)"),
    ({"display-name": "x" * 192}, "display-name: must be between 1 and 191 characters (got 192)"),
    ({"display-name": 42}, "display-name: must be a string, not a number"),
    ({"owner-email": None}, "owner-email: is required"),
    ({"owner-email": ""}, "owner-email: must be between 1 and 75 characters (got 0)"),
    ({"owner-email": "a" * 64 + "@example.com"}, "owner-email: must be between 1 and 75 characters (got 76)"),
    ({"owner-email": ["a@b.c"]}, "owner-email: must be a string, not an array"),
    ({"client-id": "c" * 192}, "client-id: must be at most 191 characters (got 192)"),
    ({"client-id": True}, "client-id: must be a string, not a boolean"),
    ({"billing-address": None}, "billing-address: is required"),
    ({"billing-address": "Rue du Lac 12"}, "billing-address: must be an object, not a string"),
    ({"billing-address": address(name=None)}, "billing-address.name: is required"),
    ({"billing-address": address(name="")}, "billing-address.name: must not be empty (got 0)"),
    ({"billing-address": address(country=None)}, "billing-address.country: is required"),
    (
        {"billing-address": address(country="C")},
        "billing-address.country: must be exactly 2 characters (got 1)",
    ),
    (
        {"billing-address": address(country="CHE")},
        "billing-address.country: must be exactly 2 characters (got 3)",
    ),
    ({"billing-address": address(country=41)}, "billing-address.country: must be a string, not a number"),
    ({"billing-address": address(city=None)}, "billing-address.city: is required"),
    (
        {"billing-address": address(city="")},
        "billing-address.city: must be between 1 and 255 characters (got 0)",
    ),
    (
        {"billing-address": address(city="x" * 256)},
        "billing-address.city: must be between 1 and 255 characters (got 256)",
    ),
    ({"billing-address": address(**{"postal-code": None})}, "billing-address.postal-code: is required"),
    (
        {"billing-address": address(**{"postal-code": "9" * 81})},
        "billing-address.postal-code: must be between 1 and 80 characters (got 81)",
    ),
    ({"billing-address": address(**{"street-name": None})}, "billing-address.street-name: is required"),
    (
        {"billing-address": address(**{"street-name": ""})},
        "billing-address.street-name: must not be empty (got 0)",
    ),
    (
        {"billing-address": address(**{"building-number": "1" * 256})},
        "billing-address.building-number: must be at most 255 characters (got 256)",
    ),
    ({"billing-address": address(address="")}, "billing-address.address: must not be empty (got 0)"),
    (
        {"billing-address": address(address={"line": 1})},
        "billing-address.address: must be a string, not an object",
    ),
    ({"billing-address": address(street="Main")}, "billing-address.street: unknown field"),
]


@pytest.mark.parametrize(("overrides", "message"), INVALID, ids=[message for _, message in INVALID])
def test_each_rule_is_enforced_and_named(client: Client, overrides: dict[str, Any], message: str) -> None:
    status, text = create_error(client, valid_body(**overrides))
    assert status == 400
    assert message in text


@pytest.mark.parametrize(
    ("overrides"),
    [
        {"display-name": "x" * 191, "owner-email": "e" * 75, "client-id": "c" * 191},
        {"display-name": "x", "owner-email": "e", "client-id": ""},
        {
            "billing-address": address(
                **{"building-number": "1" * 255, "city": "c" * 255, "postal-code": "9" * 80}
            )
        },
        {"billing-address": address(**{"building-number": None})},
        # Lengths count characters, not bytes.
        {"display-name": "\N{SNOWMAN}" * 191, "billing-address": address(country="\N{SNOWMAN}\N{COMET}")},
    ],
)
def test_boundaries_are_accepted(client: Client, overrides: dict[str, Any]) -> None:
    org = client.create_distributor_organization(**kwargs_of(valid_body(**overrides)))
    assert_conforms(CREATE, 200, org)


def test_every_problem_is_reported_at_once(client: Client) -> None:
    _, text = create_error(client, {"display-name": "", "billing-address": {"country": "CHE"}})
    for fragment in (
        "display-name:",
        "owner-email: is required",
        "billing-address.name: is required",
        "billing-address.country:",
        "billing-address.city: is required",
    ):
        assert fragment in text


def test_null_is_a_wrong_type(client: Client) -> None:
    _, text = create_error(client, valid_body(**{"client-id": None}) | {"client-id": None})
    assert "client-id: must be a string, not null" in text


def test_unknown_top_level_fields_are_rejected(http: requests.Session, sim: RunningSimulator) -> None:
    # The official client refuses unknown keyword arguments, so this one goes by hand.
    response = http.post(sim.url + "/distributor/organization", json=valid_body(status="active", id="x"))
    assert response.status_code == 400
    assert_conforms(CREATE, 400, response.json())
    assert response.json()["message"] == "id: unknown field; status: unknown field"


def test_unknown_fields_can_be_ignored(http: requests.Session) -> None:
    with run_simulator(SimulatorConfig(credentials=(ALICE,), unknown_fields="ignore")) as sim:
        body = valid_body(status="active")
        body["billing-address"]["street"] = "ignored"
        response = http.post(sim.url + "/distributor/organization", json=body)
        assert response.status_code == 200, response.text
        org = response.json()
        assert_conforms(CREATE, 200, org)
        assert org["status"] == "created"
        assert "street" not in org["billing-address"]


def post(
    http: requests.Session, sim: RunningSimulator, data: bytes, content_type: str | None
) -> requests.Response:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return http.post(sim.url + "/distributor/organization", data=data, headers=headers)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "body: malformed JSON"),
        (b"{", "body: malformed JSON"),
        (b"{'display-name': 'x'}", "body: malformed JSON"),
        (b"\xff\xfe{}", "body: malformed JSON"),
        (b"[" * 100_00 + b"]" * 100_00, "body: malformed JSON"),
        (b"[]", "body: must be an object, not an array"),
        (b"null", "body: must be an object, not null"),
        (b'"text"', "body: must be an object, not a string"),
        (b'{"display-name": NaN}', "display-name: must be a string, not a number"),
        (b'{"display-name": "\\ud800"}', "display-name: must be valid Unicode"),
        (b'{"display-name": 1' + b"0" * 5000 + b"}", "body: malformed JSON"),
    ],
)
def test_bodies_that_are_not_an_organization_are_400(
    http: requests.Session, sim: RunningSimulator, data: bytes, fragment: str
) -> None:
    response = post(http, sim, data, "application/json")
    assert response.status_code == 400, response.text
    assert_conforms(CREATE, 400, response.json())
    assert fragment in response.json()["message"]


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
def test_create_needs_a_json_content_type(
    http: requests.Session, sim: RunningSimulator, content_type: str | None
) -> None:
    response = post(http, sim, json.dumps(valid_body()).encode(), content_type)
    assert response.status_code == 400
    assert_conforms(CREATE, 400, response.json())
    assert "Content-Type must be application/json" in response.json()["message"]


def test_json_content_type_with_charset_is_fine(http: requests.Session, sim: RunningSimulator) -> None:
    response = post(http, sim, json.dumps(valid_body()).encode(), "application/json; charset=utf-8")
    assert response.status_code == 200


def test_oversized_body_is_413(client: Client) -> None:
    body = valid_body(**{"display-name": "x" * 70_000})
    with pytest.raises(ExoscaleAPIClientException) as info:
        client.create_distributor_organization(**kwargs_of(body))
    assert info.value.response.status_code == 413
    assert_conforms(CREATE, 413, info.value.response.json())
    # The client is still usable afterwards.
    assert "organizations" in client.list_distributor_organizations()


def test_oversized_chunked_body_is_413(sim: RunningSimulator) -> None:
    # No Content-Length: the limit must hold while streaming too. The reference signer cannot
    # sign a streamed body, but the size is checked before the signature.
    chunks = (b"x" * 8192 for _ in range(20))
    response = requests.post(
        sim.url + "/distributor/organization", data=chunks, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_conforms(CREATE, 413, response.json())
