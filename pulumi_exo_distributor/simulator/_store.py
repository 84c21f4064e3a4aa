"""Organizations in SQLite: tenancy, the status lifecycle and purges.

One connection per store, serialized by a lock: SQLite is fast enough for a simulator and a
single connection is the only way an in-memory database can be shared between threads.
Writes run in ``BEGIN IMMEDIATE`` transactions, so two simulator processes on the same file
(WAL mode) cannot interleave a read-modify-write either.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ._schema import BILLING_ADDRESS_SCHEMA

__all__ = ["Conflict", "Foreign", "NotFound", "Store", "StoredOrganization", "next_status"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    display_name TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    client_id TEXT,
    billing_address TEXT NOT NULL,
    created_at REAL NOT NULL,
    purge_at REAL,
    updated_at REAL
);
CREATE INDEX IF NOT EXISTS organizations_by_owner ON organizations (owner);
"""

_ADDRESS_FIELDS = tuple(BILLING_ADDRESS_SCHEMA["properties"])

_COLUMNS = (
    "id, owner, status, display_name, owner_email, client_id, billing_address, created_at, purge_at, "
    "updated_at"
)


class NotFound(Exception):
    """The organization does not exist for this distributor (never created, other tenant, purged)."""


class Foreign(NotFound):
    """The organization exists, but belongs to another distributor (a kind of :class:`NotFound`)."""


class Conflict(Exception):
    """The request contradicts the organization's state."""


@dataclass(frozen=True)
class StoredOrganization:
    id: str
    owner: str
    status: str
    display_name: str
    owner_email: str
    client_id: str | None
    billing_address: Mapping[str, str]
    created_at: float
    purge_at: float | None
    #: When the status last changed (the creation, at first).
    updated_at: float

    def to_output(self) -> dict[str, Any]:
        """The ``organization-output`` representation: no display-name, never the owner e-mail."""
        output: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "billing-address": dict(self.billing_address),
        }
        if self.client_id is not None:
            output["client-id"] = self.client_id
        return output

    @classmethod
    def _from_row(cls, row: tuple[Any, ...]) -> StoredOrganization:
        (
            org_id,
            owner,
            status,
            display_name,
            owner_email,
            client_id,
            address,
            created_at,
            purge_at,
            updated_at,
        ) = row
        return cls(
            id=org_id,
            owner=owner,
            status=status,
            display_name=display_name,
            owner_email=owner_email,
            client_id=client_id,
            billing_address=json.loads(address),
            created_at=created_at,
            purge_at=purge_at,
            # NULL in rows written before the column existed.
            updated_at=created_at if updated_at is None else updated_at,
        )


# action -> (statuses it applies to, resulting status). Reaching the status an organization is
# already in is a no-op success: activate and suspend are idempotent on their target state.
_TRANSITIONS: Mapping[str, tuple[frozenset[str], str]] = {
    "activate": (frozenset({"created", "suspended", "active"}), "active"),
    "suspend": (frozenset({"created", "active", "suspended"}), "suspended"),
    "terminate": (frozenset({"created", "active", "suspended", "terminated"}), "terminated"),
}


def next_status(current: str, action: str) -> str:
    """The status after ``action``; raise :class:`Conflict` if it cannot apply to ``current``."""
    allowed, target = _TRANSITIONS[action]
    if current not in allowed:
        raise Conflict(f"cannot {action} an organization whose status is {current}")
    return target


