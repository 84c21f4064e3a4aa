"""The error tree: what each error keeps for its reader, and that none ever holds a credential."""

from __future__ import annotations

import json

import httpx
import pytest

from pulumi_exo_distributor._client import PartnerClient, RetryPolicy
from pulumi_exo_distributor._config import Credentials
from pulumi_exo_distributor._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    DistributorOrganizationError,
    ExoDistributorError,
    InvalidArgumentError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)

SECRET = "the-secret-that-signs-every-request"
ORG_ID = "6f2b3d6c-0b7e-4c52-9d55-2f1d1c8a0c01"


def test_an_api_error_keeps_operation_status_message_and_request_id() -> None:
    error = ConflictError("suspend-distributor-organization", 409, "terminated", request_id="req-7")
    assert (error.operation, error.status_code, error.message, error.request_id) == (
        "suspend-distributor-organization",
        409,
        "terminated",
        "req-7",
    )
    assert all(
        part in str(error) for part in ("suspend-distributor-organization", "409", "terminated", "req-7")
    )


def test_without_a_request_id_the_message_says_nothing_of_one() -> None:
    error = APIError("get-distributor-organization", 418, "teapot")
    assert error.request_id is None
    assert "request id" not in str(error)
    assert str(error).endswith("teapot")


def test_a_rate_limit_error_keeps_the_wait_the_server_asked_for() -> None:
    error = RateLimitError("list-distributor-organizations", 429, "slow down", 2.5, request_id="r")
    assert (error.retry_after, error.status_code, error.request_id) == (2.5, 429, "r")


@pytest.mark.parametrize("sent", [True, False])
def test_a_transport_error_says_whether_the_request_may_have_reached_the_server(sent: bool) -> None:
    error = TransportError("create-distributor-organization", "connection reset", request_sent=sent)
    assert (error.operation, error.detail, error.request_sent) == (
        "create-distributor-organization",
        "connection reset",
        sent,
    )
    assert "create-distributor-organization" in str(error) and "connection reset" in str(error)


@pytest.mark.parametrize(
    ("error", "is_api_error"),
    [
        (InvalidRequestError, True),
        (AuthenticationError, True),
        (NotFoundError, True),
        (ConflictError, True),
        (RateLimitError, True),
        (ServerError, True),
        (TransportError, False),
        (ConfigurationError, False),
        (InvalidArgumentError, False),
        (DistributorOrganizationError, False),
    ],
)
def test_the_tree_keeps_answers_apart_from_everything_else(
    error: type[Exception], is_api_error: bool
) -> None:
    assert issubclass(error, ExoDistributorError)
    assert issubclass(error, APIError) is is_api_error


def test_an_argument_the_api_could_never_take_is_also_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a UUID"):
        raise InvalidArgumentError("organization id 'x' is not a UUID")


def test_an_error_from_a_server_that_echoes_the_request_holds_no_secret() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        echoed = {"headers": dict(request.headers), "body": request.content.decode()}
        return httpx.Response(400, json={"message": json.dumps(echoed)}, headers={"X-Request-Id": "req-1"})

    client = PartnerClient(
        credentials=Credentials("EXOkey0000000000000000001", SECRET, "https://partner.example/v1.alpha"),
        transport=httpx.MockTransport(echo),
        retry=RetryPolicy.none(),
    )
    with client, pytest.raises(InvalidRequestError) as caught:
        client.suspend_organization(ORG_ID)
    error = caught.value
    assert "Authorization" in error.message or "authorization" in error.message  # the echo is there
    for text in (str(error), repr(error), repr(vars(error)), repr(error.args)):
        assert SECRET not in text
