"""What a review finds: exit codes, levels, consequences, and the changes, diagnostics and
verdict of one review over one or several previews.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONSEQUENCES",
    "EXIT_ATTENTION",
    "EXIT_CLEAN",
    "EXIT_DESTRUCTIVE",
    "EXIT_PREVIEW_FAILED",
    "UNCHANGED",
    "Change",
    "Consequence",
    "Diagnostic",
    "Level",
    "PreviewFile",
    "Review",
]

#: Exit codes of ``exo-distributor review``, for CI gates. 1 (an error: an unreadable file) and
#: 2 (a wrong command line) are click's and the command's own; 3 is a missing extra.
EXIT_CLEAN = 0
#: Nothing is destroyed, but a person should look: a suspension, an organization left running
#: unmanaged, a deletion policy made more destructive, an organization re-created after it
#: vanished, or a step this review does not know.
EXIT_ATTENTION = 10
#: An organization is terminated, purged or replaced.
EXIT_DESTRUCTIVE = 20
#: The preview itself failed (or was cut short): what it lists is not everything `up` would do.
EXIT_PREVIEW_FAILED = 30


class Level(enum.IntEnum):
    """How much a consequence matters to a customer, in increasing order."""

    NONE = 0
    ATTENTION = 1
    DESTRUCTIVE = 2


_VERDICTS = {Level.DESTRUCTIVE: "destructive", Level.ATTENTION: "attention", Level.NONE: "clean"}


@dataclass(frozen=True)
class Consequence:
    """One kind of thing `up` can do to an organization."""

    key: str
    title: str
    #: The level of its rows, unless a row says otherwise (a deletion policy change).
    level: Level


TERMINATE_AND_PURGE = Consequence("terminate-and-purge", "Terminate and purge", Level.DESTRUCTIVE)
TERMINATE = Consequence("terminate", "Terminate", Level.DESTRUCTIVE)
REPLACE = Consequence("replace", "Replace", Level.DESTRUCTIVE)
SUSPEND = Consequence("suspend", "Suspend", Level.ATTENTION)
LEAVE_RUNNING = Consequence("leave-running", "Leave running, no longer managed", Level.ATTENTION)
CREATE_AGAIN = Consequence("create-again", "Create again (gone outside Pulumi)", Level.ATTENTION)
OTHER_STEP = Consequence("other-step", "Other engine step", Level.ATTENTION)
POLICY_CHANGE = Consequence("deletion-policy-change", "Deletion policy change", Level.NONE)
CREATE = Consequence("create", "Create", Level.NONE)
TAKE_OVER = Consequence("take-over", "Take over", Level.NONE)
REACTIVATE = Consequence("reactivate", "Re-activate", Level.NONE)
RECORD_ONLY = Consequence("record-only", "Recorded only, no remote effect", Level.NONE)
UNCHANGED = Consequence("unchanged", "Unchanged", Level.NONE)

#: Every consequence, in the order a review shows them: the most destructive first.
CONSEQUENCES: tuple[Consequence, ...] = (
    TERMINATE_AND_PURGE,
    TERMINATE,
    REPLACE,
    SUSPEND,
    LEAVE_RUNNING,
    CREATE_AGAIN,
    OTHER_STEP,
    POLICY_CHANGE,
    CREATE,
    TAKE_OVER,
    REACTIVATE,
    RECORD_ONLY,
    UNCHANGED,
)


@dataclass(frozen=True)
class Change:
    """What `up` would do to one organization (a resource may have two: a suspension and a
    deletion policy change)."""

    consequence: Consequence
    level: Level
    #: The file the preview came from, as given on the command line.
    source: str
    #: The stack, from the resource's URN (None if the URN has none).
    stack: str | None
    #: The Pulumi resource name (the customer's key in a customers file).
    resource: str
    urn: str
    #: The organization's id: the existing one (for a create: the one taken over, else None).
    organization_id: str | None
    #: ``display_name``, else the billing address's name.
    name: str | None
    client_id: str | None
    #: One sentence: what happens, and why.
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "consequence": self.consequence.key,
            "level": self.level.name.lower(),
            "source": self.source,
            "stack": self.stack,
            "resource": self.resource,
            "urn": self.urn,
            "organization_id": self.organization_id,
            "name": self.name,
            "client_id": self.client_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Diagnostic:
    """An error or a warning the preview reported."""

    source: str
    severity: str
    message: str
    urn: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "severity": self.severity, "urn": self.urn, "message": self.message}


@dataclass
class PreviewFile:
    """What one preview says: its changes, its unchanged organizations and its diagnostics."""

    source: str
    #: ``digest`` or ``events``.
    shape: str
    stacks: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    #: Unchanged organizations the preview lists (digests list them only with --show-sames).
    unchanged: list[Change] = field(default_factory=list)
    #: Resources the engine counts as unchanged but the preview does not list.
    unlisted_unchanged: int = 0
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    #: Why the preview is incomplete, if it is (failed, or cut short).
    failure: str | None = None


@dataclass
class Review:
    """One review over the previews of one or several stacks."""

    files: Sequence[PreviewFile]

    @property
    def changes(self) -> list[Change]:
        """Every change, the most destructive first, then by stack and resource."""
        order = {consequence.key: index for index, consequence in enumerate(CONSEQUENCES)}
        found = [change for file in self.files for change in file.changes]
        return sorted(
            found,
            key=lambda c: (-c.level, order[c.consequence.key], c.stack or "", c.resource, c.source),
        )

    @property
    def unchanged(self) -> list[Change]:
        return sorted(
            (change for file in self.files for change in file.unchanged),
            key=lambda c: (c.stack or "", c.resource, c.source),
        )

    @property
    def unchanged_count(self) -> int:
        return sum(len(file.unchanged) + file.unlisted_unchanged for file in self.files)

    @property
    def counts(self) -> dict[str, int]:
        """Rows per consequence, every consequence present (zero or not), in display order."""
        counted = Counter(change.consequence.key for change in self.changes)
        counted[UNCHANGED.key] = self.unchanged_count
        return {consequence.key: counted[consequence.key] for consequence in CONSEQUENCES}

    @property
    def errors(self) -> list[Diagnostic]:
        return [error for file in self.files for error in file.errors]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [warning for file in self.files for warning in file.warnings]

    @property
    def failed(self) -> list[PreviewFile]:
        """The previews that failed or were cut short."""
        return [file for file in self.files if file.failure is not None]

    @property
    def level(self) -> Level:
        return max((change.level for change in self.changes), default=Level.NONE)

    @property
    def verdict(self) -> str:
        """``preview-failed``, ``destructive``, ``attention`` or ``clean``: what the exit code says."""
        if self.failed:
            return "preview-failed"
        return _VERDICTS[self.level]

    @property
    def exit_code(self) -> int:
        return {
            "preview-failed": EXIT_PREVIEW_FAILED,
            "destructive": EXIT_DESTRUCTIVE,
            "attention": EXIT_ATTENTION,
            "clean": EXIT_CLEAN,
        }[self.verdict]

    @property
    def stacks(self) -> list[str]:
        return sorted({stack for file in self.files for stack in file.stacks})

    def as_dict(self, *, include_unchanged: bool = False) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "counts": self.counts,
            "changes": [change.as_dict() for change in self.changes],
            **({"unchanged": [change.as_dict() for change in self.unchanged]} if include_unchanged else {}),
            "unlisted_unchanged": sum(file.unlisted_unchanged for file in self.files),
            "errors": [error.as_dict() for error in self.errors],
            "warnings": [warning.as_dict() for warning in self.warnings],
            "previews": [
                {
                    "source": file.source,
                    "shape": file.shape,
                    "stacks": file.stacks,
                    "failure": file.failure,
                }
                for file in self.files
            ],
        }
