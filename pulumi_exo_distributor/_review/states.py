"""What a step's old or new state records: its inputs and outputs, its deletion policy, name,
client id and id, and how two states' inputs differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .steps import _mapping

#: The engine's stand-in for a value not known until `up` (``pulumi.runtime.rpc.UNKNOWN``; not
#: imported: this module does without Pulumi).
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_POLICIES = ("purge", "terminate", "retain")


def _inputs(state: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _mapping((state or {}).get("inputs")) or {}


def _outputs(state: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return _mapping((state or {}).get("outputs")) or {}


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
