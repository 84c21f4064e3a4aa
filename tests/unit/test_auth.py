"""Our signer against the reference signer (exoscale_auth.ExoscaleV2Auth), byte for byte."""

from __future__ import annotations

import httpx
import pytest
import requests
from exoscale_auth import ExoscaleV2Auth as ReferenceAuth

from pulumi_exo_distributor._auth import EXPIRY_SECONDS, ExoscaleV2Auth

KEY = "EXOtest0123456789abcdef"
SECRET = "s3cr3t/with+special=chars"
NOW = 1_767_225_600.25
BASE = "https://partner-api.exoscale.com/v1.alpha"
ORG = "3f2b6b8e-9d0c-4d7c-8f4e-2a1b0c9d8e7f"


def reference_header(method: str, url: str, params: list[tuple[str, str]] | None, body: bytes | None) -> str:
    prepared = requests.Request(method, url, params=params, data=body).prepare()
    ReferenceAuth(KEY, SECRET)._sign_request(prepared, int(NOW + EXPIRY_SECONDS))
    return str(prepared.headers["Authorization"])


def our_header(method: str, url: str, params: list[tuple[str, str]] | None, body: bytes | None) -> str:
    request = httpx.Request(method, url, params=list(params) if params is not None else None, content=body)
    flow = ExoscaleV2Auth(KEY, SECRET, clock=lambda: NOW).auth_flow(request)
    signed = next(flow)
    return signed.headers["Authorization"]


CASES = [
    ("GET", f"{BASE}/distributor/organization", None, None),
    ("GET", f"{BASE}/distributor/organization/{ORG}", None, None),
    ("PUT", f"{BASE}/distributor/organization/{ORG}:suspend", None, None),
    ("DELETE", f"{BASE}/distributor/organization/{ORG}:terminate", None, None),
    ("GET", f"{BASE}/distributor/organization/{ORG}/usage", [("period", "2026-10")], None),
    ("GET", f"{BASE}/x", [("zeta", "1"), ("alpha", "2"), ("mid", "three")], None),
    ("GET", f"{BASE}/x", [("dup", "a"), ("dup", "b"), ("one", "1")], None),
    ("GET", f"{BASE}/x", [("blank", ""), ("q", "v")], None),
    ("GET", f"{BASE}/x", [("q", "Zürich & Genève/1+1=2")], None),
    (
        "POST",
        f"{BASE}/distributor/organization",
        None,
        '{"display-name": "Acme SA", "owner-email": "ops@acme.example", '
        '"billing-address": {"name": "Acmé", "country": "CH"}}'.encode(),
    ),
    ("POST", f"{BASE}/distributor/organization", [("dry", "1")], b"{}"),
]


@pytest.mark.parametrize(("method", "url", "params", "body"), CASES)
def test_signature_matches_reference(
    method: str, url: str, params: list[tuple[str, str]] | None, body: bytes | None
) -> None:
    ours = our_header(method, url, params, body)
    assert ours == reference_header(method, url, params, body)
    assert f"expires={int(NOW + EXPIRY_SECONDS)}" in ours


def test_signature_changes_with_every_signed_part() -> None:
    base = our_header("GET", f"{BASE}/x", [("p", "1")], None)
    variants = [
        our_header("PUT", f"{BASE}/x", [("p", "1")], None),
        our_header("GET", f"{BASE}/y", [("p", "1")], None),
        our_header("GET", f"{BASE}/x", [("p", "2")], None),
        our_header("GET", f"{BASE}/x", [("p", "1")], b"body"),
    ]
    signatures = {h.rsplit("signature=", 1)[1] for h in [base, *variants]}
    assert len(signatures) == 5


def test_every_attempt_is_signed_with_a_fresh_expiry() -> None:
    clock = iter([100.0, 200.0])
    auth = ExoscaleV2Auth(KEY, SECRET, clock=lambda: next(clock))
    first = next(auth.auth_flow(httpx.Request("GET", f"{BASE}/x"))).headers["Authorization"]
    second = next(auth.auth_flow(httpx.Request("GET", f"{BASE}/x"))).headers["Authorization"]
    assert "expires=700," in first
    assert "expires=800," in second


def test_secret_not_in_repr() -> None:
    auth = ExoscaleV2Auth(KEY, SECRET)
    assert SECRET not in repr(auth)
    assert KEY in repr(auth)
