"""A provider process's one client (one connection pool), made on first use, and its key's fingerprints.

The client's TLS context is made in a thread while the rest of its stack is imported.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

    from ._client import PartnerClient
    from ._config import StackSettings

__all__ = ["ProcessClient"]


class ProcessClient:
    """Made by the first call that needs the API, with the settings the process has then; every
    front-end (the dynamic provider, the plugin) keeps one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: PartnerClient | None = None
        self._fingerprint: str | None = None
        #: The same key's fingerprint as earlier versions recorded it (without the endpoint).
        self.legacy_fingerprint = ""

    @property
    def made(self) -> bool:
        return self._client is not None

    def get(self, settings: StackSettings) -> PartnerClient:
        with self._lock:
            if self._client is None:
                credentials = settings.credentials()  # first: without them, no HTTP stack
                tls, making = _tls_context_meanwhile()

                from ._client import PartnerClient
                from ._host import api_wait

                self._fingerprint = credentials.key_fingerprint
                self.legacy_fingerprint = credentials.legacy_key_fingerprint
                try:
                    verify = tls.result()
                finally:
                    making.join()
                self._client = PartnerClient(credentials=credentials, waiting=api_wait, verify=verify)
            return self._client

    def fingerprint(self, settings: StackSettings) -> str:
        """The fingerprint of the key the client uses (the client is made if it is not yet)."""
        self.get(settings)
        assert self._fingerprint is not None
        return self._fingerprint


def _tls_context_meanwhile() -> tuple[Future[ssl.SSLContext], threading.Thread]:
    """httpx's own TLS context for a client (the one it would make itself), made in a thread while
    the caller imports the rest of the client's stack: loading the certificate authorities (about
    15 ms) lets go of the interpreter's lock, and the imports (about 60 ms) hold it."""
    import httpx

    made: Future[ssl.SSLContext] = Future()

    def make() -> None:
        try:
            made.set_result(httpx.create_ssl_context())
        except BaseException as exc:
            made.set_exception(exc)

    thread = threading.Thread(target=make, name="exo-distributor-tls", daemon=True)
    thread.start()
    return made, thread
