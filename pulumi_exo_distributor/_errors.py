"""The exception tree. Every error names the operation; none carries a credential."""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "DistributorOrganizationError",
    "ExoDistributorError",
    "InvalidArgumentError",
    "InvalidRequestError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "TransportError",
]


class ExoDistributorError(Exception):
    """Root of every error raised by this package."""


class ConfigurationError(ExoDistributorError):
    """Credentials or endpoint are missing or unusable. Raised before any request is sent."""


class TransportError(ExoDistributorError):
    """The request got no HTTP answer: connection refused or reset, timeout, TLS failure."""

    def __init__(self, operation: str, detail: str, *, request_sent: bool) -> None:
        self.operation = operation
        self.detail = detail
        #: False when the request surely never reached the server (safe to retry anything).
        self.request_sent = request_sent
        super().__init__(f"{operation}: no answer from the Partner API: {detail}")


class InvalidArgumentError(ExoDistributorError, ValueError):
    """An argument the API could never accept (an organization id that is not a UUID). Raised
    before any request is sent."""


class APIError(ExoDistributorError):
    """The Partner API answered with an error status."""

    def __init__(
        self, operation: str, status_code: int, message: str, *, request_id: str | None = None
    ) -> None:
        self.operation = operation
        self.status_code = status_code
        #: The server's own message (its ``message`` field, or the start of its body).
        self.message = message
        #: The server's id of the request, when it sends one: what support asks for.
        self.request_id = request_id
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{operation}: HTTP {status_code}: {message}{suffix}")


class InvalidRequestError(APIError):
    """400, 413 or 422: the server rejected the request's content."""


class AuthenticationError(APIError):
    """401 or 403: the key is unknown, the signature wrong or expired, or the key lacks the right."""


class NotFoundError(APIError):
    """404: no such organization for this distributor."""


class ConflictError(APIError):
    """409: the organization's state forbids the operation (for example, it is terminated)."""


class RateLimitError(APIError):
    """429: too many requests."""

    def __init__(
        self,
        operation: str,
        status_code: int,
        message: str,
        retry_after: float | None,
        *,
        request_id: str | None = None,
    ) -> None:
        super().__init__(operation, status_code, message, request_id=request_id)
        #: Seconds the server asked us to wait, from ``Retry-After``.
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


class DistributorOrganizationError(ExoDistributorError):
    """What a user sees when a DistributorOrganization operation fails or is refused: what, on
    which organization, what the server said and what to do."""
