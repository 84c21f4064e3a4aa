"""What an error means to a user and what to do about it, for the functions and the command.

The resource's provider has its own wording (it speaks of `pulumi refresh` and `adopt_id`); the
read-only tools share this one. Nothing here imports more than the error classes.
"""

from __future__ import annotations

from ._errors import (
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

__all__ = ["detail", "environment_help", "hint"]


def environment_help() -> str:
    """How to give credentials through the environment (what the command reads)."""
    from ._config import ENV_ENDPOINT, ENV_KEY, ENV_SECRET

    return (
        f"set {ENV_KEY} and {ENV_SECRET} (and {ENV_ENDPOINT} for another endpoint than Exoscale's, "
        "such as the local simulator)"
    )


def detail(error: ExoDistributorError) -> str:
    """What failed, as the server or the transport said it; never a credential."""
    if isinstance(error, APIError):
        return f"{error.operation} answered HTTP {error.status_code}: {error.message}"
    return str(error)


def hint(error: ExoDistributorError, *, credentials_help: str | None = None) -> str:
    """What to do about ``error``; ``credentials_help`` says where credentials come from (default:
    the environment variables)."""
    from ._config import ENV_ENDPOINT

    credentials_help = credentials_help or environment_help()
    if isinstance(error, ConfigurationError):
        return credentials_help
    if isinstance(error, AuthenticationError):
        return (
            "the Partner API refused the credentials (unknown key, wrong secret, or a key without the "
            f"distributor right): check them; {credentials_help}"
        )
    if isinstance(error, NotFoundError):
        return (
            "no such organization for these credentials: check the id (`exo-distributor orgs list`); "
            "a key of another distributor account also gets this answer"
        )
    if isinstance(error, RateLimitError):
        return "the Partner API kept answering 'too many requests' through every retry: try again later"
    if isinstance(error, ServerError):
        return (
            "the Partner API failed through every retry: try again later; if it persists, contact "
            "Exoscale support"
        )
    if isinstance(error, TransportError):
        return f"the Partner API could not be reached: check the endpoint ({ENV_ENDPOINT}) and the network"
    if isinstance(error, InvalidRequestError):
        return "the Partner API refused the request's content: check the value the message names"
    if isinstance(error, ConflictError):
        return "the organization's status forbids this operation (it is probably terminated)"
    return "try again later; if it persists, contact Exoscale support"
