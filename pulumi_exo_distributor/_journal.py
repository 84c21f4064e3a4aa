"""The creates whose outcome is not known yet, written down before they are sent.

When a create's answer is lost, or its `pulumi up` is killed, the organization may exist while no
state records it. The next run finds it by its client id. Whether it may then be managed like one
this stack created (deleted per the program's ``deletion_policy``) or must be treated like one
that existed before (retained, since another stack or tool may manage it) depends on whether this
stack sent that create: the journal says so. It lives beside Pulumi's own files
(``$PULUMI_HOME``, else ``~/.pulumi``), so it is there for the next run on the same machine; on
another machine (a fresh CI runner) it is empty, and the safe answer, retain, applies.

Several provider processes of one machine share it (stacks run in parallel, such as the shards of
a fleet): each change is a read and a whole rewrite, made under an exclusive ``flock`` of a lock
file beside it, so that no process's entry is lost to another's rewrite. Where ``fcntl`` does not
exist (Windows) only the threads of one process are serialised.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["CreateJournal"]


class CreateJournal:
    """Client ids whose create was sent (or about to be) and not known to have ended, per scope
    (endpoint and API key, as a fingerprint)."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> CreateJournal:
        home = os.environ.get("PULUMI_HOME") or str(Path.home() / ".pulumi")
        return cls(Path(home) / "exo-distributor" / "unknown-creates.json")

    def begin(self, scope: str, client_id: str) -> None:
        """Before sending a create."""
        self._update(lambda entries: entries.setdefault(scope, {}).__setitem__(client_id, time.time()))

    def end(self, scope: str, client_id: str) -> None:
        """Once the create's outcome is known for good: refused, or the organization seen in the
        stack's state by a later operation (a create that succeeded may still die before the
        engine records it)."""
        if self.holds(scope, client_id):
            self._update(lambda entries: entries.get(scope, {}).pop(client_id, None))

    def holds(self, scope: str, client_id: str) -> bool:
        with self._exclusive():
            return client_id in self._read().get(scope, {})

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """This process's threads, then other processes (a lock file, held while it is open)."""
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                fd = None  # the journal itself cannot be written either (see _update)
            try:
                if fd is not None and fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                if fd is not None:
                    os.close(fd)  # releases the flock

    def _read(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        # A scope of another shape (edited by hand, say) holds nothing: a create this stack sent is
        # never inferred from it, and it never breaks a create.
        return {scope: ids for scope, ids in data.items() if isinstance(ids, dict)}

    def _update(self, change: Callable[[dict[str, dict[str, float]]], object]) -> None:
        with self._exclusive():
            entries = self._read()
            change(entries)
            try:
                # Written whole, then renamed: a crash leaves the old journal or the new one.
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".journal-")
                with os.fdopen(fd, "w") as out:
                    json.dump({scope: ids for scope, ids in entries.items() if ids}, out)
                os.replace(tmp, self.path)
            except OSError:
                pass  # no journal: a later run treats what it finds as pre-existing (retained), the safe side
