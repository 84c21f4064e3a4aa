"""Request signing as an ``httpx.Auth``: every attempt is signed afresh."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from urllib.parse import parse_qs

import httpx

from . import _signing

__all__ = ["ExoscaleV2Auth"]

#: The reference signer's validity window.
EXPIRY_SECONDS = 600


class ExoscaleV2Auth(httpx.Auth):
    """EXO2-HMAC-SHA256, byte for byte as ``exoscale_auth.ExoscaleV2Auth`` signs."""

    requires_request_body = True

    def __init__(self, key: str, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._secret = secret
        self._clock = clock

    def __repr__(self) -> str:
        return f"ExoscaleV2Auth(key={self._key!r}, secret='***')"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        expires = int(self._clock() + EXPIRY_SECONDS)
        # parse_qs, like the reference: decoded values, blank values dropped.
        query = parse_qs(request.url.query.decode("ascii"))
        path = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        signature = _signing.sign(self._secret, request.method, path, request.content, query, expires)
        request.headers["Authorization"] = _signing.authorization_header(self._key, signature)
        yield request
