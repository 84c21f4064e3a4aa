"""Signatures: the reference signer is accepted byte for byte; every way of getting it wrong is 403."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from exoscale.api.exceptions import ExoscaleAPIAuthException
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth

from pulumi_exo_distributor._signing import authorization_header, sign
from pulumi_exo_distributor.simulator import RunningSimulator

from .conftest import ALICE, assert_conforms, expiring, names, valid_body

LIST = "list-distributor-organizations"


def forbidden(response: requests.Response, part: str) -> None:
    """403, as the document says of authentication failures, naming ``part``: the header, the
    pragma or the key that is wrong (the wording around it is the simulator's own)."""
    assert response.status_code == 403, response.text
    assert_conforms(LIST, 403, response.json())
    assert names(response.json()["message"], part), response.text


def list_url(sim: RunningSimulator) -> str:
    return sim.url + "/distributor/organization"


def header_for(
    sim: RunningSimulator,
    *,
    key: str = ALICE.key,
    secret: str = ALICE.secret,
    method: str = "GET",
    path: str = "/v1.alpha/distributor/organization",
    body: bytes = b"",
    query: dict[str, list[str]] | None = None,
    expires: int | None = None,
) -> str:
    expires = int(time.time()) + 600 if expires is None else expires
    return authorization_header(key, sign(secret, method, path, body, query or {}, expires))


def test_a_signed_query_string_is_accepted(
    http: requests.Session, sim: RunningSimulator, org: dict[str, Any]
) -> None:
    # The reference signer names period in signed-query-args and signs its value.
    response = http.get(
        sim.url + f"/distributor/organization/{org['id']}/usage", params={"period": "2020-01"}
    )
    assert response.status_code == 200, response.text
    assert "signed-query-args=period" in response.request.headers["Authorization"]


def test_several_query_parameters_are_signed_sorted(
    http: requests.Session, sim: RunningSimulator, org: dict[str, Any]
) -> None:
    url = sim.url + f"/distributor/organization/{org['id']}/usage"
    response = http.get(url, params={"zeta": "1", "period": "2020-01", "alpha": "x"})
    assert response.status_code == 200, response.text
    assert "signed-query-args=alpha;period;zeta" in response.request.headers["Authorization"]


def test_a_signed_body_is_accepted(http: requests.Session, sim: RunningSimulator) -> None:
    response = http.post(list_url(sim), json=valid_body())
    assert response.status_code == 200, response.text


def test_missing_header(sim: RunningSimulator) -> None:
    forbidden(requests.get(list_url(sim)), "Authorization")


def test_the_official_client_with_a_wrong_secret_is_refused(sim: RunningSimulator) -> None:
    client = Client(ALICE.key, "not-the-secret", url=sim.url)
    with pytest.raises(ExoscaleAPIAuthException) as info:
        client.list_distributor_organizations()
    forbidden(info.value.response, "signature")


@pytest.mark.parametrize(
    ("header", "part"),
    [
        pytest.param("Bearer abc", "EXO2-HMAC-SHA256", id="another-scheme"),
        pytest.param("EXO2-HMAC-SHA256", "EXO2-HMAC-SHA256", id="scheme-alone"),
        pytest.param("EXO2-HMAC-SHA256 credential=EXOx,expires=1", "signature", id="no-signature"),
        pytest.param("EXO2-HMAC-SHA256 credential=EXOx,signature=abc", "expires", id="no-expires"),
        pytest.param("EXO2-HMAC-SHA256 expires=1,signature=abc", "credential", id="no-credential"),
        pytest.param(
            "EXO2-HMAC-SHA256 credential,expires=1,signature=abc", "Authorization", id="bare-pragma"
        ),
    ],
)
def test_malformed_headers(sim: RunningSimulator, header: str, part: str) -> None:
    forbidden(requests.get(list_url(sim), headers={"Authorization": header}), part)


def test_expires_must_be_a_timestamp(sim: RunningSimulator) -> None:
    header = header_for(sim).replace("expires=", "expires=soon")
    forbidden(requests.get(list_url(sim), headers={"Authorization": header}), "expires")


def test_unknown_key(sim: RunningSimulator) -> None:
    header = header_for(sim, key="EXOnobody", secret="whatever")
    forbidden(requests.get(list_url(sim), headers={"Authorization": header}), "EXOnobody")


def test_expired_signature(sim: RunningSimulator) -> None:
    forbidden(requests.get(list_url(sim), auth=expiring(-5)), "signature")


def test_signature_expiring_too_late(sim: RunningSimulator) -> None:
    forbidden(requests.get(list_url(sim), auth=expiring(2 * 3600)), "signature")


def test_an_expiry_within_the_hour_is_fine(sim: RunningSimulator) -> None:
    assert requests.get(list_url(sim), auth=expiring(3500)).status_code == 200


def test_a_signature_for_another_path_is_refused(sim: RunningSimulator) -> None:
    # Signed without the /v1.alpha prefix: the server signs the full path.
    header = header_for(sim, path="/distributor/organization")
    forbidden(requests.get(list_url(sim), headers={"Authorization": header}), "signature")


def test_a_signature_for_another_method_is_refused(sim: RunningSimulator) -> None:
    header = header_for(sim, method="POST")
    forbidden(requests.get(list_url(sim), headers={"Authorization": header}), "signature")


def test_a_tampered_body_is_refused(sim: RunningSimulator) -> None:
    signed = b'{"display-name": "a"}'
    header = header_for(sim, method="POST", body=signed)
    response = requests.post(
        list_url(sim),
        data=b'{"display-name": "b"}',
        headers={"Authorization": header, "Content-Type": "application/json"},
    )
    forbidden(response, "signature")


def test_unsigned_query_parameters_are_refused(sim: RunningSimulator, org: dict[str, Any]) -> None:
    url = sim.url + f"/distributor/organization/{org['id']}/usage"
    header = header_for(sim, path=f"/v1.alpha/distributor/organization/{org['id']}/usage")
    forbidden(
        requests.get(url, params={"period": "2020-01"}, headers={"Authorization": header}),
        "signed-query-args",
    )


def test_a_tampered_query_value_is_refused(sim: RunningSimulator, org: dict[str, Any]) -> None:
    path = f"/v1.alpha/distributor/organization/{org['id']}/usage"
    header = header_for(sim, path=path, query={"period": ["2020-01"]})
    response = requests.get(
        sim.url + path.removeprefix("/v1.alpha"),
        params={"period": "2020-02"},
        headers={"Authorization": header},
    )
    forbidden(response, "signature")


def test_signed_query_args_naming_other_parameters_are_refused(
    sim: RunningSimulator, org: dict[str, Any]
) -> None:
    path = f"/v1.alpha/distributor/organization/{org['id']}/usage"
    header = header_for(sim, path=path, query={"period": ["2020-01"]}).replace(
        "signed-query-args=period", "signed-query-args=other"
    )
    response = requests.get(
        sim.url + path.removeprefix("/v1.alpha"),
        params={"period": "2020-01"},
        headers={"Authorization": header},
    )
    forbidden(response, "signed-query-args")


def test_every_path_under_the_prefix_needs_a_signature(sim: RunningSimulator, http: requests.Session) -> None:
    unsigned = requests.get(sim.url + "/no/such/thing")
    forbidden(unsigned, "Authorization")
    signed = http.get(sim.url + "/no/such/thing")
    assert signed.status_code == 404
    assert_conforms(LIST, 404, signed.json())


def test_sim_endpoints_need_no_signature(sim: RunningSimulator) -> None:
    assert requests.get(sim.root_url + "/_sim/stats").status_code == 200


def test_the_reference_signer_and_ours_agree(sim: RunningSimulator) -> None:
    # Byte for byte: sign the same request both ways with the same expiry.
    request = requests.Request("GET", list_url(sim) + "?period=2024-05&b=2").prepare()
    ExoscaleV2Auth(ALICE.key, ALICE.secret)._sign_request(request, 1_900_000_000)
    ours = header_for(sim, query={"b": ["2"], "period": ["2024-05"]}, expires=1_900_000_000)
    assert request.headers["Authorization"] == ours
