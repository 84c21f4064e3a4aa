"""Which version of the package wrote an organization's state, and whether this one may drive it.

Each organization's outputs record ``provider_version``, the version that last wrote them. A stack
written by a newer version is refused by an older one: CI runners or shards with different wheels
would otherwise drive one fleet with different rules (an older version lacks the newer guards),
unnoticed. Versions are compared by their public part (PEP 440), so two builds of one commit with
different local labels are equal.
"""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

from packaging.version import InvalidVersion, Version

__all__ = ["DISTRIBUTION", "current_version", "newer_than_current"]

#: The distribution's name on PyPI.
DISTRIBUTION = "pulumi-exo-distributor"


@functools.cache
def current_version() -> str:
    """This installation's version (``0+unknown`` for a source tree that was never installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


@functools.lru_cache(maxsize=64)
def _public(text: str) -> Version | None:
    try:
        return Version(Version(text).public)
    except InvalidVersion:
        return None


def newer_than_current(recorded: object) -> str | None:
    """``recorded`` if it names a version newer than this one, else ``None`` (an absent or
    unreadable record is an earlier version's: it predates the record)."""
    if not isinstance(recorded, str):
        return None
    theirs, ours = _public(recorded), _public(current_version())
    if theirs is None or ours is None or theirs <= ours:
        return None
    return recorded
