"""The distributor's organizations as one process sees them.

One list of the distributor's organizations per process, made when first needed (again on
request, after a failure whose outcome is unknown), then kept current with the process's own
writes: a fleet of N costs one list, not N. Look-ups by id and by client id read it; a 404 is
always the API's own answer to a get, never inferred from the list. Safe to use from the
engine's parallel calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import ExoDistributorError, NotFoundError

if TYPE_CHECKING:
    from .._client import PartnerClient
    from .._models import Organization

__all__ = ["Directory"]

logger = logging.getLogger("pulumi_exo_distributor")


class Directory:
    """The organizations the API shows to one client, listed once and kept current."""

    def __init__(self, client: Callable[[], PartnerClient]) -> None:
        self._client = client
        self._lock = threading.RLock()
        self._by_id: dict[str, Organization] | None = None  # None until listed, or after a failed list
        self._by_client_id: dict[str, set[str]] = {}
        self._reads = 0
        self._list_failed = False

    def _listed(self, *, fresh: bool = False) -> dict[str, Organization]:
        with self._lock:
            if self._by_id is None or fresh:
                self._by_id = None
                listed = {str(org.id): org for org in self._client().list_organizations()}
                self._by_client_id = {}
                for org_id, org in listed.items():
                    self._index(org_id, org)
                self._by_id = listed
            return self._by_id

    def _index(self, org_id: str, org: Organization) -> None:
        if org.client_id is not None:
            self._by_client_id.setdefault(org.client_id, set()).add(org_id)

    def _unindex(self, org_id: str) -> None:
        assert self._by_id is not None
        old = self._by_id.get(org_id)
        if old is not None and old.client_id is not None:
            self._by_client_id.get(old.client_id, set()).discard(org_id)

    def live_with_client_id(self, client_id: str, *, fresh: bool = False) -> list[Organization]:
        """The organizations, not terminated, that have ``client_id`` (compared exactly)."""
        with self._lock:
            listed = self._listed(fresh=fresh)
            found = [listed[org_id] for org_id in self._by_client_id.get(client_id, ())]
        return sorted((org for org in found if org.status.value != "terminated"), key=lambda org: str(org.id))

    def remember(self, org: Organization) -> None:
        """What this process wrote or read: the list follows it."""
        with self._lock:
            if self._by_id is not None:
                org_id = str(org.id)
                self._unindex(org_id)
                self._by_id[org_id] = org
                self._index(org_id, org)

    def forget(self, org_id: str) -> None:
        with self._lock:
            if self._by_id is not None:
                self._unindex(org_id)
                self._by_id.pop(org_id, None)

    def get(self, org_id: str) -> Organization | None:
        """The organization as the API shows it now; ``None`` on the API's 404."""
        try:
            org = self._client().get_organization(org_id)
        except NotFoundError:
            self.forget(org_id)
            return None
        self.remember(org)
        return org

    def lookup(self, org_id: str) -> Organization | None:
        """An organization for a read: the first read of a process asks for it alone; further
        reads (a refresh of many) are served by the list. What the list lacks is asked for alone,
        so a 404 is always the API's own answer."""
        with self._lock:
            self._reads += 1
            bulk = self._reads > 1 and not self._list_failed
        if bulk:
            try:
                listed = self._listed()
            except ExoDistributorError as exc:
                logger.warning("cannot list the organizations (%s): reading them one by one", exc)
                with self._lock:
                    self._list_failed = True
            else:
                found = listed.get(org_id)
                if found is not None:
                    return found
        return self.get(org_id)
