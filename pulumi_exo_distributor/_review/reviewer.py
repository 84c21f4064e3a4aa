"""What each step means to a customer: the reviewer turns the steps of one preview into changes."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Iterator, Sequence

from .._data import DYNAMIC_RESOURCE_TYPE
from .model import (
    CREATE,
    CREATE_AGAIN,
    LEAVE_RUNNING,
    OTHER_STEP,
    POLICY_CHANGE,
    REACTIVATE,
    RECORD_ONLY,
    REPLACE,
    SUSPEND,
    TAKE_OVER,
    TERMINATE,
    TERMINATE_AND_PURGE,
    UNCHANGED,
    Change,
    Consequence,
    Diagnostic,
    Level,
    PreviewFile,
)
from .states import (
    _UNKNOWN,
    _client_id,
    _differences,
    _id,
    _inputs,
    _name,
    _new_policy,
    _outputs,
    _policy,
    _recorded,
    _text,
)
from .steps import _Parsed, _Step, _urn_parts

#: How destructive a later removal is under each policy (a change upwards needs a look).
_POLICY_SEVERITY = {"retain": 0, "terminate": 1, "purge": 2}
#: Properties the engine or the resource class keeps for itself: never a change worth naming.
_BOOKKEEPING = frozenset({"__provider", "default_client_id", "adopt_id", "key_fingerprint"})
_CREATE_ONLY = ("display_name", "billing_address", "client_id")
_REPLACEMENT_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})
#: Steps with no effect on an organization: reads of resources the program does not manage, and
#: the engine's own book-keeping.
_SILENT_OPS = frozenset({"read", "read-replacement", "discard", "discard-replaced", "remove-pending-replace"})


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
