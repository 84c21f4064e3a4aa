"""Which requests suffer which fault, drawn from one seeded generator."""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
from collections.abc import Sequence

__all__ = ["FaultInjector", "abort_connection", "transport_of"]


class FaultInjector:
    """Draws, for each API request independently, a fault kind or ``None``.

    One generator for the whole simulator, behind a lock: with a fixed seed the sequence of
    faults is reproducible for a given order of requests.
    """

    def __init__(self, rate: float, kinds: Sequence[str], seed: int | None) -> None:
        self._rate = rate
        self._kinds = tuple(kinds)
        self._rng = random.Random(seed)  # noqa: S311 -- simulation, not cryptography
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        if self._rate <= 0 or not self._kinds:
            return None
        with self._lock:
            if self._rng.random() >= self._rate:
                return None
            return self._rng.choice(self._kinds)


def transport_of(send: object) -> asyncio.Transport | None:
    """The connection's transport, when ``send`` is uvicorn's (``RequestResponseCycle.send``).

    ASGI offers no way to drop a connection without answering: an app that raises or returns
    without responding gets a 500 written by the server. uvicorn's ``send`` is a bound method
    of the request cycle, which holds the transport; other servers give ``None``.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if isinstance(transport, asyncio.Transport) else None


def abort_connection(transport: asyncio.Transport) -> None:
    """Close the connection with a TCP reset, as a crashing proxy would, without a response."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
