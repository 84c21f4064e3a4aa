"""What a simulator instance is: its credentials, its storage and the behaviour switches."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DEFAULT_FAULT_KINDS",
    "DEMO_CREDENTIAL",
    "FAULT_KINDS",
    "Credential",
    "SimulatorConfig",
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


@dataclass(frozen=True)
class SimulatorConfig:
    """How a simulator behaves. Every field has a flag of the same name (``--db`` for ``db_path``).

    The defaults answer the open questions about the real API as documented in
    :mod:`pulumi_exo_distributor.simulator`.
    """

    #: Accepted key pairs, one distributor each; empty means :data:`DEMO_CREDENTIAL` alone.
    credentials: tuple[Credential, ...] = ()
    #: SQLite file; ``None`` keeps everything in memory for the life of the app.
    db_path: str | None = None
    #: Status of a freshly created organization.
    initial_status: Literal["created", "active"] = "created"
    #: 0: schedule-purge deletes at once (200); more: it answers 202 and deletes after this delay.
    purge_delay_s: float = 0.0
    #: Reject (409) a ``client-id`` already used by another non-purged organization of the
    #: same distributor.
    unique_client_id: bool = False
    #: What to do with body fields the schema does not know: ``reject`` (400) or ``ignore``.
    unknown_fields: Literal["reject", "ignore"] = "reject"
    #: Added before every API request is handled.
    latency_ms: float = 0.0
    #: Probability that an API request suffers one of ``fault_kinds``.
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = DEFAULT_FAULT_KINDS
    #: Seed of the fault generator; ``None`` draws one from the system.
    seed: int | None = None
    #: How long a ``slow`` fault holds the answer back.
    slow_s: float = 30.0
    #: Larger request bodies get 413.
    max_body_bytes: int = 64 * 1024
    #: Signatures expiring later than this many seconds from now are refused (the reference
    #: signer uses now + 10 minutes).
    max_expiry_s: float = 3600.0

    def __post_init__(self) -> None:
        # Accept any iterable for the tuple fields, so callers may pass lists.
        object.__setattr__(self, "credentials", tuple(self.credentials))
        object.__setattr__(self, "fault_kinds", tuple(self.fault_kinds))
        keys = [credential.key for credential in self.credentials]
        if len(set(keys)) != len(keys):
            raise ValueError("the same API key is given twice")
        if self.initial_status not in ("created", "active"):
            raise ValueError(f"initial_status must be 'created' or 'active', not {self.initial_status!r}")
        if self.unknown_fields not in ("reject", "ignore"):
            raise ValueError(f"unknown_fields must be 'reject' or 'ignore', not {self.unknown_fields!r}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, not {self.fault_rate}")
        unknown = sorted(set(self.fault_kinds) - set(FAULT_KINDS))
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; choose among {', '.join(FAULT_KINDS)}")
        if self.fault_rate > 0 and not self.fault_kinds:
            raise ValueError("a fault rate needs at least one fault kind")
        for name in ("purge_delay_s", "latency_ms", "slow_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value}")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        if not (math.isfinite(self.max_expiry_s) and self.max_expiry_s > 0):
            raise ValueError("max_expiry_s must be a finite number > 0")

    @property
    def effective_credentials(self) -> tuple[Credential, ...]:
        """The credentials the simulator accepts: the configured ones, else the demo one."""
        return self.credentials or (DEMO_CREDENTIAL,)

    def to_args(self) -> list[str]:
        """The command-line flags that reproduce this configuration (host and port aside)."""
        args: list[str] = []
        for credential in self.credentials:
            args += ["--credential", str(credential)]
        if self.db_path is not None:
            args += ["--db", self.db_path]
        args += ["--initial-status", self.initial_status]
        args += ["--purge-delay-s", repr(self.purge_delay_s)]
        if self.unique_client_id:
            args.append("--unique-client-id")
        args += ["--unknown-fields", self.unknown_fields]
        args += ["--latency-ms", repr(self.latency_ms)]
        args += ["--fault-rate", repr(self.fault_rate)]
        args += ["--fault-kinds", ",".join(self.fault_kinds)]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        args += ["--slow-s", repr(self.slow_s)]
        args += ["--max-body-bytes", str(self.max_body_bytes)]
        args += ["--max-expiry-s", repr(self.max_expiry_s)]
        return args


def parse_fault_kinds(text: str) -> tuple[str, ...]:
    """Read ``429,reset-after`` into a tuple; an empty string means none."""
    kinds: Iterable[str] = (part.strip() for part in text.split(","))
    return tuple(kind for kind in kinds if kind)
