"""The engine's property values and the core's plain values, both ways.

In: ``PropertyValue`` maps with the schema's camelCase keys become plain dicts with the core's
snake_case keys; a value the engine does not know yet becomes the engine's own unknown sentinel,
which the core recognises; secrets are unwrapped and their keys remembered. Out: the reverse, with
every key that came in secret going out secret (a program may mark its owner's e-mail secret).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue

from .._inputs import UNKNOWN
from ._names import camel, snake

__all__ = ["NESTED", "from_engine", "secret_keys", "to_engine", "unknown_keys"]

#: The properties whose value is a mapping with schema-named keys.
NESTED = frozenset({"billing_address", "remote_billing_address"})


def _plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: _plain(v) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [_plain(v) for v in inner]
    return inner


def from_engine(props: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Plain snake_case properties, and ``(schema field, reason)`` for each key that is not a
    schema name (a snake_case spelling is refused with the right one)."""
    out: dict[str, Any] = {}
    refused: list[tuple[str, str]] = []
    for key, value in props.items():
        if key.startswith("__"):
            continue
        if "_" in key:
            refused.append((key, f"{key} is not a property of this resource: did you mean {camel(key)}?"))
            continue
        name = snake(key)
        plain = _plain(value)
        if name in NESTED and isinstance(plain, Mapping):
            nested: dict[str, Any] = {}
            for sub, item in plain.items():
                if "_" in sub:
                    refused.append(
                        (f"{key}.{sub}", f"{key}.{sub} is not a field of {key}: did you mean {camel(sub)}?")
                    )
                    continue
                nested[snake(sub)] = item
            plain = nested
        out[name] = plain
    return out, refused


def secret_keys(*maps: Mapping[str, PropertyValue]) -> frozenset[str]:
    """The snake_case names of the properties holding a secret in any of ``maps``."""
    return frozenset(snake(k) for props in maps for k, v in props.items() if v.contains_secret())


def unknown_keys(props: Mapping[str, Any]) -> list[str]:
    return [k for k, v in props.items() if v == UNKNOWN]


def _value(value: Any, *, nested: bool = False) -> PropertyValue:
    if isinstance(value, PropertyValue):
        return value
    if isinstance(value, str) and value == UNKNOWN:
        return PropertyValue.computed()
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return PropertyValue(value)
    if isinstance(value, int):
        return PropertyValue(float(value))
    if isinstance(value, Mapping):
        return PropertyValue(
            {(camel(str(k)) if nested else str(k)): _value(v, nested=nested) for k, v in value.items()}
        )
    if isinstance(value, Sequence):
        return PropertyValue([_value(v, nested=nested) for v in value])
    return PropertyValue(str(value))


def to_engine(
    props: Mapping[str, Any], secrets: Iterable[str] = (), *, drop_none: bool = False, deep: bool = False
) -> dict[str, PropertyValue]:
    """Schema-named property values from plain snake_case ones; ``secrets`` go out secret.
    ``deep``: every nested mapping's keys in camelCase too (a function's result)."""
    hidden = frozenset(secrets)
    out: dict[str, PropertyValue] = {}
    for key, value in props.items():
        if drop_none and value is None:
            continue
        converted = _value(value, nested=deep or key in NESTED)
        if key in hidden:
            converted = converted.with_secret(True)
        out[camel(key)] = converted
    return out
