"""What an error means and what to do, as the functions and the command say it."""

from __future__ import annotations

import pytest

from pulumi_exo_distributor._config import ENV_ENDPOINT, ENV_KEY, ENV_SECRET
from pulumi_exo_distributor._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ExoDistributorError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from pulumi_exo_distributor._explain import detail, environment_help, hint

OP = "get-distributor-organization"
ERRORS: list[ExoDistributorError] = [
    ConfigurationError("missing Exoscale credentials"),
    AuthenticationError(OP, 403, "forbidden"),
    NotFoundError(OP, 404, "no such organization"),
    RateLimitError(OP, 429, "slow down", 1.0),
    ServerError(OP, 503, "unavailable"),
    TransportError(OP, "connection refused", request_sent=False),
    InvalidRequestError(OP, 422, "bad country"),
    ConflictError(OP, 409, "terminated"),
    APIError(OP, 418, "teapot"),
]


def test_each_kind_of_error_gets_its_own_hint() -> None:
    hints = [hint(error) for error in ERRORS]
    assert len(set(hints)) == len(ERRORS)
    assert hint(ExoDistributorError("other")) == hint(APIError(OP, 418, "teapot"))


def test_the_detail_of_an_answer_names_operation_status_and_message() -> None:
    text = detail(NotFoundError(OP, 404, "no such organization", request_id="req-1"))
    assert all(part in text for part in (OP, "404", "no such organization"))


@pytest.mark.parametrize("error", [ERRORS[0], ERRORS[5]], ids=["configuration", "transport"])
def test_the_detail_of_anything_else_is_the_error_itself(error: ExoDistributorError) -> None:
    assert detail(error) == str(error)


def test_the_default_credentials_help_names_every_variable() -> None:
    assert all(name in environment_help() for name in (ENV_KEY, ENV_SECRET, ENV_ENDPOINT))
    assert hint(ConfigurationError("x")) == environment_help()


def test_where_credentials_come_from_is_said_as_the_caller_says_it() -> None:
    where = "set exo-distributor:key and exo-distributor:secret in the stack's config"
    assert hint(ConfigurationError("x"), credentials_help=where) == where
    assert where in hint(AuthenticationError(OP, 401, "bad signature"), credentials_help=where)
    assert where not in hint(NotFoundError(OP, 404, "gone"), credentials_help=where)


def test_an_unreachable_api_points_at_the_endpoint_setting() -> None:
    assert ENV_ENDPOINT in hint(TransportError(OP, "connection refused", request_sent=False))
