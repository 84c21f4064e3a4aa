"""What a `pulumi preview --json` will do to each customer, in business terms.

``exo-distributor review`` reads the preview of one or several stacks and says, per
``DistributorOrganization``, what `pulumi up` would do to the customer's organization: create one,
take one over, suspend or re-activate it, terminate it (and purge it), leave it running unmanaged,
replace it, or only record a new value. The deletion policy of a delete or a replacement is read
from the preview itself (the old state's inputs, else its outputs, else the documented default),
so a review needs neither credentials nor the Partner API.

Two shapes of input are understood, both printed by `pulumi preview --json`:

- the digest (the default): one JSON document with ``steps`` (``op``, ``urn``, ``oldState``,
  ``newState``, ``replaceReasons``...), ``diagnostics`` and ``changeSummary``;
- engine events (``PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true``, or ``--event-log``): one JSON
  object per line, ``resourcePreEvent.metadata`` holding ``op``, ``urn``, ``old`` and ``new``.

This module is pure: it imports neither Pulumi nor the client, and reads nothing but the text it
is given. The command (``cli.py``) draws what it finds.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._data import DYNAMIC_RESOURCE_TYPE
from ._errors import ExoDistributorError

__all__ = [
    "CONSEQUENCES",
    "EXIT_ATTENTION",
    "EXIT_CLEAN",
    "EXIT_DESTRUCTIVE",
    "EXIT_PREVIEW_FAILED",
    "MARKDOWN_MAX_ROWS",
    "UNCHANGED",
    "Change",
    "Consequence",
    "Diagnostic",
    "Level",
    "PreviewFile",
    "PreviewFileError",
    "Review",
    "markdown",
    "read_preview",
    "verdict_sentence",
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

#: The engine's stand-in for a value not known until `up` (``pulumi.runtime.rpc.UNKNOWN``; not
#: imported: this module does without Pulumi).
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_POLICIES = ("purge", "terminate", "retain")
#: How destructive a later removal is under each policy (a change upwards needs a look).
_POLICY_SEVERITY = {"retain": 0, "terminate": 1, "purge": 2}
#: Properties the engine or the resource class keeps for itself: never a change worth naming.
_BOOKKEEPING = frozenset({"__provider", "default_client_id", "adopt_id", "key_fingerprint"})
_CREATE_ONLY = ("display_name", "billing_address", "client_id")
_REPLACEMENT_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})
#: Steps with no effect on an organization: reads of resources the program does not manage, and
#: the engine's own book-keeping.
_SILENT_OPS = frozenset({"read", "read-replacement", "discard", "discard-replaced", "remove-pending-replace"})
_ENGINE_EVENT_KEYS = frozenset(
    {
        "cancelEvent",
        "stdoutEvent",
        "diagnosticEvent",
        "preludeEvent",
        "summaryEvent",
        "resourcePreEvent",
        "resOutputsEvent",
        "resOpFailedEvent",
        "policyEvent",
        "startDebuggingEvent",
        "progressEvent",
        "errorEvent",
    }
)


class PreviewFileError(ExoDistributorError):
    """A file that is not the output of `pulumi preview --json`: unreadable, empty or of another shape."""


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


# -- reading a preview ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One engine step, whatever the shape it came in."""

    op: str
    urn: str
    type: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    replace_reasons: tuple[str, ...] = ()


@dataclass
class _Parsed:
    shape: str
    steps: list[_Step] = field(default_factory=list)
    diagnostics: list[tuple[str, str, str | None]] = field(default_factory=list)
    summary: Mapping[str, Any] | None = None
    failure: str | None = None


def read_preview(text: str, source: str) -> PreviewFile:
    """Review one preview: ``text`` is what `pulumi preview --json` printed, ``source`` names it.

    Raises :class:`PreviewFileError` (naming ``source``) for anything that is not such an output.
    """
    parsed = _parse(text, source)
    return _review(parsed, source)


