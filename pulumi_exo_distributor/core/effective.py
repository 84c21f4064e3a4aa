"""The effective inputs and outputs of an organization: what check completes, what diff compares,
what the state records.

Defaults depend on a resource's history (``olds``: its recorded inputs or outputs): a client id
not declared is the one recorded, or the resource's own for a new one; ``deletion_policy`` not
declared is the static default, recorded in the inputs so that every preview shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import _explain as explain
from .._errors import DistributorOrganizationError
from .._inputs import (
    ADDRESS_FIELDS,
    INPUT_FIELDS,
    NEVER_RETURNED,
    OrganizationArgs,
    comparable,
    create_only_changes,
    default_deletion_policy,
    has_unknown,
    validate,
)
from .._writer import current_version
from .create import remote_address

if TYPE_CHECKING:
    from .._models import Organization

__all__ = [
    "NEVER_RETURNED",
    "args_from_state",
    "changed",
    "complete",
    "imported_inputs",
    "imported_outputs",
    "imported_undeclared",
    "organization_from_state",
    "outputs",
    "parse",
    "policy_change_refused",
    "replacement_refused",
    "user_props",
]


def user_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's own properties: engine-private keys and unset values left out."""
    return {k: v for k, v in props.items() if not k.startswith("__") and v is not None}


def outputs(
    args: OrganizationArgs, org: Organization, deletion_policy: str, key_fingerprint: str
) -> dict[str, Any]:
    """Complete outputs: what the program declared (diff compares it with the next
    declaration), the status the API reports, and what the API says of the address."""
    return {
        "display_name": args.display_name,
        "owner_email": args.owner_email,
        "billing_address": args.billing_address.to_dict(),
        "client_id": args.client_id if args.client_id is not None else org.client_id,
        "status": org.status.value,
        "deletion_policy": deletion_policy,
        "adopt_id": args.adopt_id,
        "allow_replacement": args.allow_replacement,
        "default_client_id": args.default_client_id,
        "key_fingerprint": key_fingerprint,
        "remote_billing_address": remote_address(org),
        "provider_version": current_version(),
    }


def imported_undeclared(state: Mapping[str, Any]) -> bool:
    """Whether ``state`` (recorded inputs or outputs) is an imported organization's that no
    program has declared yet: it adopts the organization and lacks what the API never returns.
    Every state this package's resources write has a display name, so this is an import's only."""
    return bool(state.get("adopt_id")) and state.get("display_name") is None


def imported_outputs(org: Organization, state: Mapping[str, Any], key_fingerprint: str) -> dict[str, Any]:
    """The outputs of an imported organization, from the API's answer and what the state recorded
    (nothing at the import itself): an adoption, whose policy is ``retain`` unless recorded."""
    remote = remote_address(org)
    recorded = state.get("billing_address")
    address = (
        recorded if recorded is not None else {k: v for k, v in (remote or {}).items() if k in ADDRESS_FIELDS}
    )
    return {
        "billing_address": comparable(address),
        "client_id": state.get("client_id") if state.get("client_id") is not None else org.client_id,
        "status": org.status.value,
        "deletion_policy": state.get("deletion_policy") or default_deletion_policy(adopting=True),
        "adopt_id": state.get("adopt_id") or str(org.id),
        "allow_replacement": False,
        "default_client_id": state.get("default_client_id"),
        "key_fingerprint": key_fingerprint,
        "remote_billing_address": remote,
        "provider_version": current_version(),
    }


