"""The client's error mapping, retry rules and configuration, on a mock transport."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
import stamina
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from pulumi_exo_distributor import _errors as errors
from pulumi_exo_distributor._client import PartnerClient, RetryPolicy
from pulumi_exo_distributor._config import Credentials
from pulumi_exo_distributor._models import BillingAddress, OrganizationInput, OrganizationStatus

SECRET = "top-secret-value"
ORG_ID = str(uuid4())
ORG: dict[str, Any] = {
    "id": ORG_ID,
    "status": "created",
    "billing-address": {
        "name": "Acme",
        "country": "CH",
        "city": "Lausanne",
        "postal-code": "1003",
        "street-name": "Rue",
    },
}
NEW_ORG = OrganizationInput(
    display_name="Acme",
    owner_email="ops@acme.example",
    billing_address=BillingAddress(
        name="Acme", country="ch", city="Lausanne", postal_code="1003", street_name="Rue"
    ),
)

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    with stamina.set_testing(True, attempts=5, cap=True):
        yield


def client_with(handler: Handler, *, policy: RetryPolicy | None = None) -> PartnerClient:
    return PartnerClient(
        credentials=Credentials("EXOkey", SECRET, "https://partner-api.example/v1.alpha"),
        transport=httpx.MockTransport(handler),
        retry=policy,
    )


def sequence(*outcomes: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    pending = list(outcomes)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        outcome = pending.pop(0) if len(pending) > 1 else pending[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return handler, seen


def test_create_sends_kebab_case_and_parses_the_answer() -> None:
    handler, seen = sequence(httpx.Response(200, json=ORG))
    org = client_with(handler).create_organization(NEW_ORG)
    assert org.status is OrganizationStatus.CREATED
    assert str(org.id) == ORG_ID
    body = json.loads(seen[0].content)
    assert body == {
        "display-name": "Acme",
        "owner-email": "ops@acme.example",
        "billing-address": {
            "name": "Acme",
            "country": "CH",
            "city": "Lausanne",
            "postal-code": "1003",
            "street-name": "Rue",
        },
    }
    assert seen[0].url.path == "/v1.alpha/distributor/organization"
    assert seen[0].headers["Authorization"].startswith("EXO2-HMAC-SHA256 credential=EXOkey,")


def test_unknown_response_fields_are_tolerated() -> None:
    handler, _ = sequence(httpx.Response(200, json={**ORG, "brand-new-field": {"x": 1}}))
    assert client_with(handler).get_organization(ORG_ID).client_id is None


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, errors.InvalidRequestError),
        (403, errors.AuthenticationError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (413, errors.InvalidRequestError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
def test_error_statuses_map_to_typed_errors(status: int, error: type[errors.APIError]) -> None:
    handler, _ = sequence(httpx.Response(status, json={"message": "the server says no"}))
    with pytest.raises(error) as caught:
        client_with(handler, policy=RetryPolicy.none()).suspend_organization(ORG_ID)
    assert caught.value.status_code == status
    assert caught.value.operation == "suspend-distributor-organization"
    assert caught.value.message == "the server says no"
    assert str(status) in str(caught.value)
    assert SECRET not in str(caught.value)
    assert isinstance(caught.value, errors.ExoDistributorError)


def test_non_json_error_body_is_reported_as_text() -> None:
    handler, _ = sequence(httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(errors.ServerError, match="Bad Gateway"):
        client_with(handler, policy=RetryPolicy.none()).get_organization(ORG_ID)


def test_idempotent_operations_retry_5xx_and_lost_connections() -> None:
    handler, seen = sequence(
        httpx.Response(503, json={"message": "busy"}),
        httpx.ReadError("connection reset"),
        httpx.Response(200, json=ORG),
    )
    assert client_with(handler).get_organization(ORG_ID).status is OrganizationStatus.CREATED
    assert len(seen) == 3


def test_an_operation_waits_on_the_api_inside_the_waiting_context_retries_included() -> None:
    inside = False
    sent_inside: list[bool] = []

    @contextlib.contextmanager
    def waiting() -> Iterator[None]:
        nonlocal inside
        inside = True
        try:
            yield
        finally:
            inside = False

    handler, _ = sequence(httpx.Response(503, json={"message": "busy"}), httpx.Response(200, json=ORG))

    def recording(request: httpx.Request) -> httpx.Response:
        sent_inside.append(inside)
        return handler(request)

    client = PartnerClient(
        credentials=Credentials("EXOkey", SECRET, "https://partner-api.example/v1.alpha"),
        transport=httpx.MockTransport(recording),
        waiting=waiting,
    )
    assert client.get_organization(ORG_ID).status is OrganizationStatus.CREATED
    assert sent_inside == [True, True]
    assert not inside


def test_retries_give_up_after_the_policy_attempts() -> None:
    handler, seen = sequence(httpx.Response(500, json={"message": "boom"}))
    with pytest.raises(errors.ServerError):
        client_with(handler, policy=RetryPolicy(attempts=3)).list_organizations()
    assert len(seen) == 3


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500, json={"message": "boom"}), httpx.ReadError("reset"), httpx.ReadTimeout("slow")],
    ids=["500", "read-error", "read-timeout"],
)
def test_create_is_not_retried_when_the_server_may_have_acted(failure: httpx.Response | Exception) -> None:
    handler, seen = sequence(failure, httpx.Response(200, json=ORG))
    with pytest.raises((errors.ServerError, errors.TransportError)):
        client_with(handler).create_organization(NEW_ORG)
    assert len(seen) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.Response(429, headers={"Retry-After": "1"}, json={"message": "slow"}),
    ],
    ids=["connect-error", "429"],
)
def test_create_is_retried_when_the_request_surely_did_nothing(failure: httpx.Response | Exception) -> None:
    handler, seen = sequence(failure, httpx.Response(200, json=ORG))
    assert str(client_with(handler).create_organization(NEW_ORG).id) == ORG_ID
    assert len(seen) == 2


def test_retry_after_is_honoured_and_capped() -> None:
    waits: list[float] = []

    def record(details: RetryDetails) -> None:
        waits.append(details.wait_for)

    handler, _ = sequence(
        httpx.Response(429, headers={"Retry-After": "0.05"}, json={"message": "slow down"}),
        httpx.Response(429, headers={"Retry-After": "3600"}, json={"message": "slow down"}),
        httpx.Response(200, json={"organizations": [ORG]}),
    )
    policy = RetryPolicy(attempts=3, wait_max=0.1, wait_initial=0.01, wait_jitter=0)
    set_on_retry_hooks([record])
    try:
        with stamina.set_testing(False):
            orgs = client_with(handler, policy=policy).list_organizations()
    finally:
        set_on_retry_hooks(None)
    assert len(orgs) == 1
    assert waits == pytest.approx([0.05, 0.1], abs=0.02)


def test_usage_and_purge_answers() -> None:
    statement = {
        "code": "U-1",
        "currency": "CHF",
        "total-excl-vat": 10,
        "total-incl-vat": 10.81,
        "start-date": "2026-10-01T00:00:00Z",
        "end-date": "2026-10-31T23:59:59Z",
        "usage": [{"product": "compute", "quantity": 1.5, "total-excl-vat": 10, "total-incl-vat": 10.81}],
    }
    handler, seen = sequence(httpx.Response(200, json=[statement]))
    usage = client_with(handler).list_organization_usage(ORG_ID, "2026-10")
    assert usage[0].usage[0].product == "compute"
    assert seen[0].url.params["period"] == "2026-10"
    assert "signed-query-args=period" in seen[0].headers["Authorization"]

    handler, _ = sequence(httpx.Response(202, json={"message": "scheduled"}))
    assert client_with(handler).schedule_purge_organization(ORG_ID).scheduled is True
    handler, _ = sequence(httpx.Response(200, json={"message": "purged"}))
    assert client_with(handler).schedule_purge_organization(ORG_ID).scheduled is False


def test_usage_amounts_stay_exact_as_the_api_wrote_them() -> None:
    # As a float, 12345678901234567.89 would come back as 12345678901234568.
    body = (
        b'[{"currency": "CHF", "total-excl-vat": 12345678901234567.89, "total-incl-vat": 0.10,'
        b' "usage": [{"quantity": 1e-7, "total-excl-vat": 12345678901234567.89}]}]'
    )
    handler, _ = sequence(httpx.Response(200, content=body, headers={"Content-Type": "application/json"}))
    [statement] = client_with(handler).list_organization_usage(ORG_ID, "2026-10")
    assert statement.total_excl_vat == Decimal("12345678901234567.89")
    assert str(statement.total_incl_vat) == "0.10"
    assert statement.usage[0].quantity == Decimal("1e-7")
    assert statement.usage[0].total_excl_vat == Decimal("12345678901234567.89")


def test_a_bad_organization_id_never_reaches_the_network() -> None:
    from pulumi_exo_distributor import ExoDistributorError, InvalidArgumentError

    handler, seen = sequence(httpx.Response(200, json=ORG))
    with pytest.raises(InvalidArgumentError, match="not a UUID") as caught:
        client_with(handler).get_organization("../../other")
    assert isinstance(caught.value, ExoDistributorError)
    assert isinstance(caught.value, ValueError)  # as before the package had its own type for it
    assert seen == []


def test_responses_may_grow_a_status_and_store_more_than_we_send() -> None:
    grown = {
        **ORG,
        "status": "archived",
        "created-at": "2026-01-01T00:00:00Z",
        "billing-address": {**ORG["billing-address"], "name": "N" * 400, "country": "ch", "region": "eu"},
    }
    handler, _ = sequence(httpx.Response(200, json=grown))
    org = client_with(handler).get_organization(ORG_ID)
    assert org.status.value == "archived"
    assert org.billing_address is not None
    assert org.billing_address.name == "N" * 400


def test_an_answer_that_cannot_be_read_is_the_servers_failure() -> None:
    from pulumi_exo_distributor import ServerError

    handler, _ = sequence(httpx.Response(200, json={"id": "not-a-uuid", "status": "active"}))
    with pytest.raises(ServerError, match="get-distributor-organization.*unexpected answer"):
        client_with(handler, policy=RetryPolicy.none()).get_organization(ORG_ID)


def test_api_errors_keep_the_request_id_for_support() -> None:
    from pulumi_exo_distributor import ConflictError

    handler, _ = sequence(
        httpx.Response(409, json={"message": "terminated"}, headers={"X-Request-Id": "req-42"})
    )
    with pytest.raises(ConflictError) as caught:
        client_with(handler, policy=RetryPolicy.none()).suspend_organization(ORG_ID)
    assert caught.value.request_id == "req-42"
    assert "request id req-42" in str(caught.value)


def test_credentials_come_from_arguments_then_environment() -> None:
    env = {"EXOSCALE_API_KEY": "EXOenv", "EXOSCALE_API_SECRET": "envsecret"}
    creds = Credentials.resolve(environ=env)
    assert (creds.key, creds.endpoint) == ("EXOenv", "https://partner-api.exoscale.com/v1.alpha")
    assert Credentials.resolve(key="EXOarg", environ=env).key == "EXOarg"
    assert "envsecret" not in repr(creds)
    with pytest.raises(errors.ConfigurationError, match="EXOSCALE_API_SECRET"):
        Credentials.resolve(environ={"EXOSCALE_API_KEY": "k"})


@pytest.mark.parametrize(
    ("endpoint", "ok"),
    [
        ("https://partner-api.exoscale.com/v1.alpha/", True),
        ("http://127.0.0.1:8080/v1.alpha", True),
        ("http://localhost:1/v1.alpha", True),
        ("http://[::1]:1/v1.alpha", True),
        ("http://partner-api.exoscale.com/v1.alpha", False),
        ("http://10.0.0.1/v1.alpha", False),
        ("ftp://127.0.0.1/", False),
    ],
)
def test_plain_http_only_for_loopback(endpoint: str, ok: bool) -> None:
    env = {"EXOSCALE_API_KEY": "k", "EXOSCALE_API_SECRET": "s", "EXOSCALE_PARTNER_API_ENDPOINT": endpoint}
    if ok:
        assert not Credentials.resolve(environ=env).endpoint.endswith("/")
    else:
        with pytest.raises(errors.ConfigurationError, match="loopback"):
            Credentials.resolve(environ=env)