def _parse(text: str, source: str) -> _Parsed:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise PreviewFileError(
            f"{source} is empty: `pulumi preview --json` printed nothing (it failed before the preview "
            "started: see its error output)"
        )
    events: list[Any] | None
    try:
        document: Any = json.loads(text)
    except ValueError:
        document, events = None, _json_lines(text, source)
    else:
        events = None
        if isinstance(document, list):
            events, document = document, None
    if isinstance(document, dict):
        if _is_event(document):
            events = [document]
        elif {"steps", "changeSummary", "diagnostics", "config", "duration"} & document.keys():
            return _digest(document, source)
        else:
            raise PreviewFileError(
                f"{source} is JSON but not the output of `pulumi preview --json` (no steps, diagnostics "
                f"or changeSummary; its keys: {', '.join(sorted(document)[:8]) or 'none'})"
            )
    if events is None:
        raise PreviewFileError(
            f"{source} is JSON but not the output of `pulumi preview --json` (a {type(document).__name__})"
        )
    return _events(events, source)


def _json_lines(text: str, source: str) -> list[Any]:
    events: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError as exc:
            raise PreviewFileError(
                f"{source} is not the output of `pulumi preview --json`: line {number} is not JSON ({exc}): "
                f"{line.strip()[:80]!r}"
            ) from None
    return events


def _is_event(value: object) -> bool:
    return isinstance(value, dict) and bool(_ENGINE_EVENT_KEYS & value.keys())


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _digest(document: Mapping[str, Any], source: str) -> _Parsed:
    parsed = _Parsed("digest", summary=_mapping(document.get("changeSummary")))
    steps = document.get("steps")
    steps = [] if steps is None else steps
    diagnostics = document.get("diagnostics")
    diagnostics = [] if diagnostics is None else diagnostics
    if not isinstance(steps, list) or not isinstance(diagnostics, list):
        raise PreviewFileError(f"{source}: `steps` and `diagnostics` must be lists in a preview's JSON")
    for index, raw in enumerate(steps):
        step = _mapping(raw)
        if step is None or not isinstance(step.get("op"), str) or not isinstance(step.get("urn"), str):
            raise PreviewFileError(f"{source}: step {index + 1} has no `op` or `urn`: not a preview's step")
        old, new = _mapping(step.get("oldState")), _mapping(step.get("newState"))
        reasons = step.get("replaceReasons") or ()
        parsed.steps.append(
            _Step(
                op=step["op"],
                urn=step["urn"],
                type=str((new or old or {}).get("type") or _urn_type(step["urn"])),
                old=old,
                new=new,
                replace_reasons=tuple(str(reason) for reason in reasons),
            )
        )
    for raw in diagnostics:
        diagnostic = _mapping(raw) or {}
        parsed.diagnostics.append(
            (
                str(diagnostic.get("severity") or "info"),
                str(diagnostic.get("message") or ""),
                diagnostic.get("urn") or None,
            )
        )
    return parsed


def _events(events: Sequence[Any], source: str) -> _Parsed:
    if not events or not all(_is_event(event) for event in events):
        bad = next((index for index, event in enumerate(events) if not _is_event(event)), 0)
        raise PreviewFileError(
            f"{source} is not the output of `pulumi preview --json`: item {bad + 1} is not an engine event "
            "(neither a preview's JSON document nor one engine event per line)"
        )
    parsed = _Parsed("events")
    for event in events:
        pre = _mapping(event.get("resourcePreEvent"))
        if pre is not None:
            metadata = _mapping(pre.get("metadata")) or {}
            op, urn = metadata.get("op"), metadata.get("urn")
            if not isinstance(op, str) or not isinstance(urn, str):
                raise PreviewFileError(f"{source}: a resourcePreEvent has no `op` or `urn`")
            parsed.steps.append(
                _Step(
                    op=op,
                    urn=urn,
                    type=str(metadata.get("type") or _urn_type(urn)),
                    old=_mapping(metadata.get("old")),
                    new=_mapping(metadata.get("new")),
                    replace_reasons=tuple(str(key) for key in metadata.get("keys") or ()),
                )
            )
        diagnostic = _mapping(event.get("diagnosticEvent"))
        if diagnostic is not None and not diagnostic.get("ephemeral"):
            severity = str(diagnostic.get("severity") or "info")
            if severity != "debug":
                message = str(diagnostic.get("prefix") or "") + str(diagnostic.get("message") or "")
                parsed.diagnostics.append((severity, message, diagnostic.get("urn") or None))
        summary = _mapping(event.get("summaryEvent"))
        if summary is not None:
            parsed.summary = _mapping(summary.get("resourceChanges")) or {}
            if summary.get("result") not in (None, "succeeded"):
                parsed.failure = f"the preview's result is {summary.get('result')!r}"
    if parsed.summary is None and parsed.failure is None:
        parsed.failure = "the events end before the preview's summary: the preview was cut short"
    return parsed


