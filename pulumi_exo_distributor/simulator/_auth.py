"""Verification of EXO2-HMAC-SHA256 request signatures, the server side of ``_signing``."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qs

from .._signing import parse_authorization, sign

__all__ = ["AuthenticationFailed", "verify_request"]

_TIMESTAMP = re.compile(r"[0-9]{1,20}")


class AuthenticationFailed(Exception):
    """The request is not signed by a known credential; the message says why (answered 403)."""


def verify_request(
    *,
    method: str,
    raw_path: str,
    query_string: str,
    body: bytes,
    authorization: str | None,
    credentials: Mapping[str, str],
    now: float,
    max_expiry_s: float,
) -> str:
    """Check the signature of a request and return the API key that signed it.

    ``raw_path`` is the path exactly as sent (still percent-encoded, including ``/v1.alpha``)
    and ``query_string`` the raw query: the client signed what it sent, not what we decode.
    """
    if authorization is None:
        raise AuthenticationFailed("missing Authorization header")
    try:
        pragmas = parse_authorization(authorization)
    except ValueError as exc:
        raise AuthenticationFailed(f"malformed Authorization header: {exc}") from exc
    key = pragmas["credential"]
    secret = credentials.get(key)
    if secret is None:
        raise AuthenticationFailed(f"unknown API key {key[:64]!r}")
    # ASCII digits only: int() would also take "+5", "1_000" or other scripts' digits.
    if not _TIMESTAMP.fullmatch(pragmas["expires"]):
        raise AuthenticationFailed("malformed Authorization header: expires= is not a UNIX timestamp")
    expires = int(pragmas["expires"])
    if expires < now:
        raise AuthenticationFailed(f"the request signature expired at {expires} (now {int(now)})")
    if expires > now + max_expiry_s:
        raise AuthenticationFailed(
            f"the request signature expires too far in the future ({expires}; at most {int(max_expiry_s)} s "
            "from now is accepted)"
        )
    # Same parsing as the reference signer (parse_qs drops blank values): a parameter it
    # leaves out of signed-query-args must be left out here too.
    query = parse_qs(query_string)
    listed = tuple(name for name in pragmas.get("signed-query-args", "").split(";") if name)
    expected = sign(secret, method, raw_path, body, query, expires)
    if listed != expected.signed_query_args:
        raise AuthenticationFailed(
            "signed-query-args must list the query parameters sorted by name: expected "
            f"{';'.join(expected.signed_query_args)!r}, got {';'.join(listed)!r}"
        )
    if not hmac.compare_digest(expected.value.encode(), pragmas["signature"].encode("utf-8", "replace")):
        raise AuthenticationFailed("signature mismatch: check the API secret and what was signed")
    return key
