"""What a simulator instance is: its credentials, its storage and the behaviour switches."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal

from ._options import (
    OPTION_KEY,
    Option,
    Setting,
    at_least,
    between,
    integer,
    number,
    one_of,
    option,
    render_number,
    render_switch_word,
    switch_word,
    text_table,
)

__all__ = [
    "DEFAULT_FAULT_KINDS",
    "DEMO_CREDENTIAL",
    "FAULT_KINDS",
    "SERVER_SETTINGS",
    "Credential",
    "SimulatorConfig",
    "all_settings",
    "config_settings",
    "parse_fault_kinds",
    "server_args",
]

#: Every fault the simulator knows how to inject.
FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "reset-before", "reset-after", "slow")
#: The faults injected when only a rate is given: ``slow`` must be asked for, because with
#: its default of 30 s it turns a fault-rate run into a very slow one.
DEFAULT_FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "reset-before", "reset-after")

# The key travels inside the Authorization header, whose pragmas are split on "," and "=":
# a key holding either (or blanks) could never authenticate.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9._~+/-]+")


@dataclass(frozen=True)
class Credential:
    """One API key pair; each credential is one distributor. The secret never shows in ``repr``."""

    key: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_PATTERN.fullmatch(self.key):
            raise ValueError(f"invalid API key {self.key!r}: use letters, digits and ._~+/- only")
        if not self.secret:
            raise ValueError(f"the secret of API key {self.key!r} is empty")

    @classmethod
    def parse(cls, text: str) -> Credential:
        """Read ``KEY:SECRET`` (the secret may itself contain ``:``)."""
        key, sep, secret = text.partition(":")
        if not sep:
            raise ValueError(f"expected KEY:SECRET, got {text!r}")
        return cls(key, secret)

    def __str__(self) -> str:
        return f"{self.key}:{self.secret}"


#: Used when no credential is configured. Fixed rather than random so that a simulator
#: restarted on the same database still sees the organizations it created (tenancy is per key).
DEMO_CREDENTIAL = Credential("EXOdemo00000000000000000000", "demo-secret-for-the-local-simulator-only")


def parse_fault_kinds(text: str) -> tuple[str, ...]:
    """Read ``429,reset-after`` into a tuple; an empty string means none."""
    kinds: Iterable[str] = (part.strip() for part in text.split(","))
    return tuple(kind for kind in kinds if kind)


def _known_fault_kinds(kinds: tuple[str, ...]) -> None:
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kinds {unknown}; choose among {','.join(FAULT_KINDS)}")


def _port(value: int) -> None:
    if not 0 <= value <= 65535:
        raise ValueError(f"must be between 0 and 65535, not {value}")


@dataclass(frozen=True)
class SimulatorConfig:
    """How a simulator behaves: every field is a flag of ``python -m pulumi_exo_distributor.simulator``.

    Each field declares its flag, help text, parser and check once (see ``_options``); the
    defaults answer the open questions about the real API as documented in
    :mod:`pulumi_exo_distributor.simulator`. A bad value raises :class:`ValueError` naming the
    field. The fields and their flags:

    """

    credentials: tuple[Credential, ...] = field(
        default=(),
        metadata=option(
            "--credential",
            "an accepted key pair, one distributor each",
            parse=Credential.parse,
            metavar="KEY:SECRET",
            repeatable=True,
            default_text="a demo pair, printed on stderr",
        ),
    )
    db_path: str | None = field(
        default=None,
        metadata=option(
            "--db",
            "SQLite file (WAL): state survives restarts",
            parse=str,
            metavar="PATH",
            default_text="in memory",
        ),
    )
    initial_status: Literal["created", "active"] = field(
        default="created",
        metadata=option(
            "--initial-status",
            "status of new organizations",
            parse=str,
            check=one_of("created", "active"),
            metavar="created|active",
        ),
    )
    purge_delay_s: float = field(
        default=0.0,
        metadata=option(
            "--purge-delay-s",
            "0: schedule-purge deletes at once (200); more: 202, deleted after S seconds",
            parse=number,
            check=at_least(0),
            render=render_number,
            metavar="S",
        ),
    )
    unique_client_id: bool = field(
        default=False,
        metadata=option("--unique-client-id", "409 on a client-id already used by the same distributor"),
    )
    unknown_fields: Literal["reject", "ignore"] = field(
        default="reject",
        metadata=option(
            "--unknown-fields",
            "body fields the document does not list: 400, or dropped",
            parse=str,
            check=one_of("reject", "ignore"),
            metavar="reject|ignore",
        ),
    )
    normalize: bool = field(
        default=False,
        metadata=option(
            "--normalize",
            "store and echo the billing address normalised (white space trimmed and collapsed, country "
            "and postal-code upper-cased, a missing address filled in), and give every organization "
            "fields the document does not list (created-at, updated-at, billing-address.region); "
            "client-id is kept as sent",
        ),
    )
    foreign_status: Literal[404, 403] = field(
        default=404,
        metadata=option(
            "--foreign-status",
            "what get, activate, suspend, terminate, schedule-purge and usage answer for an organization "
            "of another distributor (another key)",
            parse=integer,
            check=one_of(404, 403),
            metavar="404|403",
        ),
    )
    terminate_again: Literal[200, 404, 409] = field(
        default=200,
        metadata=option(
            "--terminate-again",
            "what terminate answers on an organization already terminated (which stays as it is): "
            "200 as the first time, 404 as if gone, or 409",
            parse=integer,
            check=one_of(200, 404, 409),
            metavar="200|404|409",
        ),
    )
    rate_limit: float = field(
        default=0.0,
        metadata=option(
            "--rate-limit",
            "requests per second per key, in bursts of up to max(1, N), beyond which a request "
            "answers 429 and does nothing; 0: no limit",
            parse=number,
            check=at_least(0),
            render=render_number,
            metavar="N",
        ),
    )
    retry_after_header: bool = field(
        default=True,
        metadata=option(
            "--retry-after-header",
            "whether a 429 (of the rate limit or a fault) says Retry-After: the whole seconds until a "
            "request can pass (1 for a fault)",
            parse=switch_word,
            render=render_switch_word,
            metavar="on|off",
        ),
    )
    latency_ms: float = field(
        default=0.0,
        metadata=option(
            "--latency-ms",
            "added to every API request",
            parse=number,
            check=at_least(0),
            render=render_number,
            metavar="MS",
        ),
    )
    fault_rate: float = field(
        default=0.0,
        metadata=option(
            "--fault-rate",
            "probability that an API request suffers a fault",
            parse=number,
            check=between(0, 1),
            render=render_number,
            metavar="F",
        ),
    )
    fault_kinds: tuple[str, ...] = field(
        default=DEFAULT_FAULT_KINDS,
        metadata=option(
            "--fault-kinds",
            f"comma list among {','.join(FAULT_KINDS)}: 429 (see --retry-after-header), 500, 503 (nothing "
            "done), connection reset before or after the change is committed, or an answer after --slow-s",
            parse=parse_fault_kinds,
            check=_known_fault_kinds,
            render=",".join,
            metavar="K,...",
        ),
    )
    seed: int | None = field(
        default=None,
        metadata=option(
            "--seed", "makes the fault sequence repeatable", parse=integer, metavar="N", default_text="random"
        ),
    )
    slow_s: float = field(
        default=30.0,
        metadata=option(
            "--slow-s",
            "delay of a slow fault",
            parse=number,
            check=at_least(0),
            render=render_number,
            metavar="S",
        ),
    )
    max_body_bytes: int = field(
        default=64 * 1024,
        metadata=option(
            "--max-body-bytes", "larger request bodies get 413", parse=integer, check=at_least(1), metavar="N"
        ),
    )
    max_expiry_s: float = field(
        default=3600.0,
        metadata=option(
            "--max-expiry-s",
            "refuse signatures expiring more than S seconds from now (the reference signer uses 600)",
            parse=number,
            check=at_least(0, inclusive=False),
            render=render_number,
            metavar="S",
        ),
    )

    def __post_init__(self) -> None:
        for setting in config_settings():
            value = getattr(self, setting.name)
            if isinstance(setting.default, tuple) and not isinstance(value, tuple):
                # Accept any iterable for the tuple fields, so callers may pass lists.
                value = tuple(value)
                object.__setattr__(self, setting.name, value)
            try:
                setting.option.validate(value)
            except ValueError as exc:
                raise ValueError(f"{setting.name}: {exc}") from None
        keys = [credential.key for credential in self.credentials]
        if len(set(keys)) != len(keys):
            raise ValueError("credentials: the same API key is given twice")
        if self.fault_rate > 0 and not self.fault_kinds:
            raise ValueError("fault_kinds: a fault rate needs at least one fault kind")

    @property
    def effective_credentials(self) -> tuple[Credential, ...]:
        """The credentials the simulator accepts: the configured ones, else the demo one."""
        return self.credentials or (DEMO_CREDENTIAL,)

    def to_args(self) -> list[str]:
        """The command-line flags that reproduce this configuration (host and port aside)."""
        return [
            word
            for setting in config_settings()
            for word in setting.option.to_args(getattr(self, setting.name))
        ]

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SimulatorConfig:
        """The configuration named by ``values`` (such as ``vars()`` of parsed flags); other keys
        (host, port) are ignored."""
        return cls(
            **{setting.name: values[setting.name] for setting in config_settings() if setting.name in values}
        )


def config_settings() -> tuple[Setting, ...]:
    """The fields of :class:`SimulatorConfig` with their defaults and options, in order."""
    settings = []
    for item in fields(SimulatorConfig):
        default = item.default
        assert default is not MISSING, item.name
        settings.append(Setting(item.name, default, item.metadata[OPTION_KEY]))
    return tuple(settings)


#: The flags of the server itself, which are not part of a configuration: where it listens.
SERVER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "host",
        "127.0.0.1",
        Option(
            "--host", "where to listen; a non-loopback host needs --allow-remote", parse=str, metavar="HOST"
        ),
    ),
    Setting(
        "port",
        8080,
        Option("--port", "where to listen; 0 picks a free port", parse=integer, check=_port, metavar="PORT"),
    ),
    Setting("allow_remote", False, Option("--allow-remote", "allow a --host that is not a loopback address")),
)


def server_args(**values: Any) -> list[str]:
    """The flags that give the server settings ``values`` (``server_args(host=..., port=...)``)."""
    options = {setting.name: setting.option for setting in SERVER_SETTINGS}
    return [word for name, value in values.items() for word in options[name].to_args(value)]


def all_settings() -> tuple[Setting, ...]:
    """Every flag of the command line, server flags first: what ``--help`` and the docs list."""
    return SERVER_SETTINGS + config_settings()


if SimulatorConfig.__doc__ is not None:  # None under python -OO
    SimulatorConfig.__doc__ = (
        SimulatorConfig.__doc__.rstrip()
        + "\n\n"
        + textwrap.indent(text_table(config_settings(), names=True), "    ")
    )