# -- what each step means ----------------------------------------------------------------------


def _urn_parts(urn: str) -> tuple[str | None, str, str]:
    """(stack, qualified type, name) of ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    if not urn.startswith("urn:pulumi:"):
        return None, "", urn
    parts = urn[len("urn:pulumi:") :].split("::", 3)
    if len(parts) < 4:
        return parts[0] or None, "", parts[-1]
    return parts[0] or None, parts[2], parts[3]


def _urn_type(urn: str) -> str:
    return _urn_parts(urn)[1].rsplit("$", 1)[-1]


def _inputs(state: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _mapping((state or {}).get("inputs")) or {}


def _outputs(state: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _mapping((state or {}).get("outputs")) or {}


def _pickled_here(value: object) -> bool:
    """Whether a dynamic resource's ``__provider`` is this package's provider, pickled."""
    if not isinstance(value, str):
        return False
    try:
        return b"pulumi_exo_distributor" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False


def _is_organization(step: _Step) -> bool:
    """A DistributorOrganization: its type, or a Python dynamic resource whose provider or
    inputs are ours (a subclass, or a state written under another type)."""
    if step.type == DYNAMIC_RESOURCE_TYPE:
        return True
    if not step.type.startswith("pulumi-python:dynamic"):
        return False
    for state in (step.new, step.old):
        inputs = _inputs(state)
        if _pickled_here(inputs.get("__provider")):
            return True
        if "billing_address" in inputs and "default_client_id" in inputs:
            return True
    return False


def _known(value: object) -> bool:
    return value is not None and value != _UNKNOWN


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and _known(value) else None


def _recorded(state: Mapping[str, Any] | None, key: str) -> Any:
    """A property as a state records it: its inputs first, then its outputs."""
    inputs, outputs = _inputs(state), _outputs(state)
    return inputs[key] if _known(inputs.get(key)) else outputs.get(key)


def _policy(state: Mapping[str, Any] | None) -> str:
    """The deletion policy a delete of this state applies: the recorded one (inputs, else
    outputs), else the default: ``retain`` for an adopted organization, ``purge`` otherwise."""
    for recorded in (_inputs(state).get("deletion_policy"), _outputs(state).get("deletion_policy")):
        if recorded in _POLICIES:
            return str(recorded)
    return "retain" if _known(_inputs(state).get("adopt_id")) else "purge"


def _new_policy(new: Mapping[str, Any] | None, old: Mapping[str, Any] | None) -> str | None:
    """The policy after an update: the declared one, else the recorded one stays."""
    declared = _inputs(new).get("deletion_policy")
    if declared == _UNKNOWN:
        return None
    return str(declared) if declared in _POLICIES else _policy(old)


def _name(*states: Mapping[str, Any] | None) -> str | None:
    for state in states:
        name = _text(_recorded(state, "display_name"))
        if name:
            return name
        address = _mapping(_recorded(state, "billing_address"))
        if address and _text(address.get("name")):
            return str(address["name"])
    return None


def _client_id(*states: Mapping[str, Any] | None) -> str | None:
    for state in states:
        for key in ("client_id", "default_client_id"):
            value = _text(_recorded(state, key))
            if value:
                return value
    return None


def _id(state: Mapping[str, Any] | None) -> str | None:
    value = (state or {}).get("id")
    return value if isinstance(value, str) and value and value != _UNKNOWN else None


_DELETION = {
    "purge": "terminated, then its purge scheduled: the customer's whole cloud account is deleted",
    "terminate": "terminated: the customer's cloud account stops (not purged)",
    "retain": "left running as it is, and no stack manages it any more",
}
_LATER_REMOVAL = {
    "purge": "a later removal from the program terminates it and schedules its purge",
    "terminate": "a later removal from the program terminates it",
    "retain": "a later removal from the program leaves it running, unmanaged",
}


def _show(value: object) -> str:
    if value == _UNKNOWN:
        return "(known at up)"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_show(item)}" for key, item in sorted(value.items())) + "}"
    return repr(value)


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    """``field 'old' → 'new'`` for each of ``keys`` that differs (an address: by sub-field)."""
    found = []
    for key in keys:
        before, after = old.get(key), new.get(key)
        if key == "client_id" and after is None:
            continue  # not declared: the recorded one stays
        if key == "allow_replacement":
            before = bool(before)
            after = after if after == _UNKNOWN else bool(after)
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            found += [
                f"{key}.{sub} {_show(before.get(sub))} → {_show(after.get(sub))}"
                for sub in sorted(set(before) | set(after))
                if before.get(sub) != after.get(sub)
            ]
        elif before != after:
            found.append(f"{key} {_show(before)} → {_show(after)}")
    return found


class _Reviewer:
    """Turns the steps of one preview into changes."""

    def __init__(self, source: str) -> None:
        self.source = source

    def change(
        self,
        consequence: Consequence,
        step: _Step,
        detail: str,
        *,
        organization_id: str | None,
        level: Level | None = None,
    ) -> Change:
        stack, _, resource = _urn_parts(step.urn)
        return Change(
            consequence=consequence,
            level=consequence.level if level is None else level,
            source=self.source,
            stack=stack,
            resource=resource,
            urn=step.urn,
            organization_id=organization_id,
            name=_name(step.new, step.old),
            client_id=_client_id(step.new, step.old),
            detail=detail,
        )

    def create(self, step: _Step, refreshed_id: str | None) -> Change:
        inputs = _inputs(step.new)
        adopt_id = _text(inputs.get("adopt_id"))
        policy = _policy(step.new)
        if adopt_id:
            status = inputs.get("status") or "active"
            # The preview does not hold the organization's status: one declared suspended may be
            # active now, and taking it over would suspend the customer.
            suspends = status != "active"
            return self.change(
                TAKE_OVER,
                step,
                f"existing organization {adopt_id} taken under management, no new one created; "
                f"status made {'a value known only at up' if status == _UNKNOWN else status}"
                + (" (if it is active now, the customer is suspended)" if suspends else "")
                + f"; deletion_policy {policy}: {_LATER_REMOVAL[policy]}",
                organization_id=adopt_id,
                level=Level.ATTENTION if suspends else None,
            )
        if refreshed_id:
            return self.change(
                CREATE_AGAIN,
                step,
                f"organization {refreshed_id} was not found by the refresh (terminated or purged outside "
                f"Pulumi): a new, empty organization is created in its place; deletion_policy {policy}",
                organization_id=None,
            )
        if step.op.startswith("import"):
            return self.change(
                TAKE_OVER,
                step,
                f"existing organization imported into the stack; deletion_policy {policy}: "
                f"{_LATER_REMOVAL[policy]}",
                organization_id=_id(step.new),
            )
        return self.change(
            CREATE,
            step,
            f"a new organization is created, status {inputs.get('status') or 'active'}; "
            f"deletion_policy {policy}",
            organization_id=None,
        )

    def delete(self, step: _Step) -> Change:
        state = step.old or step.new
        # The engine itself skips the provider's delete of a resource with retainOnDelete.
        kept_by_option = bool((state or {}).get("retainOnDelete"))
        policy = "retain" if kept_by_option else _policy(state)
        why = "its retainOnDelete option" if kept_by_option else f"deletion_policy {policy}"
        consequence = {"purge": TERMINATE_AND_PURGE, "terminate": TERMINATE, "retain": LEAVE_RUNNING}[policy]
        return self.change(
            consequence,
            step,
            f"removed from the program: the organization is {_DELETION[policy]} ({why})",
            organization_id=_id(state),
        )

    def replace(self, step: _Step) -> Change:
        old, new = step.old, step.new
        policy = "retain" if (old or {}).get("retainOnDelete") else _policy(old)
        changed = _differences(_inputs(old), _inputs(new), _CREATE_ONLY) or [
            ", ".join(step.replace_reasons) or "a create-only input"
        ]
        return self.change(
            REPLACE,
            step,
            f"{'; '.join(changed)} cannot change in place: a new organization is created, and the old one "
            f"({_id(old) or 'its id unknown'}) is {_DELETION[policy]} (its deletion_policy {policy})",
            organization_id=_id(old),
        )

    def update(self, step: _Step) -> list[Change]:
        old, new = step.old, step.new
        organization_id = _id(old) or _id(new)
        changes: list[Change] = []
        before = _text(_outputs(old).get("status")) or _text(_inputs(old).get("status")) or "active"
        after = _inputs(new).get("status") or "active"
        if after == _UNKNOWN:
            changes.append(
                self.change(
                    SUSPEND,
                    step,
                    f"status {before} → a value known only at up: it may suspend the organization",
                    organization_id=organization_id,
                )
            )
        elif after != before and after == "suspended":
            changes.append(
                self.change(
                    SUSPEND,
                    step,
                    f"status {before} → suspended: the customer's organization is suspended",
                    organization_id=organization_id,
                )
            )
        elif after != before and after == "active":
            changes.append(
                self.change(
                    REACTIVATE,
                    step,
                    f"status {before} → active: the organization is activated"
                    + (" again" if before == "suspended" else ""),
                    organization_id=organization_id,
                )
            )
        old_policy, new_policy = _policy(old), _new_policy(new, old)
        if new_policy != old_policy:
            riskier = new_policy is None or _POLICY_SEVERITY[new_policy] > _POLICY_SEVERITY[old_policy]
            changes.append(
                self.change(
                    POLICY_CHANGE,
                    step,
                    f"deletion_policy {old_policy} → {new_policy or '(known at up)'}: nothing happens now; "
                    + (_LATER_REMOVAL[new_policy] if new_policy else "a later removal may destroy it"),
                    organization_id=organization_id,
                    level=Level.ATTENTION if riskier else Level.NONE,
                )
            )
        keys = sorted((set(_inputs(old)) | set(_inputs(new))) - _BOOKKEEPING - {"status", "deletion_policy"})
        recorded = _differences(_inputs(old), _inputs(new), keys)
        if recorded and not changes:
            changes.append(
                self.change(
                    RECORD_ONLY,
                    step,
                    f"{'; '.join(recorded)}: recorded in the state only, no API call",
                    organization_id=organization_id,
                )
            )
        elif recorded:
            changes[0] = dataclasses.replace(
                changes[0], detail=f"{changes[0].detail} (also recorded: {'; '.join(recorded)})"
            )
        if not changes:
            changes.append(
                self.change(
                    RECORD_ONLY,
                    step,
                    "the engine sees a difference in recorded values only: no API call",
                    organization_id=organization_id,
                )
            )
        return changes

    def unchanged(self, step: _Step) -> Change:
        state = step.old or step.new
        return self.change(
            UNCHANGED,
            step,
            f"unchanged (status {_recorded(state, 'status') or 'unknown'}, deletion_policy {_policy(state)})",
            organization_id=_id(step.old) or _id(step.new),
        )

    def other(self, step: _Step) -> Change:
        return self.change(
            OTHER_STEP,
            step,
            f"the engine plans a {step.op!r} step, which this review does not interpret: read the preview",
            organization_id=_id(step.old) or _id(step.new),
        )


def _grouped(steps: Sequence[_Step]) -> Iterator[tuple[str, list[_Step]]]:
    """Steps of one resource together, in the order their resources first appear."""
    by_urn: dict[str, list[_Step]] = {}
    for step in steps:
        by_urn.setdefault(step.urn, []).append(step)
    yield from by_urn.items()


def _review(parsed: _Parsed, source: str) -> PreviewFile:
    file = PreviewFile(source=source, shape=parsed.shape, failure=parsed.failure)
    reviewer = _Reviewer(source)
    stacks: set[str] = set()
    listed_same = 0
    for urn, steps in _grouped(parsed.steps):
        stack = _urn_parts(urn)[0]
        if stack:
            stacks.add(stack)
        listed_same += sum(step.op == "same" for step in steps)
        ours = [step for step in steps if _is_organization(step)]
        if not ours:
            continue
        refreshed_id = next((_id(step.old) for step in ours if step.op == "refresh" and _id(step.old)), None)
        acting = [step for step in ours if step.op != "refresh"]
        replacement = [step for step in acting if step.op in _REPLACEMENT_OPS]
        if replacement:
            # The logical "replace" carries both states; its parts (--show-replacement-steps, or an
            # event stream) say the same thing again.
            logical = next((step for step in replacement if step.op == "replace"), None)
            old = next((step.old for step in replacement if step.old is not None), None)
            new = next((step.new for step in replacement if step.new is not None), None)
            reasons = next((step.replace_reasons for step in replacement if step.replace_reasons), ())
            merged = logical or replacement[0]
            step = _Step("replace", urn, merged.type, logical.old if logical else old, new, reasons)
            file.changes.append(reviewer.replace(step))
            acting = [step for step in acting if step.op not in _REPLACEMENT_OPS]
        for step in acting:
            if step.op == "same":
                file.unchanged.append(reviewer.unchanged(step))
            elif step.op in ("create", "import", "import-replacement"):
                file.changes.append(reviewer.create(step, refreshed_id))
            elif step.op == "delete":
                file.changes.append(reviewer.delete(step))
            elif step.op == "update":
                file.changes += reviewer.update(step)
            elif step.op not in _SILENT_OPS:
                file.changes.append(reviewer.other(step))
    file.stacks = sorted(stacks)
    engine_same = (parsed.summary or {}).get("same")
    if isinstance(engine_same, int):
        file.unlisted_unchanged = max(0, engine_same - listed_same)
    for severity, message, subject in parsed.diagnostics:
        text = message.strip()
        for prefix in ("error: ", "warning: "):
            text = text.removeprefix(prefix)
        if severity == "error":
            file.errors.append(Diagnostic(source, severity, text, subject))
        elif severity == "warning":
            file.warnings.append(Diagnostic(source, severity, text, subject))
    if file.errors and file.failure is None:
        file.failure = f"the preview reported {len(file.errors)} error(s)"
    return file


# -- a pull-request comment ---------------------------------------------------------------------

#: Rows a markdown review lists by default: a pull-request comment holds 65,536 characters.
MARKDOWN_MAX_ROWS = 100
_MARKS = {Level.DESTRUCTIVE: "🛑", Level.ATTENTION: "⚠️", Level.NONE: ""}
_FAILED_MARK = "❌"
_MESSAGE_LIMIT = 3000
_ERRORS_PER_FILE = 10
_ERRORS_BUDGET = 20000
_MARKDOWN_SPECIALS = "\\`*_[]|~#"


def _md(text: str | None) -> str:
    """Text for a markdown table cell: nothing in it is markup, and it stays on one line."""
    if not text:
        return ""
    text = html.escape(" ".join(text.split()), quote=False)
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)


def _md_code(text: str | None) -> str:
    if not text:
        return ""
    if "`" in text:
        return _md(text)
    return "`" + " ".join(text.split()).replace("|", "\\|") + "`"


def _fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def verdict_sentence(review: Review) -> str:
    """What the review concludes, in one sentence (markdown)."""
    counts = review.counts
    if review.failed:
        return (
            f"**{_FAILED_MARK} The preview failed**: what it lists is not everything `pulumi up` would do. "
            "Fix the errors below first."
        )
    if review.level is Level.DESTRUCTIVE:
        destructive = sum(counts[c.key] for c in CONSEQUENCES if c.level is Level.DESTRUCTIVE)
        return (
            f"**{_MARKS[Level.DESTRUCTIVE]} Destructive: {destructive} organization(s) would be terminated, "
            "purged or replaced.** Check every row below before merging."
        )
    if review.level is Level.ATTENTION:
        attention = sum(1 for change in review.changes if change.level is Level.ATTENTION)
        return (
            f"**{_MARKS[Level.ATTENTION]} Needs attention: {attention} change(s)** suspend a customer, leave "
            "an organization unmanaged, or make a later removal destructive. Nothing is destroyed."
        )
    return "Nothing destructive or disruptive."


def markdown(review: Review, *, include_unchanged: bool = False, max_rows: int = MARKDOWN_MAX_ROWS) -> str:
    """The review as markdown for a pull-request comment: a heading, the counts, then a table per
    consequence, the most destructive first, at most ``max_rows`` rows in all."""
    lines = ["## Customer organizations: what this change does", "", verdict_sentence(review), ""]
    stacks = review.stacks
    lines += [
        f"Stacks: {', '.join(_md_code(stack) for stack in stacks) or 'none named'} "
        f"({len(review.files)} preview(s)).",
        "",
        "| | Consequence | Organizations |",
        "|---|---|---:|",
    ]
    counts = review.counts
    changes = review.changes
    levels = {
        c.key: max((x.level for x in changes if x.consequence == c), default=c.level) for c in CONSEQUENCES
    }
    for consequence in CONSEQUENCES:
        if counts[consequence.key] or consequence is UNCHANGED:
            mark = _MARKS[levels[consequence.key]]
            lines.append(f"| {mark} | {consequence.title} | {counts[consequence.key]} |")
    lines.append("")
    if review.unchanged_count and not review.unchanged and any(f.unlisted_unchanged for f in review.files):
        lines += [
            "<sub>Unchanged: counted by the engine, not listed by the preview "
            "(`pulumi preview --show-sames` lists them).</sub>",
            "",
        ]

    rows_left = max_rows
    listed = changes + (review.unchanged if include_unchanged else [])
    for consequence in CONSEQUENCES:
        rows = [change for change in listed if change.consequence == consequence]
        if not rows:
            continue
        mark = _MARKS[max(row.level for row in rows)]
        lines += [
            f"### {mark} {consequence.title} ({len(rows)})".replace("###  ", "### "),
            "",
            "| Organization | Name | Client id | Stack | Resource | What happens |",
            "|---|---|---|---|---|---|",
        ]
        shown = rows[: max(rows_left, 0)]
        for row in shown:
            organization = _md_code(row.organization_id) or "(new)"
            lines.append(
                f"| {organization} | {_md(row.name)} | {_md_code(row.client_id)} | "
                f"{_md(row.stack or row.source)} | {_md_code(row.resource)} | {_md(row.detail)} |"
            )
        rows_left -= len(shown)
        if len(shown) < len(rows):
            lines.append(
                f"| … | {len(rows) - len(shown)} more | | | | see the preview itself, or "
                "`exo-distributor review --output json` |"
            )
        lines.append("")

    budget = _ERRORS_BUDGET  # characters of error messages in all: many failed shards stay readable
    for file in review.failed:
        lines += [f"### {_FAILED_MARK} The preview failed: {_md(file.source)}", "", _md(file.failure), ""]
        cited = 0
        for error in file.errors[:_ERRORS_PER_FILE]:
            if budget <= 0:
                break
            message = error.message
            limit = min(_MESSAGE_LIMIT, budget)
            if len(message) > limit:
                message = message[:limit] + "\n[... cut]"
            budget -= len(message)
            lines += [_fenced(message), ""]
            cited += 1
        if len(file.errors) > cited:
            lines += [f"and {len(file.errors) - cited} more error(s): see the preview itself.", ""]

    warnings = review.warnings
    if warnings:
        distinct = Counter(warning.message for warning in warnings)
        lines += [f"<details><summary>{len(warnings)} warning(s) of the preview</summary>", ""]
        lines += [
            f"- {_md(message[:_MESSAGE_LIMIT])}" + (f" ({count} times)" if count > 1 else "")
            for message, count in list(distinct.items())[:_ERRORS_PER_FILE]
        ]
        lines += ["", "</details>", ""]
    lines.append(f"<sub>`exo-distributor review`: exit code {review.exit_code} ({review.verdict}).</sub>")
    return "\n".join(lines) + "\n"