class Store:
    """Organizations of every distributor, keyed by the distributor's API key (``owner``)."""

    def __init__(self, path: str | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # isolation_level=None: no implicit transactions; we say BEGIN IMMEDIATE ourselves.
        self._db = sqlite3.connect(
            ":memory:" if path is None else path, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            self._db.execute("PRAGMA busy_timeout = 10000")
            if path is not None:
                self._db.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL survives a crash of the process (not of the machine).
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Bring a database file written by an older simulator up to the current schema."""
        self._db.execute("BEGIN IMMEDIATE")  # two processes opening one file migrate once
        try:
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(organizations)")}
            if "updated_at" not in columns:
                self._db.execute("ALTER TABLE organizations ADD COLUMN updated_at REAL")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # Purges are applied lazily: whatever is past its deadline disappears before
                # anyone can look, and a deadline stored on disk survives a restart.
                self._db.execute(
                    "DELETE FROM organizations WHERE purge_at IS NOT NULL AND purge_at <= ?", (self._clock(),)
                )
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _fetch(self, db: sqlite3.Connection, owner: str, org_id: str) -> StoredOrganization:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM organizations WHERE id = ?",  # noqa: S608 -- constant
            (org_id,),
        ).fetchone()
        if row is None:
            raise NotFound(org_id)
        org = StoredOrganization._from_row(row)
        if org.owner != owner:
            raise Foreign(org_id)
        return org

    def create(
        self, owner: str, body: Mapping[str, Any], *, status: str, unique_client_id: bool = False
    ) -> StoredOrganization:
        """Store a validated ``organization-input`` body as a new organization of ``owner``."""
        client_id = body.get("client-id")
        address = body["billing-address"]
        now = self._clock()
        org = StoredOrganization(
            id=str(uuid.uuid4()),
            owner=owner,
            status=status,
            display_name=body["display-name"],
            owner_email=body["owner-email"],
            client_id=client_id,
            # Only the fields of the schema: with unknown fields ignored, extras are dropped.
            billing_address={key: address[key] for key in _ADDRESS_FIELDS if key in address},
            created_at=now,
            purge_at=None,
            updated_at=now,
        )
        with self._transaction() as db:
            if unique_client_id and client_id is not None:
                taken = db.execute(
                    "SELECT id FROM organizations WHERE owner = ? AND client_id = ?", (owner, client_id)
                ).fetchone()
                if taken is not None:
                    raise Conflict(f"client-id {client_id!r} is already used by organization {taken[0]}")
            db.execute(
                f"INSERT INTO organizations ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    org.id,
                    org.owner,
                    org.status,
                    org.display_name,
                    org.owner_email,
                    org.client_id,
                    json.dumps(org.billing_address),
                    org.created_at,
                    None,
                    org.updated_at,
                ),
            )
        return org

    def get(self, owner: str, org_id: str) -> StoredOrganization:
        with self._transaction() as db:
            return self._fetch(db, owner, org_id)

    def list(self, owner: str) -> list[StoredOrganization]:
        """The organizations of ``owner`` in creation order."""
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM organizations WHERE owner = ? ORDER BY rowid",  # noqa: S608
                (owner,),
            ).fetchall()
        return [StoredOrganization._from_row(row) for row in rows]

    def apply(self, owner: str, org_id: str, action: str) -> tuple[StoredOrganization, bool]:
        """Apply ``activate``, ``suspend`` or ``terminate``; return the result and whether it changed."""
        with self._transaction() as db:
            org = self._fetch(db, owner, org_id)
            status = next_status(org.status, action)
            if status == org.status:
                return org, False
            db.execute(
                "UPDATE organizations SET status = ?, updated_at = ? WHERE id = ?",
                (status, self._clock(), org_id),
            )
            return self._fetch(db, owner, org_id), True

    def schedule_purge(self, owner: str, org_id: str, delay_s: float) -> float | None:
        """Delete a terminated organization now (``delay_s`` 0, returns ``None``) or at a deadline.

        Returns the deadline (epoch seconds). Scheduling again keeps the first deadline, so
        a retried request cannot postpone the purge.
        """
        with self._transaction() as db:
            org = self._fetch(db, owner, org_id)
            if org.status != "terminated":
                raise Conflict(
                    f"organization {org_id} is {org.status}: only a terminated organization can be purged"
                )
            if delay_s <= 0:
                db.execute("DELETE FROM organizations WHERE id = ?", (org_id,))
                return None
            if org.purge_at is not None:
                return org.purge_at
            deadline = self._clock() + delay_s
            db.execute("UPDATE organizations SET purge_at = ? WHERE id = ?", (deadline, org_id))
            return deadline
