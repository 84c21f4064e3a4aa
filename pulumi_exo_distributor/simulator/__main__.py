"""``python -m pulumi_exo_distributor.simulator`` (console script ``exo-distributor-simulator``)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

from ._app import create_app
from ._options import add_arguments, markdown_table
from ._runner import READY_PREFIX, ReadyServer, base_url, bind_socket, is_loopback, uvicorn_config
from ._settings import SimulatorConfig, all_settings

# uvicorn's default sends the access log to stdout, which belongs to the ready line alone.
_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
        },
    },
    "handlers": {
        "default": {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "pulumi_exo_distributor": {"handlers": ["default"], "level": "INFO", "propagate": False},
    },
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exo-distributor-simulator",
        description="A local simulator of the Exoscale Partner API (distributor organizations).",
    )
    add_arguments(parser, all_settings())
    return parser


def flags_markdown() -> str:
    """The flags table of the README, generated from the declarations."""
    return markdown_table(all_settings())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (args.allow_remote or is_loopback(args.host)):
        parser.error(
            f"--host {args.host} is not a loopback address; add --allow-remote to listen on it anyway"
        )
    try:
        # Each flag was checked as it was parsed; what is left are the checks across flags.
        config = SimulatorConfig.from_values(vars(args))
    except ValueError as exc:
        parser.error(str(exc))
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(f"exo-distributor-simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    url = base_url(sock)
    try:
        app = create_app(config)
    except Exception as exc:  # e.g. an unreadable --db
        sock.close()
        print(f"exo-distributor-simulator: {exc}", file=sys.stderr)
        return 1
    if not config.credentials:
        demo = config.effective_credentials[0]
        print(f"demo credential: key {demo.key} secret {demo.secret}", file=sys.stderr, flush=True)

    def ready() -> None:
        sys.stdout.write(f"{READY_PREFIX}{url}\n")
        sys.stdout.flush()

    server = ReadyServer(uvicorn_config(app, log_config=_LOG_CONFIG, log_level="info"), on_ready=ready)

    def stop(signum: int, frame: FrameType | None) -> None:
        # uvicorn installs its own handlers while it serves and, once stopped, raises the
        # signal again against the previous handler: this one, so the exit status stays 0.
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
