"""The rules that keep customers safe, independent of any engine: no module here imports Pulumi.

- :mod:`.claims`: which resource of one deployment declares which organization and client id;
- :mod:`.directory`: the distributor's organizations as one process sees them (one list, lookups);
- :mod:`.create`: create exactly once, and when an existing organization may be taken over;
- :mod:`.lifecycle`: check, create, read, diff, update and delete of one organization, on plain
  values, as a front-end (the dynamic provider, a provider plugin) hands them over.
"""

from __future__ import annotations

from .claims import Claims
from .create import CreateOnce
from .directory import Directory
from .lifecycle import Checked, Diffed, Lifecycle, Read

__all__ = ["Checked", "Claims", "CreateOnce", "Diffed", "Directory", "Lifecycle", "Read"]
