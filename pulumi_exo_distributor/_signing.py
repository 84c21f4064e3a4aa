"""EXO2-HMAC-SHA256: the message and signature, shared by the client and the simulator.

The reference implementation (``exoscale_auth.ExoscaleV2Auth``) signs the message bytes
directly; the API document's prose ("HMAC of the base64-encoded message") is misleading.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SCHEME = "EXO2-HMAC-SHA256"


@dataclass(frozen=True)
class Signature:
    signed_query_args: tuple[str, ...]
    expires: int
    value: str


def string_to_sign(
    method: str,
    path: str,
    body: bytes,
    query: Mapping[str, Sequence[str]],
    expires: int,
) -> tuple[bytes, tuple[str, ...]]:
    """Build the message to sign and the names listed in ``signed-query-args``.

    ``query`` maps each parameter name to all its values. Like the reference signer, a
    parameter given more than once is named in ``signed-query-args`` but contributes
    no value to the message.
    """
    names = tuple(sorted(query))
    values = "".join(query[name][0] for name in names if len(query[name]) == 1)
    message = b"\n".join(
        [
            f"{method.upper()} {path}".encode(),
            body,
            values.encode(),
            b"",  # header values: none are signed for now
            str(expires).encode(),
        ]
    )
    return message, names


def sign(
    secret: str,
    method: str,
    path: str,
    body: bytes,
    query: Mapping[str, Sequence[str]],
    expires: int,
) -> Signature:
    message, names = string_to_sign(method, path, body, query, expires)
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return Signature(names, expires, base64.standard_b64encode(digest).decode())


def authorization_header(key: str, signature: Signature) -> str:
    parts = [f"{SCHEME} credential={key}"]
    if signature.signed_query_args:
        parts.append("signed-query-args=" + ";".join(signature.signed_query_args))
    parts.append(f"expires={signature.expires}")
    parts.append(f"signature={signature.value}")
    return ",".join(parts)


def parse_authorization(header: str) -> dict[str, str]:
    """Split ``EXO2-HMAC-SHA256 k=v,k=v`` into its pragmas; raise ``ValueError`` if malformed."""
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME or not rest:
        raise ValueError(f"the Authorization header must use the {SCHEME} scheme")
    pragmas: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not name:
            raise ValueError(f"malformed Authorization pragma {item.strip()!r}")
        pragmas[name] = value
    for required in ("credential", "expires", "signature"):
        if required not in pragmas:
            raise ValueError(f"the Authorization header lacks {required}=")
    return pragmas
