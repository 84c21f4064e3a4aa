"""Which resource of one deployment declares which organization and which client id.

A deployment (one provider process) sees each resource's declarations as the engine checks and
diffs them. Two resources declaring one client id, or managing one organization, would let the
removal of either terminate the customer under the other: the first claim wins and the second
is named. A resource is named by its identity, its default client id
(``pulumi:<project>/<stack>/<name>``).

The engine serves each provider resource (the default provider, each explicit one) by a process
of its own: a resource that adopts an organization may be served by another process than the
removed resource that managed it. The organizations' claims are therefore also kept, when the
front-end names a directory of its deployment, in one small file per organization there, so that
every process of the deployment sees them (the first claim wins there too).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

__all__ = ["Claims", "resource_label"]


def resource_label(identity: str | None) -> str:
    """A resource's name, for a message (``identity`` ends with it)."""
    return repr(identity.rsplit("/", 1)[-1]) if identity else "another resource"


class Claims:
    """The claims of one deployment; safe to use from the engine's parallel calls."""

    def __init__(self, shared: Path | None = None) -> None:
        #: The deployment's directory of organization claims, seen by each of its provider processes.
        self._shared = shared
        self._lock = threading.Lock()
        self._organizations: dict[str, str] = {}  # organization id (lower case) -> identity
        self._client_ids: dict[str, str] = {}  # client id -> identity
        self._replacing: dict[str, str] = {}  # identity -> id of the organization it replaces
        self._shared_written: dict[str, str] = {}  # organization id -> identity this process saw hold it
        self._shared_made = False

    def client_id(self, client_id: str, identity: str) -> str | None:
        """Record that ``identity`` declares ``client_id``; return the other resource that already does."""
        with self._lock:
            other = self._client_ids.setdefault(client_id, identity)
        return other if other != identity else None

    def organization(self, org_id: str, identity: str | None) -> str | None:
        """Record that ``identity`` manages ``org_id``; return the other resource that already does."""
        if identity is None:
            return None
        with self._lock:
            other = self._organizations.setdefault(org_id.lower(), identity)
        if other == identity:
            other = self._shared_claim(org_id.lower(), identity)
        return other if other != identity else None

    def manager(self, org_id: str) -> str | None:
        """The resource that manages ``org_id`` in this deployment, if one said so."""
        with self._lock:
            found = self._organizations.get(org_id.lower())
        return found if found is not None else self._shared_manager(org_id.lower())

    def _shared_claim(self, org_id: str, identity: str) -> str:
        """Claim ``org_id`` for ``identity`` in the deployment's directory: the identity that holds it.

        Written once per organization and process (the engine calls check, diff and update for one
        resource). Where the directory cannot be written, the claim stays this process's, as it was
        before the directory existed."""
        if self._shared is None:
            return identity
        with self._lock:
            if self._shared_written.get(org_id) == identity:
                return identity
            if not self._shared_made:
                try:
                    self._shared.mkdir(parents=True, exist_ok=True)
                except OSError:
                    return identity
                self._shared_made = True
        try:
            fd = os.open(self._shared / org_id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            holder = self._shared_manager(org_id) or identity
            if holder == identity:
                with self._lock:
                    self._shared_written[org_id] = identity
            return holder
        except OSError:
            return identity
        try:
            os.write(fd, identity.encode())
        finally:
            os.close(fd)
        with self._lock:
            self._shared_written[org_id] = identity
        return identity

    def _shared_manager(self, org_id: str) -> str | None:
        if self._shared is None:
            return None
        # A claim being written is empty for an instant: read until it is not (briefly).
        for _ in range(50):
            try:
                text = (self._shared / org_id).read_text(encoding="utf-8")
            except OSError:
                return None
            if text:
                return text
            time.sleep(0.01)
        return None

    def replaces(self, identity: str, org_id: str) -> None:
        """``identity`` is being replaced: its new organization must not be confused with ``org_id``."""
        with self._lock:
            self._replacing[identity] = org_id

    def replaced_by(self, identity: str | None) -> str | None:
        """The organization that ``identity``'s new one replaces, if any."""
        with self._lock:
            return self._replacing.get(identity or "")
