"""Create validation: every rule of organization-input, wrong types, bodies that are not JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from exoscale.api.exceptions import ExoscaleAPIClientException
from exoscale.api.partner import Client

from pulumi_exo_distributor.simulator import RunningSimulator, SimulatorConfig, run_simulator

from .conftest import ALICE, assert_conforms, kwargs_of, names, valid_body

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


# (rule, body overrides, the field the error must name): one case per rule of the document, each
# a distinct limit or type. The wording of the message is the simulator's own and is not checked.
INVALID = [
    ("display-name-missing", {"display-name": None}, "display-name"),
    ("display-name-empty", {"display-name": ""}, "display-name"),
    ("display-name-too-long", {"display-name": "x" * 192}, "display-name"),
    ("display-name-not-a-string", {"display-name": 42}, "display-name"),
    ("owner-email-missing", {"owner-email": None}, "owner-email"),
    ("owner-email-empty", {"owner-email": ""}, "owner-email"),
    ("owner-email-too-long", {"owner-email": "a" * 64 + "@example.com"}, "owner-email"),
    ("owner-email-not-a-string", {"owner-email": ["a@b.c"]}, "owner-email"),
    ("client-id-too-long", {"client-id": "c" * 192}, "client-id"),
    ("client-id-not-a-string", {"client-id": True}, "client-id"),
    ("billing-address-missing", {"billing-address": None}, "billing-address"),
    ("billing-address-not-an-object", {"billing-address": "Rue du Lac 12"}, "billing-address"),
    ("name-missing", {"billing-address": address(name=None)}, "billing-address.name"),
    ("name-empty", {"billing-address": address(name="")}, "billing-address.name"),
    ("country-missing", {"billing-address": address(country=None)}, "billing-address.country"),
    ("country-too-short", {"billing-address": address(country="C")}, "billing-address.country"),
    ("country-too-long", {"billing-address": address(country="CHE")}, "billing-address.country"),
    ("country-not-a-string", {"billing-address": address(country=41)}, "billing-address.country"),
    ("city-missing", {"billing-address": address(city=None)}, "billing-address.city"),
    ("city-empty", {"billing-address": address(city="")}, "billing-address.city"),
    ("city-too-long", {"billing-address": address(city="x" * 256)}, "billing-address.city"),
    (
        "postal-code-missing",
        {"billing-address": address(**{"postal-code": None})},
        "billing-address.postal-code",
    ),
    (
        "postal-code-too-long",
        {"billing-address": address(**{"postal-code": "9" * 81})},
        "billing-address.postal-code",
    ),
    (
        "street-name-missing",
        {"billing-address": address(**{"street-name": None})},
        "billing-address.street-name",
    ),
    (
        "street-name-empty",
        {"billing-address": address(**{"street-name": ""})},
        "billing-address.street-name",
    ),
    (
        "building-number-too-long",
        {"billing-address": address(**{"building-number": "1" * 256})},
        "billing-address.building-number",
    ),
    ("address-empty", {"billing-address": address(address="")}, "billing-address.address"),
    ("address-not-a-string", {"billing-address": address(address={"line": 1})}, "billing-address.address"),
    ("unknown-address-field", {"billing-address": address(street="Main")}, "billing-address.street"),
]


@pytest.mark.parametrize(
    ("overrides", "field"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_each_rule_is_enforced_and_names_the_field(
    client: Client, overrides: dict[str, Any], field: str
) -> None:
    status, text = create_error(client, valid_body(**overrides))
    assert status == 400
    assert names(text, field), text


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
    status, text = create_error(client, {"display-name": "", "billing-address": {"country": "CHE"}})
    assert status == 400
    for field in (
        "display-name",
        "owner-email",
        "billing-address.name",
        "billing-address.country",
        "billing-address.city",
        "billing-address.postal-code",
        "billing-address.street-name",
    ):
        assert names(text, field), (field, text)


def test_null_is_a_wrong_type_not_an_absent_field(client: Client) -> None:
    # client-id may be left out (test_operations), but null is not a string.
    status, text = create_error(client, valid_body(**{"client-id": None}) | {"client-id": None})
    assert status == 400
    assert names(text, "client-id"), text


def test_unknown_top_level_fields_are_rejected(http: requests.Session, sim: RunningSimulator) -> None:
    # The official client refuses unknown keyword arguments, so this one goes by hand.
    response = http.post(sim.url + "/distributor/organization", json=valid_body(status="active", id="x"))
    assert response.status_code == 400
    assert_conforms(CREATE, 400, response.json())
    message = response.json()["message"]
    assert names(message, "id"), message
    assert names(message, "status"), message


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


# (what is wrong, the body, the field the error must name or None when it is the whole body)
NOT_AN_ORGANIZATION = [
    ("empty", b"", None),
    ("truncated", b"{", None),
    ("single-quoted", b"{'display-name': 'x'}", None),
    ("not-utf-8", b"\xff\xfe{}", None),
    ("nested-too-deep", b"[" * 100_00 + b"]" * 100_00, None),
    ("number-too-long", b'{"display-name": 1' + b"0" * 5000 + b"}", None),
    ("an-array", b"[]", None),
    ("null", b"null", None),
    ("a-string", b'"text"', None),
    ("nan-for-a-string", b'{"display-name": NaN}', "display-name"),
    ("lone-surrogate", b'{"display-name": "\\ud800"}', "display-name"),
]


@pytest.mark.parametrize(
    ("data", "field"),
    [case[1:] for case in NOT_AN_ORGANIZATION],
    ids=[case[0] for case in NOT_AN_ORGANIZATION],
)
def test_bodies_that_are_not_an_organization_are_400(
    http: requests.Session, sim: RunningSimulator, data: bytes, field: str | None
) -> None:
    response = post(http, sim, data, "application/json")
    assert response.status_code == 400, response.text
    assert_conforms(CREATE, 400, response.json())
    if field is not None:
        assert names(response.json()["message"], field), response.text


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
def test_create_needs_a_json_content_type(
    http: requests.Session, sim: RunningSimulator, content_type: str | None
) -> None:
    response = post(http, sim, json.dumps(valid_body()).encode(), content_type)
    assert response.status_code == 400
    assert_conforms(CREATE, 400, response.json())
    assert names(response.json()["message"], "Content-Type"), response.text


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
