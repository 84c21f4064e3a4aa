"""The typed Partner API client: eight operations, signed, with timeouts and safe retries."""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import httpx
import stamina
from pydantic import BaseModel, ValidationError

from ._auth import ExoscaleV2Auth
from ._config import Credentials
from ._errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    InvalidArgumentError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._models import Organization, OrganizationInput, PurgeResult, UsageStatement
from ._throttle import Throttle

__all__ = ["DEFAULT_TIMEOUT", "PartnerClient", "RetryPolicy"]

logger = logging.getLogger("pulumi_exo_distributor")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

# Errors a request surely never caused on the server: the connection was never made,
# or no connection was free to send it on.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried: capped exponential backoff with jitter.

    Only what is safe is retried: 429 (honouring ``Retry-After`` up to ``wait_max``),
    5xx and lost connections for idempotent operations; for create, only where the
    request surely never reached the server (connection not made, or 429).
    ``stamina.set_testing(True)`` makes the waits instant in tests.
    """

    attempts: int = 5
    #: Cap on the total time spent retrying one operation, in seconds.
    timeout: float = 90.0
    wait_initial: float = 0.5
    wait_max: float = 10.0
    wait_jitter: float = 1.0

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(attempts=1)

    def attempts_on(self, on: Callable[[Exception], bool | float]) -> Iterable[stamina.Attempt]:
        """stamina's retry context with this policy's numbers, retrying what ``on`` accepts."""
        return stamina.retry_context(
            on=on,
            attempts=self.attempts,
            timeout=self.timeout,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
            wait_jitter=self.wait_jitter,
        )


_ERRORS_BY_STATUS: Mapping[int, type[APIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    413: InvalidRequestError,
    422: InvalidRequestError,
}


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    text = response.text.strip()
    return text[:500] if text else response.reason_phrase


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare enough to fall back to our own backoff


#: Headers a server may name a request by; support asks for it.
_REQUEST_ID_HEADERS = ("x-request-id", "x-exoscale-request-id", "request-id")


def _error_for(operation: str, response: httpx.Response) -> APIError:
    """The typed error for an error response."""
    status = response.status_code
    message = _server_message(response)
    request_id = next((response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None)
    if status == 429:
        return RateLimitError(operation, status, message, _retry_after(response), request_id=request_id)
    if status >= 500:
        return ServerError(operation, status, message, request_id=request_id)
    return _ERRORS_BY_STATUS.get(status, APIError)(operation, status, message, request_id=request_id)


_M = TypeVar("_M", bound=BaseModel)


def _parse(model: type[_M], operation: str, body: object) -> _M:
    """A response body as ``model``; an answer the model cannot read is the server's failure."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ServerError(
            operation,
            200,
            f"unexpected answer: {exc.error_count()} problem(s), first: "
            f"{exc.errors()[0]['msg']} at {'.'.join(map(str, exc.errors()[0]['loc']))}",
        ) from exc


