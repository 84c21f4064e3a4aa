"""Where the statements of closed months live: one local file per organization and month, read,
written atomically and cleared.

The cache (:class:`UsageCache`): a month that has ended is closed, and its statement no longer
changes. Each statement of a closed month is written to a local file as soon as it is read
(atomically: a temporary file renamed over the entry), so a run that fails or is killed keeps what
it read and the next run reads only the rest. A month not closed when the run started is always
read from the API and never cached. Entries live under ``$XDG_CACHE_HOME/exo-distributor/usage``
(``~/.cache/...`` without it), one directory per endpoint and API key (a fingerprint of both,
never the key), then ``<organization id>/<YYYY-MM>.json``; they are kept until cleared
(:meth:`UsageCache.clear`), since a closed month does not change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path

from .._data import UsageStatementInfo, check_period

#: Bumped when an entry's layout changes: entries of another format are read again.
CACHE_FORMAT = 1

_MONTH_FILE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])\.json")


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/exo-distributor/usage``, else ``~/.cache/exo-distributor/usage``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or ""
    # The XDG rule: a relative path is invalid and ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "exo-distributor" / "usage"


class UsageCache:
    """Statements of closed months, one file per organization and month, under ``directory``
    (one endpoint and key: see :meth:`for_key`). Thread-safe: each entry is its own file,
    replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        #: The first failure to write an entry (the run goes on; the next one reads it again).
        self.write_error: OSError | None = None
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def for_key(cls, key_fingerprint: str, root: Path | None = None) -> UsageCache:
        """The cache of one endpoint and key, named by ``Credentials.key_fingerprint``."""
        name = key_fingerprint.split(":", 1)[-1]
        if not re.fullmatch(r"[0-9a-f]{8,64}", name):
            raise ValueError(f"not a key fingerprint: {key_fingerprint!r}")
        return cls((root or cache_root()) / name)

    def _path(self, organization_id: str, period: str) -> Path:
        check_period(period)
        try:
            canonical = str(uuid.UUID(organization_id))
        except ValueError:
            canonical = None
        if canonical != organization_id:  # never a path of another shape
            raise ValueError(f"not an organization id: {organization_id!r}")
        return self.directory / organization_id / f"{period}.json"

    def get(self, organization_id: str, period: str) -> list[UsageStatementInfo] | None:
        """The cached statements, or None if there are none (or the entry cannot be used)."""
        try:
            entry = json.loads(self._path(organization_id, period).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not (
            isinstance(entry, dict)
            and entry.get("format") == CACHE_FORMAT
            and entry.get("organization_id") == organization_id
            and entry.get("period") == period
            and isinstance(entry.get("statements"), list)
            and all(_is_statement(item) for item in entry["statements"])
        ):
            return None
        statements: list[UsageStatementInfo] = entry["statements"]
        return statements

    def put(
        self, organization_id: str, period: str, statements: list[UsageStatementInfo], read_at: dt.datetime
    ) -> None:
        """Write the entry atomically; a failure is kept in :attr:`write_error`, not raised."""
        path = self._path(organization_id, period)
        entry = {
            "format": CACHE_FORMAT,
            "organization_id": organization_id,
            "period": period,
            "read_at": read_at.isoformat(),
            "statements": statements,
        }
        temporary: str | None = None
        try:
            # Billing figures: this key's directory is the user's alone (and mkstemp's files).
            if not self._ready:
                self.directory.parent.mkdir(parents=True, exist_ok=True)
                self.directory.mkdir(mode=0o700, exist_ok=True)
                self._ready = True
            path.parent.mkdir(mode=0o700, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(entry, file, ensure_ascii=False)
            # A rename within a directory is atomic: a reader sees the old entry or the new one,
            # and a kill leaves at worst a stray .tmp file (which clear() removes).
            os.replace(temporary, path)
        except OSError as exc:
            with self._lock:
                self.write_error = self.write_error or exc
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    def entries(self) -> int:
        """How many entries there are (any organization, any month)."""
        if not self.directory.is_dir():
            return 0
        return sum(1 for path in self.directory.glob("*/*.json") if _MONTH_FILE.fullmatch(path.name))

    def clear(self) -> int:
        """Remove every entry of this endpoint and key; return how many there were."""
        count = self.entries()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self._ready = False
        return count


def _is_statement(item: object) -> bool:
    return isinstance(item, dict) and isinstance(item.get("usage"), list) and "currency" in item
