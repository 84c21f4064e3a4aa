"""Create an organization exactly once, and the rules for taking an existing one over.

The client id is the organization's idempotency key: before creating, and after any failure whose
outcome is unknown, the directory is asked for a live organization with that client id. One found
is taken over as the resource's own only with proof that this resource sent its create: the
journal of the machine that sent it names this client id and this resource, or this very process
sent it. Without proof nothing is created and nothing is taken over: the program must say
``adopt_id``.

A resource's default client id, ``pulumi:<project>/<stack>/<name>``, is no proof: a stack renamed
and another created under its old name, a same-named stack on another backend, or a name freed by a
rename with ``aliases`` and given to a new resource all send the same one for another customer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import _explain as explain
from .._errors import DistributorOrganizationError, ExoDistributorError, ServerError, TransportError
from .._inputs import OrganizationArgs, has_unknown, remote_mismatches
from .._journal import CreateJournal
from .claims import Claims, resource_label
from .directory import Directory

if TYPE_CHECKING:
    from .._client import PartnerClient
    from .._models import Organization

__all__ = ["CreateOnce", "outcome_unknown", "remote_address"]

logger = logging.getLogger("pulumi_exo_distributor")


def outcome_unknown(exc: Exception) -> bool:
    """A create that failed this way may have created the organization anyway."""
    return isinstance(exc, ServerError) or (isinstance(exc, TransportError) and exc.request_sent)


def remote_address(org: Organization) -> dict[str, Any] | None:
    return org.billing_address.model_dump(exclude_none=True) if org.billing_address else None


class CreateOnce:
    """Creates and adoptions of one deployment."""

    def __init__(
        self,
        client: Callable[[], PartnerClient],
        directory: Directory,
        claims: Claims,
        journal: CreateJournal,
        scope: Callable[[], str],
        engine_alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self._client = client
        self._directory = directory
        self._claims = claims
        self._journal = journal
        self._engine_alive = engine_alive
        #: The endpoint and key the creates are sent with, as a fingerprint (the journal's scope).
        self._scope = scope

    def proven_own(self, client_id: str, owner: str) -> bool:
        """Whether resource ``owner`` (its default client id) sent the create of the organization
        that has ``client_id``, as this machine's journal says."""
        return self._journal.holds(self._scope(), client_id, owner)

    def unproven_takeover(self, inputs: Mapping[str, Any]) -> str | None:
        """At check (so at preview): why a new resource may not be created, when a live
        organization already has its client id and the resource cannot prove it its own."""
        client_id, owner = inputs.get("client_id"), inputs.get("default_client_id")
        if "adopt_id" in inputs or not isinstance(client_id, str) or not isinstance(owner, str):
            return None
        if has_unknown(client_id) or has_unknown(owner):
            return None
        try:
            # A replacement is checked again as a new resource: the organization it replaces is not
            # one to take over (diff, which runs first, said which one it is).
            replaced = self._claims.replaced_by(owner)
            found = [org for org in self._directory.live_with_client_id(client_id) if str(org.id) != replaced]
            if len(found) != 1:
                return None  # none, or several (create names them all)
            # The journal (a file) is read only for a client id that is taken.
            if self.proven_own(client_id, owner):
                return None
        except ExoDistributorError as exc:
            # No credentials or no API during this preview: create looks again, under the same rule.
            logger.debug("cannot look for client id %r at check: %s", client_id, exc)
            return None
        return explain.takeover_refused(str(found[0].id), client_id)

    def create(self, args: OrganizationArgs) -> Organization:
        """Create the organization, or find the one an earlier attempt of this resource created:
        never two."""
        from .._models import BillingAddress, OrganizationInput

        client = self._client()
        body = OrganizationInput(
            display_name=args.display_name,
            owner_email=args.owner_email,
            billing_address=BillingAddress.model_validate(args.billing_address.to_dict()),
            client_id=args.client_id,
        )
        if args.client_id is None:
            org = client.create_organization(body)  # nothing to find it by: one attempt
            self._directory.remember(org)
            return org

        scope = self._scope()
        # A resource of this package always has its default client id; without one, nothing proves
        # a create, and what is found is refused (never a second one created beside it).
        client_id, owner = args.client_id, args.default_client_id or ""
        for attempt in client.retry.attempts_on(outcome_unknown):
            with attempt:
                # After a failure whose outcome is unknown, look again: it may exist now. What is
                # found is this resource's own if it sent the create (in this process, or in a
                # run that died or lost the answer: see proven_own).
                found = self._find(args, fresh=attempt.num > 1)
                if found is not None:
                    if attempt.num == 1 and not (owner and self.proven_own(client_id, owner)):
                        raise DistributorOrganizationError(
                            f"cannot create organization {args.display_name!r}: "
                            + explain.takeover_refused(str(found.id), client_id)
                        )
                    logger.warning(
                        "organization %s already has client id %r, and resource %s sent its create: "
                        "taken under management, not created twice",
                        found.id,
                        client_id,
                        resource_label(owner),
                    )
                    return found  # recovered: its entry ends once the create is done (settled)
                if owner:
                    self._journal.begin(scope, client_id, owner)
                try:
                    org = client.create_organization(body)
                except ExoDistributorError as exc:
                    if not outcome_unknown(exc):
                        self._journal.end(scope, client_id)  # refused: nothing was created
                    raise
                # Answered: the entry stays until the whole create is done (its activation too),
                # then settled() ends it. A run killed before that takes the organization back by
                # the entry; kept longer, the entry would let a later resource with this identity
                # (a stack created under a renamed one's name) take it. A run killed between the
                # provider's answer and the engine's write asks for adopt_id.
                self._directory.remember(org)
                return org
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    def settled(self, args: OrganizationArgs) -> None:
        """The create of ``args`` is done (created or recovered, and brought to its status): the
        engine records it now, and its journal entry ends. Not where the engine has gone (killed
        alone, its provider processes finish their calls): that answer reaches no state, and the
        entry lets the next run take the organization back."""
        if args.client_id is None:
            return
        if not self._engine_alive():
            logger.warning(
                "the engine has ended: organization with client id %r kept in the journal of creates",
                args.client_id,
            )
            return
        self._journal.end(self._scope(), args.client_id)

    def _find(self, args: OrganizationArgs, *, fresh: bool) -> Organization | None:
        assert args.client_id is not None
        replaced = self._claims.replaced_by(args.default_client_id)
        candidates = [
            org
            for org in self._directory.live_with_client_id(args.client_id, fresh=fresh)
            if str(org.id) != replaced
        ]
        if not candidates:
            return None
        if len(candidates) > 1:
            ids = ", ".join(str(org.id) for org in candidates)
            raise DistributorOrganizationError(
                f"cannot create organization {args.display_name!r}: client id {args.client_id!r} is "
                f"already used by {len(candidates)} live organizations ({ids}). Take the right one under "
                "management with adopt_id=<its id>, and give the others their own client id."
            )
        org = candidates[0]
        manager = self._claims.manager(str(org.id))
        if manager is not None and manager != args.default_client_id:
            raise DistributorOrganizationError(
                f"cannot create organization {args.display_name!r}: organization {org.id}, with client id "
                f"{args.client_id!r}, is managed by resource {resource_label(manager)}; give this resource "
                "its own client id. Nothing was created."
            )
        mismatches = remote_mismatches(
            args.billing_address.to_dict(), args.client_id, remote_address(org), org.client_id
        )
        if mismatches:
            raise DistributorOrganizationError(
                f"cannot create organization {args.display_name!r}: organization {org.id} already has "
                f"client id {args.client_id!r} but is declared otherwise ({'; '.join(mismatches)}). "
                "If it is this customer, declare it as it is; otherwise choose another client_id. "
                "Nothing was created."
            )
        return org

    def adopt(self, args: OrganizationArgs, *, key_help: str) -> Organization:
        """Take an existing organization under management, if the program declares it as it is."""
        assert args.adopt_id is not None
        org = self._directory.get(args.adopt_id)
        if org is None:
            raise DistributorOrganizationError(
                f"cannot adopt organization {args.adopt_id}: no organization with this id is visible to "
                f"API key {self._scope()}. Check adopt_id, and that {key_help} is the key of the "
                "distributor account that owns it."
            )
        if org.status.value == "terminated":
            raise DistributorOrganizationError(f"cannot adopt organization {args.adopt_id}: it is terminated")
        mismatches = remote_mismatches(
            args.billing_address.to_dict(), args.client_id, remote_address(org), org.client_id
        )
        if mismatches:
            raise DistributorOrganizationError(
                f"cannot adopt organization {args.adopt_id}: the program must declare it as it is; "
                + "; ".join(mismatches)
            )
        return org
