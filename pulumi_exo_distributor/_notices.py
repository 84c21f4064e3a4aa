"""Warnings the engine shows as warnings, from inside the dynamic-provider host.

The host (``python -m pulumi.dynamic``) has no connection to the engine's log: what a provider
writes to stderr reaches the CLI as an undistinguished info line, or not at all with ``--json``.
What a person must see (an organization left running, no longer managed) is sent to the engine's
``Log`` service instead, as a warning, the way Pulumi's own provider SDK does: the engine gives
every provider plugin its address as the first argument. Elsewhere (tests, the command) a
warning goes to the package's logger.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ._host import engine_address, in_dynamic_provider_host

__all__ = ["EngineLog", "warn"]

logger = logging.getLogger("pulumi_exo_distributor")


class EngineLog:
    """Warnings of the deployment whose engine listens at ``address``, sent to its ``Log`` service;
    the package's logger when the engine is out of reach."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._lock = threading.Lock()
        self._engine: Any = None  # the engine's stub, False once known to be out of reach

    def _stub(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = False
                if ":" in self._address:
                    import grpc
                    from pulumi.runtime.proto import engine_pb2_grpc

                    self._engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
            return self._engine

    def warn(self, message: str, *, urn: str = "") -> None:
        """Show ``message`` as a warning of the deployment (of resource ``urn`` if given)."""
        stub = self._stub()
        if stub:
            from pulumi.runtime.proto import engine_pb2

            try:
                stub.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message, urn=urn))
            except Exception as exc:  # the engine went away: the message still goes somewhere
                logger.debug("cannot send a warning to the engine: %s", exc)
            else:
                return
        logger.warning("%s", message)


_lock = threading.Lock()
_host_log: EngineLog | None = None


def warn(message: str, *, urn: str = "") -> None:
    """Show ``message`` as a warning of the current deployment (of resource ``urn`` if given): to
    the engine from the dynamic-provider host, to the package's logger elsewhere."""
    global _host_log
    with _lock:
        if _host_log is None:
            _host_log = EngineLog(engine_address() if in_dynamic_provider_host() else "")
    _host_log.warn(message, urn=urn)
