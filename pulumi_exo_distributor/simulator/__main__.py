"""``python -m pulumi_exo_distributor.simulator`` (console script ``exo-distributor-simulator``)."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

from ._app import create_app
from ._config import FAULT_KINDS, Credential, SimulatorConfig, parse_fault_kinds
from ._runner import READY_PREFIX, ReadyServer, base_url, bind_socket, is_loopback, uvicorn_config

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


def _non_negative(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text!r}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text!r}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {text!r}")
    return value


def _credential(text: str) -> Credential:
    try:
        return Credential.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _fault_kinds(text: str) -> tuple[str, ...]:
    kinds = parse_fault_kinds(text)
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown fault kinds {unknown}; choose among {','.join(FAULT_KINDS)}"
        )
    return kinds


def build_parser() -> argparse.ArgumentParser:
    defaults = SimulatorConfig()
    parser = argparse.ArgumentParser(
        prog="exo-distributor-simulator",
        description="A local simulator of the Exoscale Partner API (distributor organizations).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=8080, help="0 picks a free port (default: %(default)s)")
    parser.add_argument("--allow-remote", action="store_true", help="allow a --host that is not loopback")
    parser.add_argument("--db", metavar="PATH", help="SQLite file (default: an in-memory database)")
    parser.add_argument(
        "--credential",
        metavar="KEY:SECRET",
        type=_credential,
        action="append",
        default=[],
        help="an accepted API key pair, one distributor each; repeatable (default: a printed demo pair)",
    )
    parser.add_argument(
        "--initial-status",
        choices=("created", "active"),
        default=defaults.initial_status,
        help="status of new organizations (default: %(default)s)",
    )
    parser.add_argument(
        "--purge-delay-s",
        type=_non_negative,
        default=defaults.purge_delay_s,
        help="0: schedule-purge deletes at once (200); more: 202, deleted after the delay (default: 0)",
    )
    parser.add_argument(
        "--unique-client-id",
        action="store_true",
        help="409 on a client-id already used by another organization of the same distributor",
    )
    parser.add_argument(
        "--unknown-fields",
        choices=("reject", "ignore"),
        default=defaults.unknown_fields,
        help="body fields the schema does not know: 400 or ignored (default: %(default)s)",
    )
    parser.add_argument(
        "--latency-ms", type=_non_negative, default=defaults.latency_ms, help="added to every request"
    )
    parser.add_argument(
        "--fault-rate", type=_rate, default=defaults.fault_rate, help="probability of a fault (0-1)"
    )
    parser.add_argument(
        "--fault-kinds",
        type=_fault_kinds,
        default=defaults.fault_kinds,
        help=f"comma list among {','.join(FAULT_KINDS)} (default: {','.join(defaults.fault_kinds)})",
    )
    parser.add_argument("--seed", type=int, help="seed of the fault generator (default: random)")
    parser.add_argument(
        "--slow-s",
        type=_non_negative,
        default=defaults.slow_s,
        help="delay of a slow fault (default: %(default)s)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=defaults.max_body_bytes,
        help="larger bodies get 413 (default: %(default)s)",
    )
    parser.add_argument(
        "--max-expiry-s",
        type=_non_negative,
        default=defaults.max_expiry_s,
        help="refuse signatures expiring later than this from now (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (args.allow_remote or is_loopback(args.host)):
        parser.error(
            f"--host {args.host} is not a loopback address; add --allow-remote to listen on it anyway"
        )
    try:
        config = SimulatorConfig(
            credentials=tuple(args.credential),
            db_path=args.db,
            initial_status=args.initial_status,
            purge_delay_s=args.purge_delay_s,
            unique_client_id=args.unique_client_id,
            unknown_fields=args.unknown_fields,
            latency_ms=args.latency_ms,
            fault_rate=args.fault_rate,
            fault_kinds=args.fault_kinds,
            seed=args.seed,
            slow_s=args.slow_s,
            max_body_bytes=args.max_body_bytes,
            max_expiry_s=args.max_expiry_s,
        )
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
