"""Running the simulator: in a background thread, or as a ``python -m`` subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import uvicorn
from starlette.applications import Starlette

from .._config import is_loopback
from ._app import API_PREFIX, create_app, simulator_of
from ._clock import Clock
from ._settings import Credential, SimulatorConfig, server_args

__all__ = [
    "RunningSimulator",
    "SimulatorProcess",
    "bind_socket",
    "is_loopback",
    "run_simulator",
    "simulator_process",
]

#: The ready line: ``ready http://127.0.0.1:PORT/v1.alpha``.
READY_PREFIX = "ready "


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound (not yet listening) TCP socket; port 0 lets the system pick a free one."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://HOST:PORT/v1.alpha`` for a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{API_PREFIX}"


class ReadyServer(uvicorn.Server):
    """A uvicorn server that calls ``on_ready`` once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_ready()


def uvicorn_config(app: Starlette, *, log_config: dict[str, Any] | None, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        # h11 is what the connection-dropping faults are verified with.
        http="h11",
        lifespan="on",
        log_config=log_config,
        log_level=log_level,
        access_log=log_config is not None,
        # A request held by a ``slow`` fault must not hold up a shutdown for long.
        timeout_graceful_shutdown=3,
    )


@dataclass
class _Endpoint:
    """Where a simulator answers, and for whom."""

    #: The API base URL, ``http://127.0.0.1:PORT/v1.alpha``: give it to a client as its endpoint.
    url: str
    #: The accepted credentials (the demo one when none were configured).
    credentials: tuple[Credential, ...]

    @property
    def credential(self) -> Credential:
        """The first credential, for tests that need only one distributor."""
        return self.credentials[0]

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``, where ``/_sim/stats`` lives."""
        return self.url[: -len(API_PREFIX)]


@dataclass
class RunningSimulator(_Endpoint):
    """A simulator serving in a background thread of this process (see :func:`run_simulator`)."""

    config: SimulatorConfig
    app: Starlette = field(repr=False)

    def stats(self) -> dict[str, int]:
        """Requests received per operationId since start or the last :meth:`reset_stats`."""
        return simulator_of(self.app).stats.snapshot()

    def reset_stats(self) -> None:
        simulator_of(self.app).stats.reset()


@contextlib.contextmanager
def run_simulator(
    config: SimulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 15.0,
    clock: Clock = time.time,
) -> Iterator[RunningSimulator]:
    """Serve a fresh simulator on ``host:port`` (default: a free loopback port) in a thread.

    ``clock`` is the simulated world's time (see :func:`create_app`): give a
    :class:`ManualClock` to decide in a test when a purge deadline passes.

    >>> with run_simulator(SimulatorConfig(initial_status="active")) as sim:
    ...     client = Client(sim.credential.key, sim.credential.secret, url=sim.url)

    The server stops, and its store is closed, when the block exits. Logs go to the
    ``uvicorn`` loggers at WARNING and above; nothing is printed.
    """
    config = config or SimulatorConfig()
    app = create_app(config, clock=clock)
    sock = bind_socket(host, port)
    url = base_url(sock)
    ready = threading.Event()
    server = ReadyServer(uvicorn_config(app, log_config=None, log_level="warning"), on_ready=ready.set)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"simulator {url}", daemon=True
    )
    thread.start()
    try:
        while not ready.wait(0.05):
            if not thread.is_alive():
                raise RuntimeError(
                    f"the simulator at {url} stopped before it was ready (see the uvicorn log)"
                )
            startup_timeout -= 0.05
            if startup_timeout <= 0:
                raise RuntimeError(f"the simulator at {url} was not ready in time")
        yield RunningSimulator(url=url, credentials=config.effective_credentials, config=config, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@dataclass
class SimulatorProcess(_Endpoint):
    """A simulator running as a child process (see :func:`simulator_process`)."""

    process: subprocess.Popen[bytes] = field(repr=False)
    _stderr: IO[bytes] = field(repr=False)

    def stats(self) -> dict[str, int]:
        """Requests received per operationId, from ``GET /_sim/stats``."""
        with urllib.request.urlopen(self.root_url + "/_sim/stats", timeout=10) as response:  # noqa: S310
            operations: dict[str, int] = json.load(response)["operations"]
        return operations

    def reset_stats(self) -> None:
        request = urllib.request.Request(self.root_url + "/_sim/reset-stats", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def stderr_text(self) -> str:
        """What the process wrote on stderr so far (uvicorn's log, the demo credential)."""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait, and return the exit status (killed if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextlib.contextmanager
def simulator_process(
    config: SimulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    extra_args: Sequence[str] = (),
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30.0,
) -> Iterator[SimulatorProcess]:
    """Start ``python -m pulumi_exo_distributor.simulator`` and wait for its ready line.

    The flags come from ``config.to_args()`` plus ``extra_args``. stdout carries only the ready
    line; stderr goes to a temporary file (:meth:`SimulatorProcess.stderr_text`). On exit the
    process gets SIGTERM (then SIGKILL if it lingers).
    """
    config = config or SimulatorConfig()
    args = [
        python,
        "-m",
        "pulumi_exo_distributor.simulator",
        *server_args(host=host, port=port),
        *config.to_args(),
        *extra_args,
    ]
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the process
    process = subprocess.Popen(  # noqa: S603 -- our own module, with arguments we built
        args, stdout=subprocess.PIPE, stderr=stderr, env=None if env is None else dict(env)
    )
    handle = SimulatorProcess(
        url="", credentials=config.effective_credentials, process=process, _stderr=stderr
    )
    try:
        assert process.stdout is not None
        line = _read_line(process.stdout, ready_timeout)
        if line is None or not line.startswith(READY_PREFIX):
            handle.stop()
            raise RuntimeError(
                f"the simulator did not print its ready line (got {line!r}); stderr:\n{handle.stderr_text()}"
            )
        handle.url = line[len(READY_PREFIX) :].strip()
        yield handle
    finally:
        handle.stop()
        if process.stdout is not None:
            process.stdout.close()
        stderr.close()


def _read_line(stream: IO[bytes], timeout: float) -> str | None:
    # readline() has no timeout; a helper thread does the blocking read.
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        raw = lines.get(timeout=timeout)
    except queue.Empty:
        return None
    return raw.decode("utf-8", "replace") or None
