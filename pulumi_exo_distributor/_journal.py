"""The creates whose outcome is not known yet, written down before they are sent.

When a create's answer is lost, or its `pulumi up` is killed, the organization may exist while no
state records it. The next run finds it by its client id. It may be taken over as this resource's
own (and deleted one day per the program's ``deletion_policy``) only with proof that this resource
sent that create. A client id the program declares is no such proof (another stack, a person or a
renamed resource may use it): the journal is. Each entry names the resource that sent the create
(its default client id, ``pulumi:<project>/<stack>/<name>``), so an entry proves nothing to another
resource or stack. It lives beside Pulumi's own files (``$PULUMI_HOME``, else ``~/.pulumi``), so it
is there for the next run on the same machine; on another machine (a fresh CI runner) it is empty,
and the provider refuses to take the organization over without ``adopt_id`` (a resource that uses
its default client id needs no journal: that client id is its proof).

One small file per entry, ``unknown-creates/<scope>/<client id>.json`` (both names hashed, so any
client id makes a safe file name): a create writes its own entry (whole, then renamed into place)
and nothing else, an end (the create done, or refused, or the organization seen in a state) removes it, a
look-up reads it. Each costs the same at 10 or 10,000
organizations, and provider processes of stacks run in parallel on one machine (the shards of a
fleet) never rewrite each other's entries, so none is lost and no lock is needed.

An entry that cannot be read, or that names another scope, client id or resource (edited by hand,
or written by an earlier version that recorded no resource), holds nothing: a create this resource
sent is never inferred from it. A journal that cannot be written never fails a create: the next run
then asks for ``adopt_id``, the safe side.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from ._config import package_home

__all__ = ["CreateJournal"]


def _name(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class CreateJournal:
    """Client ids whose create was sent (or about to be) and not known to have ended, per scope
    (endpoint and API key, as a fingerprint), each with the resource that sent it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        #: Per scope, the entries its directory held when this process first ended one, less those
        #: it removed since: a refresh of N organizations removes what is there, not N names, and a
        #: resource's read and diff (or check, diff and update) remove its entry once.
        self._present: dict[Path, set[str] | None] = {}
        self._begun: set[Path] = set()  # entries this process wrote

    @classmethod
    def default(cls) -> CreateJournal:
        return cls(package_home() / "unknown-creates")

    def entry(self, scope: str, client_id: str) -> Path:
        """Where the entry of ``client_id`` in ``scope`` lives."""
        return self.root / _name(scope) / f"{_name(client_id)}.json"

    def begin(self, scope: str, client_id: str, owner: str) -> None:
        """Before ``owner`` (a resource's default client id) sends a create."""
        entry = self.entry(scope, client_id)
        self._begun.add(entry)
        record = {"scope": scope, "client_id": client_id, "owner": owner, "since": time.time()}
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            # Written whole, then renamed: a crash leaves no entry or a whole one.
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".entry-")
            try:
                with os.fdopen(fd, "w") as out:
                    json.dump(record, out)
                os.replace(tmp, entry)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # no journal: a later run asks for adopt_id rather than take it over, the safe side

    def end(self, scope: str, client_id: str) -> None:
        """Once the create's outcome is known: done (created and brought to its status), refused,
        or the organization seen in the stack's state by a later operation."""
        # Left behind, an entry can only make a later run take the organization as its own.
        entry = self.entry(scope, client_id)
        present = self._entries(entry.parent)
        if entry not in self._begun and present is not None and entry.name not in present:
            # Not there when first looked (or removed since), nor begun here since: an entry another
            # process writes later is its create's, which that process ends (as if this end had
            # come first).
            return
        with contextlib.suppress(OSError):
            entry.unlink(missing_ok=True)
            self._begun.discard(entry)
            if present is not None:
                present.discard(entry.name)

    def _entries(self, directory: Path) -> set[str] | None:
        """The entries of one scope's directory when this process first looked (None: unknown)."""
        if directory not in self._present:
            try:
                found: set[str] | None = set(os.listdir(directory))
            except FileNotFoundError:
                found = set()
            except OSError:
                found = None
            self._present.setdefault(directory, found)
        return self._present[directory]

    def holds(self, scope: str, client_id: str, owner: str) -> bool:
        """Whether ``owner`` sent a create for ``client_id`` in ``scope`` that has not ended."""
        try:
            record = json.loads(self.entry(scope, client_id).read_text())
        except (OSError, ValueError):
            return False
        return (
            isinstance(record, dict)
            and record.get("scope") == scope
            and record.get("client_id") == client_id
            and record.get("owner") == owner
        )
