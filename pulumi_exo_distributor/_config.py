"""Where credentials and the endpoint come from: explicit arguments, else the environment."""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ._errors import ConfigurationError

__all__ = ["DEFAULT_ENDPOINT", "ENV_ENDPOINT", "ENV_KEY", "ENV_SECRET", "Credentials", "is_loopback"]

DEFAULT_ENDPOINT = "https://partner-api.exoscale.com/v1.alpha"
ENV_KEY = "EXOSCALE_API_KEY"
ENV_SECRET = "EXOSCALE_API_SECRET"  # noqa: S105 -- the variable's name, not a secret
ENV_ENDPOINT = "EXOSCALE_PARTNER_API_ENDPOINT"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_endpoint(endpoint: str) -> str:
    """Return the endpoint without a trailing slash; refuse plain HTTP except on loopback."""
    import httpx  # only when a client is made: programs and checks never need it

    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"endpoint {endpoint!r} is not a URL: {exc}") from exc
    if url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host)):
        if not url.host:
            raise ConfigurationError(f"endpoint {endpoint!r} has no host")
        return endpoint.rstrip("/")
    raise ConfigurationError(
        f"endpoint {endpoint!r} is not allowed: use https://, or http:// only for a loopback host "
        "(127.0.0.1, ::1, localhost) such as the local simulator"
    )


@dataclass(frozen=True)
class Credentials:
    """An API key pair and the endpoint it is used against. The secret never shows in ``repr``."""

    key: str
    secret: str = field(repr=False)
    endpoint: str = DEFAULT_ENDPOINT

    @classmethod
    def resolve(
        cls,
        key: str | None = None,
        secret: str | None = None,
        endpoint: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Credentials:
        """Arguments win; missing ones come from ``EXOSCALE_API_KEY``, ``EXOSCALE_API_SECRET`` and
        ``EXOSCALE_PARTNER_API_ENDPOINT``."""
        env = os.environ if environ is None else environ
        key = key or env.get(ENV_KEY) or None
        secret = secret or env.get(ENV_SECRET) or None
        endpoint = endpoint or env.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT
        missing = [name for name, value in ((ENV_KEY, key), (ENV_SECRET, secret)) if not value]
        if missing or key is None or secret is None:
            raise ConfigurationError("missing Exoscale credentials: set " + " and ".join(missing))
        return cls(key=key, secret=secret, endpoint=_check_endpoint(endpoint))

    @property
    def key_fingerprint(self) -> str:
        """Names the API key and the endpoint it is used against, without showing the key:
        recorded with each organization, so that a 404 under other credentials, or from another
        endpoint, is never taken for proof that the organization is gone."""
        return "sha256:" + hashlib.sha256(f"{self.endpoint}\n{self.key}".encode()).hexdigest()[:16]
