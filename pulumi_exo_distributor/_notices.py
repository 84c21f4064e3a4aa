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

__all__ = ["warn"]

logger = logging.getLogger("pulumi_exo_distributor")

_lock = threading.Lock()
_engine: Any = None  # the engine's stub, False once known to be out of reach


def _engine_stub() -> Any:
    global _engine
    with _lock:
        if _engine is None:
            _engine = False
            address = engine_address()
            if in_dynamic_provider_host() and ":" in address:
                import grpc
                from pulumi.runtime.proto import engine_pb2_grpc

                _engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        return _engine


def warn(message: str, *, urn: str = "") -> None:
    """Show ``message`` as a warning of the current deployment (of resource ``urn`` if given)."""
    stub = _engine_stub()
    if stub:
        from pulumi.runtime.proto import engine_pb2

        try:
            stub.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message, urn=urn))
        except Exception as exc:  # the engine went away: the message still goes somewhere
            logger.debug("cannot send a warning to the engine: %s", exc)
        else:
            return
    logger.warning("%s", message)