def imported_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs an import records: the adoption as a program would declare it, without what the
    API never returns (the program's values are recorded at its first run, with no change)."""
    inputs = {
        key: outs[key] for key in INPUT_FIELDS if outs.get(key) is not None and key not in NEVER_RETURNED
    }
    if inputs.get("status") not in ("active", "suspended"):
        inputs.pop("status", None)  # `created`: the program's status (active by default) applies
    inputs.pop("allow_replacement", None)
    return inputs


def complete(
    olds: Mapping[str, Any], news: Mapping[str, Any], *, validated: bool = False
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Checked inputs with their defaults, which depend on the resource's history (``olds``: its
    recorded inputs or outputs, empty for a new resource). ``validated``: ``news`` are inputs
    :func:`validate` gave (with the defaults of this function), which it would give again as they are."""
    problems: list[tuple[str, str]]
    if validated:
        inputs, problems = user_props(news), []
    else:
        inputs, problems = validate(news, recorded_email=olds.get("owner_email"))
    adopting = "adopt_id" in inputs
    if "client_id" not in inputs:
        # Not declared: an existing resource keeps the client id it has; a new one gets the
        # resource's own, so that it can be found again after a crash or a lost answer.
        if olds:
            if olds.get("client_id") is not None:
                inputs["client_id"] = comparable(olds["client_id"])
        elif not adopting and "default_client_id" in inputs:
            inputs["client_id"] = inputs["default_client_id"]
    inputs.setdefault("status", "active")
    # The program's policy, or the static default: recorded in the state's inputs, so that removing
    # a declared policy is a change the preview shows, and every delete shows what it does.
    inputs.setdefault("deletion_policy", default_deletion_policy(adopting=adopting))
    return inputs, problems


def parse(props: Mapping[str, Any]) -> OrganizationArgs:
    inputs, problems = validate(props)
    if problems:
        raise DistributorOrganizationError("invalid inputs: " + "; ".join(reason for _, reason in problems))
    return OrganizationArgs.from_inputs(inputs)


def args_from_state(state: Mapping[str, Any]) -> OrganizationArgs:
    recorded: dict[str, Any] = {
        key: comparable(state[key]) for key in INPUT_FIELDS if state.get(key) is not None
    }
    address = recorded.get("billing_address") or {}
    recorded["billing_address"] = {k: v for k, v in address.items() if k in ADDRESS_FIELDS}
    return OrganizationArgs.from_inputs(recorded)


def organization_from_state(id_: str, state: Mapping[str, Any]) -> Organization:
    from .._models import Organization

    return Organization.model_validate(
        {"id": id_, "status": state["status"], "client-id": state.get("client_id")}
    )


def replacement_refused(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
    changes = create_only_changes(olds, news)
    if not changes:
        return []
    if news.get("allow_replacement") is not True:
        return [
            (field, explain.replacement_refused(field, old, new, policy=olds.get("deletion_policy")))
            for field, old, new in changes
        ]
    # Inputs recorded by versions that left an undeclared policy out of them: diff, which sees
    # the recorded outputs, applies the same rule.
    refused = policy_change_refused(olds, news, changes)
    return [("deletion_policy", refused)] if refused else []


def policy_change_refused(
    olds: Mapping[str, Any], news: Mapping[str, Any], changes: list[tuple[str, object, object]]
) -> str | None:
    """Why a replacement may not also change the policy: the organization it replaces is deleted
    with the recorded one, which the reviewer would not expect."""
    old, new = olds.get("deletion_policy"), news.get("deletion_policy")
    if old is None or new is None or has_unknown(new) or new == old or not changes:
        return None
    return explain.policy_change_with_replacement(old, new, [change[0] for change in changes])


def _known_differs(new: object, old: object) -> bool:
    return has_unknown(new) or comparable(old) != new


def changed(key: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    if key in NEVER_RETURNED and olds.get(key) is None:
        return False  # never known (an imported organization): recorded with the next update
    if key == "adopt_id":
        return False  # bookkeeping: recorded with the next update, never a change by itself
    if key == "default_client_id":
        # The resource's identity, which changes with a rename (`aliases`): recorded at once (an
        # update with no API call), so that a delete knows which resource it is, never the
        # former name that a new resource may now bear.
        # A state that recorded none (written by an early version) is no rename.
        old, new = olds.get(key), news.get(key)
        return old is not None and new is not None and not has_unknown(new) and new != old
    new = news.get(key)
    if key == "client_id" and new is None:
        return False  # not declared: the recorded one stays
    if key == "allow_replacement":
        return bool(olds.get(key)) != bool(new) and not has_unknown(new)
    return _known_differs(new, olds.get(key))