class PartnerClient:
    """Client of the Exoscale Partner API's distributor operations.

    Credentials and endpoint come from the arguments, else from ``EXOSCALE_API_KEY``,
    ``EXOSCALE_API_SECRET`` and ``EXOSCALE_PARTNER_API_ENDPOINT``. One connection pool per
    client: use it as a context manager or call :meth:`close`. ``waiting`` is entered around each
    operation's requests, retries and waits: the dynamic-provider host's
    :func:`~pulumi_exo_distributor._host.api_wait`. ``verify`` is httpx's: ``True`` for the TLS
    context httpx makes itself, or one made already (:func:`httpx.create_ssl_context`).
    """

    def __init__(
        self,
        key: str | None = None,
        secret: str | None = None,
        endpoint: str | None = None,
        *,
        credentials: Credentials | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        waiting: Callable[[], AbstractContextManager[object]] = nullcontext,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        creds = credentials or Credentials.resolve(key, secret, endpoint)
        self.endpoint = creds.endpoint
        #: Names the endpoint and key without showing the key (a cache of usage is kept per key).
        self.key_fingerprint = creds.key_fingerprint
        self.retry = retry or RetryPolicy()
        self._throttle = Throttle()
        self._waiting = waiting
        self._http = httpx.Client(
            base_url=creds.endpoint + "/",
            auth=ExoscaleV2Auth(creds.key, creds.secret),
            timeout=timeout,
            transport=transport,
            verify=verify,
            headers={"Accept": "application/json", "User-Agent": "pulumi-exo-distributor"},
        )

    def __repr__(self) -> str:
        return f"PartnerClient(endpoint={self.endpoint!r})"

    def __enter__(self) -> PartnerClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- operations --------------------------------------------------------------------------

    def create_organization(self, organization: OrganizationInput) -> Organization:
        """create-distributor-organization. Not idempotent: retried only where surely not received."""
        body = self._call(
            "create-distributor-organization",
            "POST",
            "distributor/organization",
            json=organization.to_wire(),
            idempotent=False,
        )
        return _parse(Organization, "create-distributor-organization", body)

    def get_organization(self, organization_id: UUID | str) -> Organization:
        body = self._call("get-distributor-organization", "GET", _org_path(organization_id))
        return _parse(Organization, "get-distributor-organization", body)

    def list_organizations(self) -> list[Organization]:
        body = self._call("list-distributor-organizations", "GET", "distributor/organization")
        items = body.get("organizations") or []
        return [_parse(Organization, "list-distributor-organizations", item) for item in items]

    def activate_organization(self, organization_id: UUID | str) -> Organization:
        """activate-distributor-organization (idempotent on an active organization)."""
        body = self._call(
            "activate-distributor-organization", "PUT", _org_path(organization_id) + ":activate"
        )
        return _parse(Organization, "activate-distributor-organization", body)

    def suspend_organization(self, organization_id: UUID | str) -> Organization:
        """suspend-distributor-organization (idempotent on a suspended organization)."""
        body = self._call("suspend-distributor-organization", "PUT", _org_path(organization_id) + ":suspend")
        return _parse(Organization, "suspend-distributor-organization", body)

    def terminate_organization(self, organization_id: UUID | str) -> str:
        """terminate-distributor-organization; returns the server's message."""
        body = self._call(
            "terminate-distributor-organization", "DELETE", _org_path(organization_id) + ":terminate"
        )
        return str(body.get("message", ""))

    def schedule_purge_organization(self, organization_id: UUID | str) -> PurgeResult:
        """schedule-purge-distributor-organization: 200 purged, 202 scheduled."""
        response = self._send(
            "schedule-purge-distributor-organization",
            "PUT",
            _org_path(organization_id) + ":schedule-purge",
        )
        body = _json_object("schedule-purge-distributor-organization", response)
        return PurgeResult(scheduled=response.status_code == 202, message=body.get("message"))

    def list_organization_usage(
        self, organization_id: UUID | str, period: str | None = None
    ) -> list[UsageStatement]:
        """list-distributor-organization-usage for ``period`` (``YYYY-MM``)."""
        operation = "list-distributor-organization-usage"
        response = self._send(
            operation,
            "GET",
            _org_path(organization_id) + "/usage",
            params={"period": period} if period is not None else None,
        )
        body = _json(operation, response, exact=True)
        if not isinstance(body, list):
            raise ServerError(operation, response.status_code, "expected a JSON list of usage statements")
        return [_parse(UsageStatement, operation, item) for item in body]

    # -- plumbing ----------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Mapping[str, object] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        return _json_object(operation, self._send(operation, method, path, json=json, idempotent=idempotent))

    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        policy = self.retry

        def retry_on(exc: Exception) -> bool | float:
            if isinstance(exc, RateLimitError):
                return True if exc.retry_after is None else min(exc.retry_after, policy.wait_max)
            if isinstance(exc, TransportError):
                return idempotent or not exc.request_sent
            return isinstance(exc, ServerError) and idempotent

        with self._waiting():
            for attempt in policy.attempts_on(retry_on):
                with attempt:
                    return self._send_once(operation, method, path, json=json, params=params)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    def _send_once(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Mapping[str, object] | None,
        params: Mapping[str, str] | None,
    ) -> httpx.Response:
        with self._throttle.slot() as throttled:
            started = time.monotonic()
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                elapsed = time.monotonic() - started
                logger.debug("%s %s: %s after %.3fs", operation, method, type(exc).__name__, elapsed)
                raise TransportError(
                    operation, f"{type(exc).__name__}: {exc}", request_sent=not isinstance(exc, _NOT_SENT)
                ) from exc
            if response.status_code == 429:
                # Every thread of this client waits, not only this one (see _throttle), as long
                # as the retry itself would.
                retry_after = _retry_after(response)
                throttled(None if retry_after is None else min(retry_after, self.retry.wait_max))
        logger.debug(
            "%s %s %s -> %d in %.3fs",
            operation,
            method,
            response.url.path,
            response.status_code,
            time.monotonic() - started,
        )
        if response.is_error:
            raise _error_for(operation, response)
        return response


def _org_path(organization_id: UUID | str) -> str:
    # Validating here keeps a stray path segment (or an empty id) out of the URL.
    try:
        return f"distributor/organization/{UUID(str(organization_id))}"
    except ValueError:
        raise InvalidArgumentError(f"organization id {str(organization_id)!r} is not a UUID") from None


def _json(operation: str, response: httpx.Response, *, exact: bool = False) -> Any:
    try:
        if exact:
            # Amounts as the API wrote them: read as a float, 12345678901234567.89 would come
            # back as 12345678901234568.
            return json.loads(response.content, parse_float=Decimal)
        return response.json()
    except ValueError:
        raise ServerError(operation, response.status_code, "the answer is not JSON") from None


def _json_object(operation: str, response: httpx.Response) -> dict[str, Any]:
    body = _json(operation, response)
    if not isinstance(body, dict):
        kind = type(body).__name__
        raise ServerError(operation, response.status_code, f"expected a JSON object, got {kind}")
    return body
