"""Check, create, read, diff, update and delete of one organization: the rules, on plain values.

A front-end (the dynamic provider, a provider plugin) hands over what the engine gives it, as plain
dicts, and turns the answers back into the engine's types. Every expected failure comes out as a
:class:`~pulumi_exo_distributor.DistributorOrganizationError` that says what failed, on which
organization, what the server said and what to do; a programming error comes out as itself.

- create-only inputs (display name, billing address, client id) never change silently: a change is
  refused at check unless the resource opts in with ``allow_replacement=True``;
- the client id is the organization's idempotency key, and an existing organization is taken over
  only with proof or ``adopt_id`` (see :mod:`.create`);
- what deleting does (``deletion_policy``) is what the program declares, else a static default
  (purge; retain for an adoption), recorded in the inputs so that every preview shows it;
- a 404 is proof that an organization is gone only under the API key that created or last saw it;
- diff compares what the program declared with what it declares now, never the API's echo.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import _explain as explain
from .._errors import (
    APIError,
    ConflictError,
    DistributorOrganizationError,
    ExoDistributorError,
    NotFoundError,
)
from .._inputs import (
    CREATE_ONLY,
    INPUT_FIELDS,
    create_only_changes,
    fold,
    has_unknown,
)
from .._journal import CreateJournal
from .._writer import DISTRIBUTION, current_version, newer_than_current
from .claims import Claims, resource_label
from .create import CreateOnce
from .directory import Directory
from .effective import (
    NEVER_RETURNED,
    args_from_state,
    changed,
    complete,
    imported_inputs,
    imported_outputs,
    imported_undeclared,
    organization_from_state,
    outputs,
    parse,
    policy_change_refused,
    replacement_refused,
    user_props,
)

if TYPE_CHECKING:
    from .._client import PartnerClient
    from .._models import Organization

__all__ = ["Checked", "Diffed", "Lifecycle", "Read"]

logger = logging.getLogger("pulumi_exo_distributor")


@dataclass(frozen=True)
class Checked:
    """Checked inputs with their defaults, and each ``(field, reason)`` refused."""

    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Read:
    """A refreshed organization: ``id`` is ``None`` when it is gone (terminated or purged)."""

    id: str | None
    outputs: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diffed:
    changes: bool
    replaces: list[str]
    #: Every input that changes (a front-end that shows a detailed diff names them).
    keys: tuple[str, ...] = ()


class Lifecycle:
    """The operations of one deployment (one process serves one deployment).

    ``client`` makes (once) the process's client; ``scope`` names its endpoint and key as a
    fingerprint; ``warn`` shows a person what must not go unseen (an organization left running).
    """

    def __init__(
        self,
        client: Callable[[], PartnerClient],
        scope: Callable[[], str],
        *,
        legacy_scope: Callable[[], str] = lambda: "",
        journal: CreateJournal,
        warn: Callable[[str], None],
        key_help: str,
        claims: Claims | None = None,
        engine_alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self._client = client
        self._scope = scope
        #: The same key's fingerprint as earlier versions recorded it (without the endpoint).
        self._legacy_scope = legacy_scope
        self._journal = journal
        self._warn = warn
        self._key_help = key_help
        self.claims = claims if claims is not None else Claims()
        self.directory = Directory(client)
        self.creates = CreateOnce(client, self.directory, self.claims, journal, scope, engine_alive)
        #: Each resource's inputs as its last check accepted them, until its diff (the engine
        #: passes them on: they need no second validation) or its create.
        self._accepted: dict[str, dict[str, Any]] = {}
        self._accepted_lock = threading.Lock()

    # check, create, read, diff, update, delete: the order the engine mostly calls them in.

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked:
        """``olds``: the resource's recorded inputs (empty for a new one); ``news``: the program's."""
        olds = user_props(olds)
        inputs, failures = complete(olds, news)
        if imported_undeclared(olds):
            failures = [
                (name, reason)
                for name, reason in failures
                if not (name in NEVER_RETURNED and news.get(name) is None)
            ]
            if "adopt_id" not in inputs and "deletion_policy" not in user_props(news):
                failures.append(("adopt_id", explain.import_needs_adoption(str(olds["adopt_id"]))))
        if failures:
            return Checked(inputs, failures)
        if olds:
            failures += replacement_refused(olds, inputs)
        failures += self._claim_declarations(inputs)
        if not olds and not failures:
            refused = self.creates.unproven_takeover(inputs)
            if refused:
                failures.append(("client_id", refused))
        identity = inputs.get("default_client_id")
        if not failures and isinstance(identity, str):
            with self._accepted_lock:
                self._accepted[identity] = dict(inputs)
        return Checked(inputs, failures)

    def create(self, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create (or adopt) the organization: its id and the outputs to record."""
        args = parse(props)
        with self._accepted_lock:
            self._accepted.pop(str(args.default_client_id), None)  # no diff follows a create
        action = "adopt" if args.adopt_id else "create"
        with self._explained(action, args.adopt_id, args.display_name, args.client_id):
            if args.adopt_id:
                org = self.creates.adopt(args, key_help=self._key_help)
            else:
                org = self.creates.create(args)
            self._claim_organization(str(org.id), args.default_client_id)
            try:
                org = self._converge(org, args.status)
            except ExoDistributorError as exc:
                # The organization exists: failing now would lose its id. Record it with its real
                # status; the next `pulumi up` sees the difference and retries the transition.
                logger.warning(
                    "organization %s was created but could not be made %s (%s); "
                    "run `pulumi up` again to retry",
                    org.id,
                    args.status,
                    exc,
                )
            if not args.adopt_id:
                self.creates.settled(args)
            # The program's policy, always: never one chosen here.
            return str(org.id), outputs(args, org, args.deletion_policy, self._scope())

    def import_(self, id_: str, identity: str | None) -> Read:
        """``pulumi import``: an existing organization, from its id alone, as an adoption.

        The program did not create it, so the recorded inputs adopt it (``adopt_id``, hence the
        policy ``retain``: a destroy leaves it running unless the program declares ``purge``).
        The API never returns the display name nor the owner's e-mail: they are left out, and the
        program's values then record without a change (see :func:`imported_undeclared`).
        """
        with self._explained("import", id_, None):
            org = self.directory.get(id_)
            if org is None:
                raise DistributorOrganizationError(
                    explain.import_not_found(id_, self._scope(), self._key_help)
                )
            if org.status.value == "terminated":
                raise DistributorOrganizationError(
                    f"cannot import organization {id_}: it is terminated (its purge may be scheduled)"
                )
            self._claim_organization(str(org.id), identity)
            outs = imported_outputs(org, {"default_client_id": identity}, self._scope())
            return Read(str(org.id), outs, imported_inputs(outs))

    def read(self, id_: str, props: Mapping[str, Any]) -> Read:
        state = user_props(props)
        self._in_state(id_, state)
        with self._explained("read", id_, state.get("display_name")):
            org = self.directory.lookup(id_)
            if org is None:
                self._confirm_gone(id_, state, "read")
                return Read(None)
            if org.status.value == "terminated":
                return Read(None)
            if imported_undeclared(state):
                outs = imported_outputs(org, state, self._scope())
                return Read(str(org.id), outs, imported_inputs(outs))
            outs = outputs(
                args_from_state(state), org, state.get("deletion_policy") or "purge", self._scope()
            )
            # The refreshed inputs keep what the program declared, and follow the status found,
            # so that the next `up` corrects a change made outside Pulumi.
            inputs = {key: outs[key] for key in INPUT_FIELDS if outs.get(key) is not None}
            return Read(str(org.id), outs, inputs)

    def diff(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diffed:
        """``olds``: the recorded outputs; ``news``: the checked inputs."""
        olds = user_props(olds)
        self._in_state(id_, olds)
        news = user_props(news)
        with self._accepted_lock:
            accepted = self._accepted.pop(str(news.get("default_client_id")), None)
        # The engine passes checked inputs: validated again only if they are not what check gave.
        news, _ = complete(olds, news, validated=news == accepted)
        identity = news.get("default_client_id") or olds.get("default_client_id")
        self._claim_organization(id_, identity)
        changes = [key for key in INPUT_FIELDS if changed(key, olds, news)]
        replaces = [key for key in changes if key in CREATE_ONLY]
        replacing = bool(replaces) and news.get("allow_replacement") is True
        adopt_id = news.get("adopt_id")
        if adopt_id and not has_unknown(adopt_id):
            if replacing and fold(adopt_id) == fold(id_):
                raise DistributorOrganizationError(
                    f"adopt_id {adopt_id} names the organization this replacement replaces: the new "
                    "organization would be the old one, and the old one's delete would then end it. "
                    "Take adopt_id out to get a new organization, or take allow_replacement out and "
                    "put the previous values back to keep this one."
                )
            if not replacing and fold(adopt_id) != fold(id_):
                raise DistributorOrganizationError(
                    f"adopt_id {adopt_id} does not name organization {id_}, which this resource already "
                    "manages: remove adopt_id, or give this organization's id (to take another "
                    "organization as this resource's replacement, allow_replacement=True)"
                )
        if replaces and news.get("allow_replacement") is not True:
            known = [change for change in create_only_changes(olds, news) if change[0] in replaces]
            if known:
                # check refuses this; only a state edited by hand can bring it here.
                raise DistributorOrganizationError(
                    "; ".join(
                        explain.replacement_refused(*change, policy=olds.get("deletion_policy"))
                        for change in known
                    )
                )
            replaces = []  # unknown until `up`, where check refuses a real change
        if replaces:
            refused = policy_change_refused(olds, news, create_only_changes(olds, news))
            if refused:
                raise DistributorOrganizationError(refused)
            if identity:
                self.claims.replaces(identity, id_)
        return Diffed(changes=bool(changes), replaces=replaces, keys=tuple(changes))

    def update(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """The status transition only (nothing else of an organization can change): the new outputs."""
        args = parse(news)
        olds = user_props(olds)
        self._in_state(id_, olds)
        with self._explained("update", id_, args.display_name):
            known = create_only_changes(olds, news)
            if known:
                raise DistributorOrganizationError(
                    "; ".join(
                        explain.replacement_refused(*change, policy=olds.get("deletion_policy"))
                        for change in known
                    )
                )
            current = organization_from_state(id_, olds)
            if olds.get("status") == args.status:
                return outputs(args, current, args.deletion_policy, self._scope())
            try:
                org = self._converge(current, args.status)
            except NotFoundError as exc:
                gone = exc
            else:
                return outputs(args, org, args.deletion_policy, self._scope())
            self._confirm_gone(id_, olds, "update")
            raise gone

    def delete(self, id_: str, props: Mapping[str, Any]) -> None:
        state = user_props(props)
        self._in_state(id_, state)
        policy = state.get("deletion_policy") or "purge"
        identity = state.get("default_client_id")
        manager = self.claims.manager(id_)
        if manager is not None and identity is not None and manager != identity:
            # Another resource of this deployment created or adopted the organization (say, a new
            # resource adopting a removed one's): it is that resource's now, and stays as it is.
            self._warn(
                f"organization {id_} is now managed by resource {resource_label(manager)}: its former "
                "resource's delete leaves it as it is"
            )
            return
        name = state.get("display_name")
        if policy == "retain":
            self._warn(
                f"organization {id_}{f' ({name!r})' if name else ''} left running, no longer managed "
                "(deletion_policy 'retain'): it stays active and billed. Adopt it again with "
                f'adopt_id="{id_}", or terminate it with the Partner API.'
            )
            return
        with self._explained("delete", id_, name):
            client = self._client()
            refused: APIError | None = None
            try:
                client.terminate_organization(id_)
            except (NotFoundError, ConflictError) as exc:
                refused = exc
            if refused is not None:
                # Already terminated or gone? Only a read under the same key says so.
                org = self.directory.get(id_)
                if org is None:
                    self._confirm_gone(id_, state, "delete")
                    return
                if org.status.value != "terminated":
                    raise refused
            if policy == "purge":
                try:
                    client.schedule_purge_organization(id_)
                except NotFoundError:
                    if self.directory.get(id_) is not None:
                        raise
            self.directory.forget(id_)

    # -- helpers -------------------------------------------------------------------------------

    @contextmanager
    def _explained(
        self, action: str, organization: str | None, name: str | None, client_id: str | None = None
    ) -> Iterator[None]:
        """Expected failures in a person's words; a refusal of ours and a programming error as they are."""
        try:
            yield
        except DistributorOrganizationError:
            raise
        except ExoDistributorError as exc:
            raise DistributorOrganizationError(
                explain.resource_error(action, exc, organization=organization, name=name, client_id=client_id)
            ) from None

    def _in_state(self, id_: str, state: Mapping[str, Any]) -> None:
        """The organization is in the stack's state: a create sent for it has ended for good. A
        state written by a newer version of this package is refused: its rules may be stricter."""
        newer = newer_than_current(state.get("provider_version"))
        if newer is not None:
            raise DistributorOrganizationError(
                explain.newer_writer_refused(id_, DISTRIBUTION, newer, current_version())
            )
        scope, client_id = state.get("key_fingerprint"), state.get("client_id")
        if isinstance(scope, str) and isinstance(client_id, str):
            self._journal.end(scope, client_id)

    def _claim_declarations(self, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Refuse two resources of one deployment declaring the same client id or adopting the
        same organization."""
        identity = inputs.get("default_client_id")
        if not isinstance(identity, str) or has_unknown(identity):
            return []
        failures = []
        client_id = inputs.get("client_id")
        if isinstance(client_id, str) and not has_unknown(client_id):
            other = self.claims.client_id(client_id, identity)
            if other is not None:
                failures.append(
                    (
                        "client_id",
                        f"client_id {client_id!r} is also the client id of resource {resource_label(other)}: "
                        "a client id names one organization; give each resource its own",
                    )
                )
        adopt_id = inputs.get("adopt_id")
        if isinstance(adopt_id, str) and not has_unknown(adopt_id):
            manager = self.claims.organization(adopt_id, identity)
            if manager is not None:
                failures.append(
                    (
                        "adopt_id",
                        f"adopt_id {adopt_id} names an organization already managed by resource "
                        f"{resource_label(manager)}: two resources managing one organization would "
                        "let the removal of either terminate it under the other",
                    )
                )
        return failures

    def _claim_organization(self, org_id: str, identity: str | None) -> None:
        other = self.claims.organization(org_id, identity)
        if other is not None:
            raise DistributorOrganizationError(
                f"organization {org_id} is declared by two resources, {resource_label(other)} and "
                f"{resource_label(identity)}: removing either would terminate it under the other. "
                "Keep one declaration (rename with `aliases` rather than declaring it twice)."
            )

    def _confirm_gone(self, org_id: str, state: Mapping[str, Any], action: str) -> None:
        """Accept a 404 as "gone" only under the key that created or last saw the organization."""
        recorded = state.get("key_fingerprint")
        current = self._scope()
        if recorded == current:
            return
        name = state.get("display_name")
        subject = f"organization {org_id}" + (f" ({name!r})" if name else "")
        known = recorded if isinstance(recorded, str) else None
        same_key = known is not None and known == self._legacy_scope()
        raise DistributorOrganizationError(
            explain.gone_refused(action, subject, org_id, current, known, same_key=same_key)
        )

    def _converge(self, org: Organization, desired: str) -> Organization:
        """Bring an organization to the desired status with one call, or none if it is there already."""
        if desired == org.status.value:
            return org
        client = self._client()
        changed = (
            client.activate_organization(org.id)
            if desired == "active"
            else client.suspend_organization(org.id)
        )
        self.directory.remember(changed)
        return changed
