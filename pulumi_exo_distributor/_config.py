"""Where credentials and the endpoint come from: explicit arguments (the stack's configuration, for
the resource and the functions), else the environment. Every configuration key and environment
variable of the package is declared here.

Stack configuration lives in the package's own namespace, ``exo-distributor``: the bridged Exoscale
provider (``pulumiverse-exoscale``) owns ``exoscale:*`` and refuses keys it does not know there, so
a stack that manages customers and Exoscale resources must not put ours in it. The key pair may
still come from ``exoscale:key`` / ``exoscale:secret``, which both providers read: a distributor
whose partner key is also its infrastructure key sets it once; one with a partner key of its own
sets ``exo-distributor:key`` / ``exo-distributor:secret``, which win.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ._errors import ConfigurationError

__all__ = [
    "CONFIG_ENDPOINT",
    "CONFIG_KEY",
    "CONFIG_NAMESPACE",
    "CONFIG_SECRET",
    "DEFAULT_ENDPOINT",
    "DEPRECATED_CONFIG_ENDPOINT",
    "ENV_ENDPOINT",
    "ENV_EXO_ACCOUNT",
    "ENV_EXO_CONFIG",
    "ENV_KEY",
    "ENV_PULUMI_HOME",
    "ENV_SECRET",
    "SHARED_CONFIG_KEY",
    "SHARED_CONFIG_SECRET",
    "Credentials",
    "StackSettings",
    "exo_cli_account",
    "is_loopback",
    "package_home",
]

DEFAULT_ENDPOINT = "https://partner-api.exoscale.com/v1.alpha"
ENV_KEY = "EXOSCALE_API_KEY"
ENV_SECRET = "EXOSCALE_API_SECRET"  # noqa: S105 -- the variable's name, not a secret
ENV_ENDPOINT = "EXOSCALE_PARTNER_API_ENDPOINT"

#: The `exo` CLI's account (profile) and configuration file, read by the command as `exo` does.
ENV_EXO_ACCOUNT = "EXOSCALE_ACCOUNT"
ENV_EXO_CONFIG = "EXOSCALE_CONFIG"
#: Pulumi's own directory (default ``~/.pulumi``): the package keeps its files beside Pulumi's.
ENV_PULUMI_HOME = "PULUMI_HOME"

#: The package's own stack configuration (set the secret with ``pulumi config set --secret``).
CONFIG_NAMESPACE = "exo-distributor"
CONFIG_KEY = f"{CONFIG_NAMESPACE}:key"
CONFIG_SECRET = f"{CONFIG_NAMESPACE}:secret"
CONFIG_ENDPOINT = f"{CONFIG_NAMESPACE}:endpoint"
#: The key pair of the bridged Exoscale provider, read when the package's own is not set.
SHARED_CONFIG_KEY = "exoscale:key"
SHARED_CONFIG_SECRET = "exoscale:secret"  # noqa: S105 -- the key's name, not a secret
#: Read with a deprecation warning: the bridged provider refuses unknown keys of its namespace.
DEPRECATED_CONFIG_ENDPOINT = "exoscale:partnerApiEndpoint"


@dataclass(frozen=True)
class StackSettings:
    """What a stack's configuration says (each value may be missing: the environment fills in)."""

    key: str | None = None
    secret: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    #: Keys set in a deprecated place, each with the key that replaces it.
    deprecated: tuple[tuple[str, str], ...] = ()

    @classmethod
    def read(cls, get: Callable[[str], str | None]) -> StackSettings:
        """From ``get(full key)``, such as ``pulumi.dynamic.Config.get`` or a stack's config."""
        endpoint = get(CONFIG_ENDPOINT) or None
        deprecated: tuple[tuple[str, str], ...] = ()
        old_endpoint = get(DEPRECATED_CONFIG_ENDPOINT) or None
        if old_endpoint is not None:
            deprecated = ((DEPRECATED_CONFIG_ENDPOINT, CONFIG_ENDPOINT),)
            endpoint = endpoint or old_endpoint
        return cls(
            key=get(CONFIG_KEY) or get(SHARED_CONFIG_KEY) or None,
            secret=get(CONFIG_SECRET) or get(SHARED_CONFIG_SECRET) or None,
            endpoint=endpoint,
            deprecated=deprecated,
        )

    def credentials(self, *, environ: Mapping[str, str] | None = None) -> Credentials:
        return Credentials.resolve(self.key, self.secret, self.endpoint, environ=environ)

    def deprecation_notes(self) -> list[str]:
        return [
            f"the stack configuration key {old} is deprecated: the bridged Exoscale provider refuses "
            f"unknown keys of its namespace. Rename it: `pulumi config rm {old}` and "
            f"`pulumi config set {new} <the same value>`."
            for old, new in self.deprecated
        ]


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

    @property
    def legacy_key_fingerprint(self) -> str:
        """The fingerprint earlier versions recorded: the key alone, without the endpoint."""
        return "sha256:" + hashlib.sha256(self.key.encode()).hexdigest()[:16]


def exo_cli_account(environ: Mapping[str, str] | None = None) -> tuple[str, str, str] | None:
    """The key pair of the `exo` CLI's account, as ``(key, secret, where)``, or ``None``.

    Read as `exo` reads it: the file ``$EXOSCALE_CONFIG``, else
    ``$XDG_CONFIG_HOME/exoscale/exoscale.toml`` (``~/.config/...``); the account named by
    ``$EXOSCALE_ACCOUNT``, else the file's ``defaultAccount``, else its only account. An account
    that is named but absent, or a file that cannot be read, is a :class:`ConfigurationError`
    (never a silent fall-back to another account's key).
    """
    env = os.environ if environ is None else environ
    path = env.get(ENV_EXO_CONFIG) or os.path.join(
        env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config"),
        "exoscale",
        "exoscale.toml",
    )
    if not os.path.isfile(path):
        if env.get(ENV_EXO_CONFIG) or env.get(ENV_EXO_ACCOUNT):
            raise ConfigurationError(f"the exo CLI's configuration {path} does not exist")
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the cli extra brings tomli there
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read the exo CLI's configuration {path}: {exc}") from exc
    accounts = [a for a in document.get("accounts", []) if isinstance(a, dict)]
    by_name = {str(a.get("name")): a for a in accounts}
    wanted = env.get(ENV_EXO_ACCOUNT) or document.get("defaultAccount") or document.get("defaultaccount")
    if wanted is None and len(accounts) == 1:
        wanted = str(accounts[0].get("name"))
    if wanted is None:
        return None
    account = by_name.get(str(wanted))
    if account is None:
        names = ", ".join(sorted(by_name)) or "none"
        raise ConfigurationError(
            f"the exo CLI's configuration {path} has no account {wanted!r} (accounts: {names})"
        )
    key, secret = account.get("key"), account.get("secret")
    if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
        raise ConfigurationError(f"account {wanted!r} of {path} has no key and secret")
    return key, secret, f"account {wanted!r} of {path}"


def package_home() -> Path:
    """``$PULUMI_HOME/exo-distributor``, else ``~/.pulumi/exo-distributor``: where the package keeps
    what must outlive a process (the journal of creates, the deployments' claims)."""
    return Path(os.environ.get(ENV_PULUMI_HOME) or Path.home() / ".pulumi") / "exo-distributor"
