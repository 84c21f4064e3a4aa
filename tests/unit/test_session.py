"""A provider process's one client: made once, with the TLS context httpx would make itself."""

from __future__ import annotations

import ssl
import threading
from typing import Any

import httpx
import pytest

from pulumi_exo_distributor._config import StackSettings
from pulumi_exo_distributor._session import ProcessClient

SETTINGS = StackSettings(key="EXO" + "0" * 24, secret="s", endpoint="https://api.example/v2")


def tls_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "exo-distributor-tls"]


def test_the_client_is_made_once_with_httpxs_own_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[ssl.SSLContext] = []
    create = httpx.create_ssl_context

    def recording_create(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        assert (args, kwargs) == ((), {})  # httpx's defaults: verify, the environment's CA settings
        made.append(create())
        return made[-1]

    given: list[Any] = []
    client_init = httpx.Client.__init__

    def recording_init(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        given.append(kwargs.get("verify"))
        client_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx, "create_ssl_context", recording_create)
    monkeypatch.setattr(httpx.Client, "__init__", recording_init)
    session = ProcessClient()
    client = session.get(SETTINGS)
    assert session.get(SETTINGS) is client
    assert len(made) == 1 and given == [made[0]]
    assert tls_threads() == []  # its thread ended with the client's making
    client.close()


def test_a_tls_context_that_cannot_be_made_fails_as_httpx_would(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(OSError) as direct:
        httpx.Client()
    session = ProcessClient()
    with pytest.raises(type(direct.value)):
        session.get(SETTINGS)
    assert not session.made
    assert tls_threads() == []
