"""Which resource of one deployment declares which organization and which client id.

A deployment (one provider process) sees each resource's declarations as the engine checks and
diffs them. Two resources declaring one client id, or managing one organization, would let the
removal of either terminate the customer under the other: the first claim wins and the second
is named. A resource is named by its identity, its default client id
(``pulumi:<project>/<stack>/<name>``).

The engine serves each provider resource (the default provider, each explicit one) by a process
of its own: a resource that adopts an organization may be served by another process than the
removed resource that managed it. The organizations' claims are therefore also kept, when the
front-end names a directory of its deployment, in one file there that every process of the
deployment appends to and reads, ``claims.jsonl``: one line per claim, ``[organization id,
resource]``, and the first line of an organization wins there too. A claim costs one append and
one read of what was appended since, however many organizations the deployment has: each line is
one ``O_APPEND`` write, which a POSIX local file system keeps whole and in order against the other
processes' (a reader takes complete lines only, and a line starts with a newline, so that a write
cut short by a full disk spoils no other line).
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from pathlib import Path

__all__ = ["Claims", "resource_label"]


def _read_at(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # no pread (Windows): the reads are made under one lock
    return os.read(fd, size)


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
        self._shared_fd: int | None = None
        self._shared_failed = False
        self._shared_read = 0  # how far the file is read
        self._shared_holders: dict[str, str] = {}  # organization id -> its first claim in the file

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
        """Claim ``org_id`` for ``identity`` in the deployment's file: the identity that holds it.

        Written once per organization and process (the engine calls check, diff and update for one
        resource). Where the file cannot be written, the claim stays this process's, as it was
        before the file existed."""
        with self._lock:
            if self._shared_holders.get(org_id) == identity:
                return identity  # its first claim in the file: final
            log = self._log()
            if log is None:
                return identity
            try:
                line = b"\n" + json.dumps([org_id, identity]).encode() + b"\n"
                if os.write(log, line) != len(line):
                    return identity
                return self._read_log(log).get(org_id, identity)
            except OSError:
                return identity

    def _shared_manager(self, org_id: str) -> str | None:
        with self._lock:
            log = self._log()
            if log is None:
                return None
            try:
                return self._read_log(log).get(org_id)
            except OSError:
                return None

    def _log(self) -> int | None:
        """The deployment's claims file, opened once (under the lock); None where it cannot be."""
        if self._shared is None or self._shared_failed:
            return None
        if self._shared_fd is None:
            try:
                self._shared.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._shared / "claims.jsonl", os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError:
                self._shared_failed = True
                return None
            self._shared_fd = fd
            weakref.finalize(self, os.close, fd)
        return self._shared_fd

    def _read_log(self, fd: int) -> dict[str, str]:
        """The first holder of each organization in the file, with the lines appended since the
        last read (under the lock)."""
        appended = b""
        while True:
            chunk = _read_at(fd, 1 << 16, self._shared_read + len(appended))
            appended += chunk
            if len(chunk) < 1 << 16:
                break
        whole = appended.rfind(b"\n") + 1  # a line being written is read once it is whole
        self._shared_read += whole
        for raw in appended[:whole].split(b"\n"):
            try:
                org, holder = json.loads(raw)
            except (ValueError, TypeError):
                continue  # an empty line, or one cut short
            if isinstance(org, str) and isinstance(holder, str):
                self._shared_holders.setdefault(org, holder)
        return self._shared_holders

    def replaces(self, identity: str, org_id: str) -> None:
        """``identity`` is being replaced: its new organization must not be confused with ``org_id``."""
        with self._lock:
            self._replacing[identity] = org_id

    def replaced_by(self, identity: str | None) -> str | None:
        """The organization that ``identity``'s new one replaces, if any."""
        with self._lock:
            return self._replacing.get(identity or "")
