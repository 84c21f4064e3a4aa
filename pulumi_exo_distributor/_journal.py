"""The creates whose outcome is not known yet, written down before they are sent.

When a create's answer is lost, or its `pulumi up` is killed, the organization may exist while no
state records it. The next run finds it by its client id. Whether it may then be managed like one
this stack created (deleted per the program's ``deletion_policy``) or must be treated like one
that existed before (retained, since another stack or tool may manage it) depends on whether this
stack sent that create: the journal says so. It lives beside Pulumi's own files
(``$PULUMI_HOME``, else ``~/.pulumi``), so it is there for the next run on the same machine; on
another machine (a fresh CI runner) it is empty, and the safe answer, retain, applies.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

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
        with self._lock:
            return client_id in self._read().get(scope, {})

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
        with self._lock:
            entries = self._read()
            change(entries)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # Written whole, then renamed: a crash leaves the old journal or the new one.
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".journal-")
                with os.fdopen(fd, "w") as out:
                    json.dump({scope: ids for scope, ids in entries.items() if ids}, out)
                os.replace(tmp, self.path)
            except OSError:
                pass  # no journal: a later run treats what it finds as pre-existing (retained), the safe side
