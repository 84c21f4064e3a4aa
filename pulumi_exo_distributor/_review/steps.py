"""A preview's steps as plain data, whatever the shape they came in: what reading a preview
yields and what the reviewer reads, with the URN a step names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


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
