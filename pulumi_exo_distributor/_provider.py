"""The dynamic provider of DistributorOrganization: check, create, read, diff, update, delete.

An organization is a customer's whole cloud account, so every path is built to never purge,
duplicate, orphan or forget one by accident:

- create-only inputs (display name, billing address, client id) never change silently: a change
  is refused at check unless the resource opts in with ``allow_replacement=True``;
- the client id is the organization's idempotency key: before creating, and after any failure
  that leaves the outcome unknown, the provider looks for a live organization with that client id
  and takes it under management instead of creating a second one, only with proof that this
  resource sent its create (its default client id, or the journal); without proof it refuses,
  at preview already, and names the ``adopt_id`` line that takes it over on purpose;
- what deleting does (``deletion_policy``) is what the program declares, else a static default
  (purge; retain for an adoption), recorded in the state's inputs so that every preview shows it;
- a 404 is proof that an organization is gone only under the API key that created or last saw it;
- diff compares what the program declared with what it declares now, never the API's echo.

The provider object is pickled into the state: it carries nothing. Credentials are read in
:meth:`DistributorOrganizationProvider.configure` (stack config) or from the environment, and the
client, the list of the distributor's organizations and the claims of this deployment live in
the provider process only.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ._config import (
    CONFIG_ENDPOINT,
    CONFIG_KEY,
    CONFIG_SECRET,
    ENV_ENDPOINT,
    ENV_KEY,
    ENV_SECRET,
    SHARED_CONFIG_KEY,
    SHARED_CONFIG_SECRET,
    StackSettings,
)
from ._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    DistributorOrganizationError,
    ExoDistributorError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    TransportError,
)
from ._host import lift_worker_cap
from ._inputs import (
    ADDRESS_FIELDS,
    CREATE_ONLY,
    INPUT_FIELDS,
    OrganizationArgs,
    comparable,
    create_only_changes,
    default_deletion_policy,
    fold,
    has_unknown,
    remote_mismatches,
    validate,
)
from ._journal import CreateJournal
from ._notices import warn
from ._writer import DISTRIBUTION, current_version, newer_than_current

if TYPE_CHECKING:
    from ._client import PartnerClient
    from ._models import Organization

__all__ = ["CONFIG_ENDPOINT", "CONFIG_KEY", "CONFIG_SECRET", "DistributorOrganizationProvider"]

logger = logging.getLogger("pulumi_exo_distributor")


_LABELS = {
    "display_name": "display name",
    "billing_address": "billing address",
    "client_id": "client id",
}
_DELETION_EFFECTS = {
    "purge": "terminates it and schedules the purge of the customer's whole cloud account",
    "terminate": "terminates the customer's whole cloud account",
    "retain": "leaves it running, no longer managed, beside the new one",
}

_T = TypeVar("_T")


def _user_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's own properties: engine-private keys and unset values left out."""
    return {k: v for k, v in props.items() if not k.startswith("__") and v is not None}


def _resource_label(identity: str | None) -> str:
    # identity is "pulumi:<project>/<stack>/<resource name>" (see the resource class).
    return repr(identity.rsplit("/", 1)[-1]) if identity else "another resource"


def _in_dynamic_provider_host() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", "") == "pulumi.dynamic.__main__"


class DistributorOrganizationProvider(ResourceProvider):
    """Dynamic provider of :class:`DistributorOrganization`.

    Pickled into the state by reference, with no state of its own (see ``__reduce__``).
    """

    # Nothing secret is ever pickled: the state can show it in the clear.
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._start()

    def __setstate__(self, state: object) -> None:
        # States written by earlier versions pickled the provider with a (empty) state dict.
        self._start()

    def _start(self) -> None:
        """Set up what lives in the provider process only."""
        self._config = StackSettings()
        self._lock = threading.RLock()
        self._client: PartnerClient | None = None
        self._fingerprint: str | None = None
        # The distributor's organizations by id: one list per provider process, kept current
        # with this process's own writes. None until first needed, or after the list failed.
        self._fleet: dict[str, Organization] | None = None
        self._reads = 0
        self._list_failed = False
        # Who declares what in this deployment (one provider process serves one deployment):
        # organization id -> resource identity, client id -> resource identity.
        self._org_claims: dict[str, str] = {}
        self._client_id_claims: dict[str, str] = {}
        # resource identity -> id of the organization it replaces (excluded from look-ups).
        self._replacing: dict[str, str] = {}
        self._journal = CreateJournal.default()

    def __reduce__(self) -> tuple[type[DistributorOrganizationProvider], tuple[()]]:
        # A bare reference to the class: no state dict goes through the pickler. The SDK's
        # serialize_provider patches the pickler's dict writer again for every resource, so a
        # pickled dict, even empty, costs a deeper call chain per resource (RecursionError
        # near a thousand resources); this stays flat.
        return (DistributorOrganizationProvider, ())

    def __repr__(self) -> str:
        return "DistributorOrganizationProvider()"

    def configure(self, req: ConfigureRequest) -> None:
        self._config = StackSettings.read(req.config.get)
        for note in self._config.deprecation_notes():
            warn(note)
        if _in_dynamic_provider_host():
            # The host reports a failure as `traceback.format_exc()`, and a traceback cannot be
            # shortened once raised through its frames: keep expected failures to their
            # message. Unexpected ones carry their own traceback (see _guard). The SDK has no
            # per-provider way: this holds for the whole host process, so another dynamic
            # provider of the same program also reports its failures without frames.
            sys.tracebacklimit = 0
            # The host serves 4 calls at once; let the engine's --parallel decide instead.
            lift_worker_cap()

    def client(self) -> PartnerClient:
        """The provider process's one client (one connection pool), made on first use."""
        with self._lock:
            if self._client is None:
                from ._client import PartnerClient

                credentials = self._config.credentials()
                self._fingerprint = credentials.key_fingerprint
                self._client = PartnerClient(credentials=credentials)
            return self._client

    @property
    def key_fingerprint(self) -> str:
        self.client()
        assert self._fingerprint is not None
        return self._fingerprint

    # check, create, read, diff, update, delete: the order the engine mostly calls them in.

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _user_props(_olds)
        inputs, problems = _completed(olds, news)
        failures = [CheckFailure(field, reason) for field, reason in problems]
        if failures:
            return CheckResult(inputs, failures)
        if olds:
            failures += self._guard_replacement(olds, inputs)
        failures += self._claim_declarations(inputs)
        if not olds and not failures:
            failures += self._refuse_unproven_takeover(inputs)
        return CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        args = _parse(props)

        def run() -> CreateResult:
            client = self.client()
            # The program's policy, always: never one chosen here (see _create_once for takeovers).
            policy = args.deletion_policy
            org = self._adopt(client, args) if args.adopt_id else self._create_once(client, args)
            self._claim_organization(str(org.id), args.default_client_id)
            try:
                org = self._converge(client, org, args.status)
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
            return CreateResult(str(org.id), self._outputs(args, org, policy))

        return self._guard(
            "adopt" if args.adopt_id else "create",
            run,
            organization=args.adopt_id,
            name=args.display_name,
            client_id=args.client_id,
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        state = _user_props(props)
        self._in_state(id_, state)

        def run() -> ReadResult:
            org = self._lookup(self.client(), id_)
            if org is None:
                self._confirm_gone(id_, state, "read")
                return ReadResult("", {})
            if org.status.value == "terminated":
                return ReadResult("", {})
            outs = self._outputs(_args_from_state(state), org, state.get("deletion_policy") or "purge")
            # The refreshed inputs keep what the program declared, and follow the status found,
            # so that the next `up` corrects a change made outside Pulumi.
            inputs = {key: outs[key] for key in INPUT_FIELDS if outs.get(key) is not None}
            return ReadResult(str(org.id), outs, inputs)

        return self._guard("read", run, organization=id_, name=state.get("display_name"))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        olds = _user_props(_olds)
        self._in_state(_id, olds)
        news, _ = _completed(olds, _news)  # the engine passes checked inputs: this changes nothing then
        identity = news.get("default_client_id") or olds.get("default_client_id")
        self._claim_organization(_id, identity)
        adopt_id = news.get("adopt_id")
        if adopt_id and not has_unknown(adopt_id) and fold(adopt_id) != fold(_id):
            raise DistributorOrganizationError(
                f"adopt_id {adopt_id} does not name organization {_id}, which this resource already "
                "manages: remove adopt_id, or give this organization's id"
            )
        changed = [key for key in INPUT_FIELDS if _changed(key, olds, news)]
        replaces = [key for key in changed if key in CREATE_ONLY]
        if replaces and news.get("allow_replacement") is not True:
            known = [change for change in create_only_changes(olds, news) if change[0] in replaces]
            if known:
                # check refuses this; only a state edited by hand can bring it here.
                raise DistributorOrganizationError(
                    "; ".join(
                        _replacement_refused(*change, policy=olds.get("deletion_policy")) for change in known
                    )
                )
            replaces = []  # unknown until `up`, where check refuses a real change
        if replaces:
            refused = _policy_change_with_replacement(
                olds.get("deletion_policy"), news.get("deletion_policy"), create_only_changes(olds, news)
            )
            if refused:
                raise DistributorOrganizationError(refused)
        if replaces and identity:
            self._replacing[identity] = _id
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        args = _parse(_news)
        olds = _user_props(_olds)
        self._in_state(_id, olds)

        def run() -> UpdateResult:
            known = create_only_changes(olds, _news)
            if known:
                raise DistributorOrganizationError(
                    "; ".join(
                        _replacement_refused(*change, policy=olds.get("deletion_policy")) for change in known
                    )
                )
            client = self.client()
            policy = args.deletion_policy
            if olds.get("status") == args.status:
                return UpdateResult(self._outputs(args, _organization(_id, olds), policy))
            try:
                org = self._converge(client, _organization(_id, olds), args.status)
            except NotFoundError as exc:
                gone = exc
            else:
                return UpdateResult(self._outputs(args, org, policy))
            self._confirm_gone(_id, olds, "update")
            raise gone

        return self._guard("update", run, organization=_id, name=args.display_name)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        state = _user_props(_props)
        self._in_state(_id, state)
        policy = state.get("deletion_policy") or "purge"
        identity = state.get("default_client_id")
        manager = self._org_claims.get(_id.lower())
        if manager is not None and identity is not None and manager != identity:
            # Another resource of this deployment took the organization over (a rename, or a
            # client id moved to another resource): leave it to that resource.
            logger.warning(
                "organization %s is now managed by resource %s: left as it is", _id, _resource_label(manager)
            )
            return
        if policy == "retain":
            name = state.get("display_name")
            warn(
                f"organization {_id}{f' ({name!r})' if name else ''} left running, no longer managed "
                "(deletion_policy 'retain'): it stays active and billed. Adopt it again with "
                f'adopt_id="{_id}", or terminate it with the Partner API.'
            )
            return

        def run() -> None:
            client = self.client()
            refused: APIError | None = None
            try:
                client.terminate_organization(_id)
            except (NotFoundError, ConflictError) as exc:
                refused = exc
            if refused is not None:
                # Already terminated or gone? Only a read under the same key says so.
                org = self._get(client, _id)
                if org is None:
                    self._confirm_gone(_id, state, "delete")
                    return
                if org.status.value != "terminated":
                    raise refused
            if policy == "purge":
                try:
                    client.schedule_purge_organization(_id)
                except NotFoundError:
                    if self._get(client, _id) is not None:
                        raise
            self._forget(_id)

        self._guard("delete", run, organization=_id, name=state.get("display_name"))

    def _in_state(self, id_: str, state: Mapping[str, Any]) -> None:
        """The organization is in the stack's state: a create sent for it has ended for good. A
        state written by a newer version of this package is refused: its rules may be stricter."""
        newer = newer_than_current(state.get("provider_version"))
        if newer is not None:
            raise DistributorOrganizationError(
                f"organization {id_} was last written by {DISTRIBUTION} {newer}, newer than this one "
                f"({current_version()}): a stack written with newer rules must not be driven by older ones "
                "(CI runners or shards with different versions would apply different rules to one fleet). "
                f"Nothing was changed. Install {newer} or later wherever this stack runs: "
                f"`pip install -U '{DISTRIBUTION}>={newer}'`."
            )
        scope, client_id = state.get("key_fingerprint"), state.get("client_id")
        if isinstance(scope, str) and isinstance(client_id, str):
            self._journal.end(scope, client_id)

    # -- check's helpers -------------------------------------------------------------------

    def _guard_replacement(self, olds: Mapping[str, Any], news: dict[str, Any]) -> list[CheckFailure]:
        changes = create_only_changes(olds, news)
        if not changes:
            return []
        old_policy = olds.get("deletion_policy")
        if news.get("allow_replacement") is not True:
            return [
                CheckFailure(field, _replacement_refused(field, old, new, policy=old_policy))
                for field, old, new in changes
            ]
        # Inputs recorded by versions that left an undeclared policy out of them: diff, which sees
        # the recorded outputs, applies the same rule.
        refused = _policy_change_with_replacement(old_policy, news.get("deletion_policy"), changes)
        return [CheckFailure("deletion_policy", refused)] if refused else []

    def _claim_declarations(self, inputs: Mapping[str, Any]) -> list[CheckFailure]:
        """Refuse two resources of one deployment declaring the same client id or adopting the
        same organization."""
        identity = inputs.get("default_client_id")
        if not isinstance(identity, str) or has_unknown(identity):
            return []
        failures = []
        client_id = inputs.get("client_id")
        if isinstance(client_id, str) and not has_unknown(client_id):
            with self._lock:
                other = self._client_id_claims.setdefault(client_id, identity)
            if other != identity:
                failures.append(
                    CheckFailure(
                        "client_id",
                        f"client_id {client_id!r} is also the client id of resource "
                        f"{_resource_label(other)}: a client id names one organization; "
                        "give each resource its own",
                    )
                )
        adopt_id = inputs.get("adopt_id")
        if isinstance(adopt_id, str) and not has_unknown(adopt_id):
            manager = self._claim_organization_quietly(adopt_id, identity)
            if manager is not None:
                failures.append(
                    CheckFailure(
                        "adopt_id",
                        f"adopt_id {adopt_id} names an organization already managed by resource "
                        f"{_resource_label(manager)}: two resources managing one organization would "
                        "let the removal of either terminate it under the other",
                    )
                )
        return failures

    def _claim_organization_quietly(self, org_id: str, identity: str | None) -> str | None:
        """Record that ``identity`` manages ``org_id``; return the other resource that already does."""
        if identity is None:
            return None
        with self._lock:
            other = self._org_claims.setdefault(org_id.lower(), identity)
        return other if other != identity else None

    def _claim_organization(self, org_id: str, identity: str | None) -> None:
        other = self._claim_organization_quietly(org_id, identity)
        if other is not None:
            raise DistributorOrganizationError(
                f"organization {org_id} is declared by two resources, {_resource_label(other)} and "
                f"{_resource_label(identity)}: removing either would terminate it under the other. "
                "Keep one declaration (rename with `aliases` rather than declaring it twice)."
            )

    # -- create's helpers ------------------------------------------------------------------

    def _create_once(self, client: PartnerClient, args: OrganizationArgs) -> Organization:
        """Create the organization, or find the one an earlier attempt of this resource created:
        never two. One found that this resource cannot prove its own is refused (see
        :meth:`_proven_own`): taking it over is the program's explicit act, ``adopt_id``."""
        from ._models import BillingAddress, OrganizationInput

        body = OrganizationInput(
            display_name=args.display_name,
            owner_email=args.owner_email,
            billing_address=BillingAddress.model_validate(args.billing_address.to_dict()),
            client_id=args.client_id,
        )
        if args.client_id is None:
            org = client.create_organization(body)  # nothing to find it by: one attempt
            self._remember(org)
            return org

        scope = self.key_fingerprint
        # A resource of this package always has its default client id; without one, nothing proves
        # a create, and what is found is refused (never a second one created beside it).
        client_id, owner = args.client_id, args.default_client_id or ""
        for attempt in client.retry.attempts_on(_outcome_unknown):
            with attempt:
                # After a failure whose outcome is unknown, look again: it may exist now. What is
                # found is this resource's own if it sent the create (in this process, or in a
                # run that died or lost the answer: see _proven_own).
                found = self._find_by_client_id(client, args, fresh=attempt.num > 1)
                if found is not None:
                    if attempt.num == 1 and not (owner and self._proven_own(client_id, owner)):
                        raise DistributorOrganizationError(
                            f"cannot create organization {args.display_name!r}: "
                            + _takeover_refused(str(found.id), client_id)
                        )
                    logger.warning(
                        "organization %s already has client id %r, and resource %s sent its create: "
                        "taken under management, not created twice",
                        found.id,
                        client_id,
                        _resource_label(owner),
                    )
                    return found
                if owner:
                    self._journal.begin(scope, client_id, owner)
                try:
                    org = client.create_organization(body)
                except ExoDistributorError as exc:
                    if not _outcome_unknown(exc):
                        self._journal.end(scope, client_id)  # refused: nothing was created
                    raise
                # The entry stays until an operation sees the organization in the state.
                self._remember(org)
                return org
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    def _find_by_client_id(
        self, client: PartnerClient, args: OrganizationArgs, *, fresh: bool
    ) -> Organization | None:
        assert args.client_id is not None
        fleet = self._list(client, fresh=fresh)
        replaced = self._replacing.get(args.default_client_id or "")
        candidates = [
            org
            for org in fleet.values()
            if org.status.value != "terminated"
            and org.client_id == args.client_id
            and str(org.id) != replaced
        ]
        if not candidates:
            return None
        if len(candidates) > 1:
            ids = ", ".join(sorted(str(org.id) for org in candidates))
            raise DistributorOrganizationError(
                f"cannot create organization {args.display_name!r}: client id {args.client_id!r} is "
                f"already used by {len(candidates)} live organizations ({ids}). Take the right one under "
                "management with adopt_id=<its id>, and give the others their own client id."
            )
        org = candidates[0]
        manager = self._org_claims.get(str(org.id))
        if manager is not None and manager != args.default_client_id:
            raise DistributorOrganizationError(
                f"cannot create organization {args.display_name!r}: organization {org.id}, with client id "
                f"{args.client_id!r}, is managed by resource {_resource_label(manager)}; give this resource "
                "its own client id. Nothing was created."
            )
        mismatches = remote_mismatches(
            args.billing_address.to_dict(), args.client_id, _address(org), org.client_id
        )
        if mismatches:
            raise DistributorOrganizationError(
                f"cannot create organization {args.display_name!r}: organization {org.id} already has "
                f"client id {args.client_id!r} but is declared otherwise ({'; '.join(mismatches)}). "
                "If it is this customer, declare it as it is; otherwise choose another client_id. "
                "Nothing was created."
            )
        return org

    def _proven_own(self, client_id: str, owner: str) -> bool:
        """Whether resource ``owner`` (its default client id) sent the create of the organization
        that has ``client_id``. Its default client id names project, stack and resource, so only
        it sends that one; any other client id is proven only by this machine's journal of the
        creates it sent (gone with a CI runner: then the program must say ``adopt_id``)."""
        return client_id == owner or self._journal.holds(self.key_fingerprint, client_id, owner)

    def _refuse_unproven_takeover(self, inputs: Mapping[str, Any]) -> list[CheckFailure]:
        """At check (so at preview): a new resource whose client id a live organization already
        has, and that cannot prove it created it, is refused before anything happens."""
        client_id, owner = inputs.get("client_id"), inputs.get("default_client_id")
        if "adopt_id" in inputs or not isinstance(client_id, str) or not isinstance(owner, str):
            return []
        if has_unknown(client_id) or has_unknown(owner) or client_id == owner:
            return []
        try:
            if self._proven_own(client_id, owner):
                return []
            found = sorted(
                str(org.id)
                for org in self._list(self.client()).values()
                if org.client_id == client_id and org.status.value != "terminated"
            )
        except ExoDistributorError as exc:
            # No credentials or no API during this preview: create looks again, under the same rule.
            logger.debug("cannot look for client id %r at check: %s", client_id, exc)
            return []
        if len(found) != 1:
            return []  # none, or several (create names them all)
        return [CheckFailure("client_id", _takeover_refused(found[0], client_id))]

    def _adopt(self, client: PartnerClient, args: OrganizationArgs) -> Organization:
        """Take an existing organization under management, if the program declares it as it is."""
        assert args.adopt_id is not None
        org = self._get(client, args.adopt_id)
        if org is None:
            raise DistributorOrganizationError(
                f"cannot adopt organization {args.adopt_id}: no organization with this id is visible to "
                f"API key {self.key_fingerprint}. Check adopt_id, and that {CONFIG_KEY} is the key of the "
                "distributor account that owns it."
            )
        if org.status.value == "terminated":
            raise DistributorOrganizationError(f"cannot adopt organization {args.adopt_id}: it is terminated")
        mismatches = remote_mismatches(
            args.billing_address.to_dict(), args.client_id, _address(org), org.client_id
        )
        if mismatches:
            raise DistributorOrganizationError(
                f"cannot adopt organization {args.adopt_id}: the program must declare it as it is; "
                + "; ".join(mismatches)
            )
        return org

    # -- reads and the process's list ------------------------------------------------------

    def _list(self, client: PartnerClient, *, fresh: bool = False) -> dict[str, Organization]:
        """The distributor's organizations by id: listed once per process (again if ``fresh``),
        then kept current with this process's own writes. The caller gets a snapshot."""
        with self._lock:
            if self._fleet is None or fresh:
                self._fleet = None
                self._fleet = {str(org.id): org for org in client.list_organizations()}
            # A copy: other calls of this process add to the list while the caller reads it.
            return dict(self._fleet)

    def _remember(self, org: Organization) -> None:
        with self._lock:
            if self._fleet is not None:
                self._fleet[str(org.id)] = org

    def _forget(self, org_id: str) -> None:
        with self._lock:
            if self._fleet is not None:
                self._fleet.pop(org_id, None)

    def _get(self, client: PartnerClient, org_id: str) -> Organization | None:
        try:
            org = client.get_organization(org_id)
        except NotFoundError:
            self._forget(org_id)
            return None
        self._remember(org)
        return org

    def _lookup(self, client: PartnerClient, org_id: str) -> Organization | None:
        """An organization for a read: the first read of a process asks for it alone; further
        reads (a refresh of many) are served by one list, kept current with this process's own
        writes. What the list lacks is asked for alone, so a 404 is always the API's own answer."""
        with self._lock:
            self._reads += 1
            bulk = self._reads > 1 and not self._list_failed
        if bulk:
            try:
                fleet = self._list(client)
            except ExoDistributorError as exc:
                logger.warning("cannot list the organizations (%s): reading them one by one", exc)
                self._list_failed = True
            else:
                if org_id in fleet:
                    return fleet[org_id]
        return self._get(client, org_id)

    def _confirm_gone(self, org_id: str, state: Mapping[str, Any], action: str) -> None:
        """Accept a 404 as "gone" only under the key that created or last saw the organization."""
        recorded = state.get("key_fingerprint")
        current = self.key_fingerprint
        if recorded == current:
            return
        name = state.get("display_name")
        subject = f"organization {org_id}" + (f" ({name!r})" if name else "")
        if not recorded:
            # Written by a version that recorded no key: the same key as today's, most likely, but
            # nothing shows it, and forgetting a live customer is the one mistake not to make.
            raise DistributorOrganizationError(
                f"cannot {action} {subject}: the Partner API says it does not exist for API key {current}, "
                "and its state was written by an earlier version of pulumi-exo-distributor, which recorded "
                "no API key, so nothing shows that this answer comes from the account that created it. "
                "Nothing was changed and it stays in the state. Check that it is gone with the key that "
                f"created it (`exo-distributor orgs get {org_id}`); if it is, forget it with "
                "`pulumi state delete <its urn>` (`pulumi stack --show-urns` lists them), then run the "
                f"command again; if it is not, set that key ({CONFIG_KEY} or {ENV_KEY}). A `pulumi refresh` "
                "run while the organizations exist records the key of each, after which this cannot happen."
            )
        raise DistributorOrganizationError(
            f"cannot {action} {subject}: the Partner API says it does not exist for API key "
            f"{current}, but it was created or last seen with API key {recorded}. These are probably the "
            "credentials of another distributor account, or another endpoint: nothing was changed and it "
            f"stays in the state. Check {CONFIG_KEY} (or {ENV_KEY}) and the endpoint. If the organization "
            "is really gone, `pulumi state delete <its urn>` forgets it "
            "(`pulumi stack --show-urns` lists them)."
        )

    # -- shared ----------------------------------------------------------------------------

    def _converge(self, client: PartnerClient, org: Organization, desired: str) -> Organization:
        """Bring an organization to the desired status with one call, or none if it is there already."""
        if desired == org.status.value:
            return org
        changed = (
            client.activate_organization(org.id)
            if desired == "active"
            else client.suspend_organization(org.id)
        )
        self._remember(changed)
        return changed

    def _outputs(self, args: OrganizationArgs, org: Organization, deletion_policy: str) -> dict[str, Any]:
        """Complete outputs: what the program declared (diff compares it with the next
        declaration), the status the API reports, and what the API says of the address."""
        return {
            "display_name": args.display_name,
            "owner_email": args.owner_email,
            "billing_address": args.billing_address.to_dict(),
            "client_id": args.client_id if args.client_id is not None else org.client_id,
            "status": org.status.value,
            "deletion_policy": deletion_policy,
            "adopt_id": args.adopt_id,
            "allow_replacement": args.allow_replacement,
            "default_client_id": args.default_client_id,
            "key_fingerprint": self.key_fingerprint,
            "remote_billing_address": _address(org),
            "provider_version": current_version(),
        }

    def _guard(
        self,
        action: str,
        fn: Callable[[], _T],
        *,
        organization: str | None = None,
        name: str | None = None,
        client_id: str | None = None,
    ) -> _T:
        try:
            return fn()
        except DistributorOrganizationError:
            raise
        except ExoDistributorError as exc:
            raise _user_error(
                action, exc, organization=organization, name=name, client_id=client_id
            ) from None
        except Exception as exc:
            # A bug of ours: its traceback goes into the message, because the host prints none
            # (sys.tracebacklimit, see configure) and a bug report needs it.
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=30))
            raise DistributorOrganizationError(
                f"unexpected failure while trying to {action} organization {organization or ''}: "
                f"{type(exc).__name__}: {exc}\n{text}"
            ) from None


# -- module helpers ---------------------------------------------------------------------------


def _completed(
    olds: Mapping[str, Any], news: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Checked inputs with their defaults, which depend on the resource's history (``olds``: its
    recorded inputs or outputs, empty for a new resource)."""
    inputs, problems = validate(news)
    adopting = "adopt_id" in inputs
    if "client_id" not in inputs:
        # Not declared: an existing resource keeps the client id it has; a new one gets the
        # resource's own, so that it can be found again after a crash or a lost answer.
        if olds:
            if olds.get("client_id") is not None:
                inputs["client_id"] = comparable(olds["client_id"])
        elif not adopting and "default_client_id" in inputs:
            inputs["client_id"] = inputs["default_client_id"]
    inputs.setdefault("status", "active")
    # The program's policy, or the static default: recorded in the state's inputs, so that removing
    # a declared policy is a change the preview shows, and every delete shows what it does.
    inputs.setdefault("deletion_policy", default_deletion_policy(adopting=adopting))
    return inputs, problems


def _parse(props: Mapping[str, Any]) -> OrganizationArgs:
    inputs, problems = validate(props)
    if problems:
        raise DistributorOrganizationError("invalid inputs: " + "; ".join(reason for _, reason in problems))
    return OrganizationArgs.from_inputs(inputs)


def _args_from_state(state: Mapping[str, Any]) -> OrganizationArgs:
    recorded: dict[str, Any] = {
        key: comparable(state[key]) for key in INPUT_FIELDS if state.get(key) is not None
    }
    address = recorded.get("billing_address") or {}
    recorded["billing_address"] = {k: v for k, v in address.items() if k in ADDRESS_FIELDS}
    return OrganizationArgs.from_inputs(recorded)


def _address(org: Organization) -> dict[str, Any] | None:
    return org.billing_address.model_dump(exclude_none=True) if org.billing_address else None


def _organization(id_: str, state: Mapping[str, Any]) -> Organization:
    from ._models import Organization

    return Organization.model_validate(
        {"id": id_, "status": state["status"], "client-id": state.get("client_id")}
    )


def _known_differs(new: object, old: object) -> bool:
    return has_unknown(new) or comparable(old) != new


def _changed(key: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    if key in ("default_client_id", "adopt_id"):
        return False  # bookkeeping: recorded with the next update, never a change by itself
    new = news.get(key)
    if key == "client_id" and new is None:
        return False  # not declared: the recorded one stays
    if key == "allow_replacement":
        return bool(olds.get(key)) != bool(new) and not has_unknown(new)
    return _known_differs(new, olds.get(key))


def _outcome_unknown(exc: Exception) -> bool:
    """A create that failed this way may have created the organization anyway."""
    return isinstance(exc, ServerError) or (isinstance(exc, TransportError) and exc.request_sent)


def _replacement_refused(field: str, old: object, new: object, *, policy: object) -> str:
    label = _LABELS[field]
    if policy in _DELETION_EFFECTS:
        deletion = f"deletion_policy {policy!r}, which {_DELETION_EFFECTS[str(policy)]}"
    else:
        deletion = f"its recorded deletion_policy (by default 'purge', which {_DELETION_EFFECTS['purge']})"
    return (
        f"{field} cannot change from {old!r} to {new!r}. The Partner API cannot change an "
        f"organization's {label}, so this change would replace the organization: create a new one, then "
        f"delete this one with {deletion}. "
        "To keep the organization, put the previous value back. To replace it on purpose, set "
        "allow_replacement=True on this resource."
    )


def _policy_change_with_replacement(
    old: object, new: object, changes: list[tuple[str, object, object]]
) -> str | None:
    """Why a replacement may not also change the policy: the organization it replaces is deleted
    with the recorded one, which the reviewer would not expect."""
    if old is None or new is None or has_unknown(new) or new == old or not changes:
        return None
    return (
        f"deletion_policy cannot change from {old!r} to {new!r} in the same update as a replacement "
        f"(of {', '.join(c[0] for c in changes)}): the organization being replaced would still be "
        f"deleted with {old!r}. Apply the new deletion_policy alone first (`pulumi up`), then the "
        "replacement."
    )


def _takeover_refused(org_id: str, client_id: str) -> str:
    return (
        f"organization {org_id} already exists with client id {client_id!r}, and nothing proves that "
        "this resource created it (another stack, a person or a renamed resource may manage it), so "
        "it is not taken over silently. If this resource was renamed, keep its organization with "
        '`aliases` (opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="<old name>")])). To take '
        f'it under management on purpose, add adopt_id="{org_id}" (in a customers file: adopt_id: '
        f"{org_id}); removing the resource then leaves it running, unless it also says "
        'deletion_policy="purge" or "terminate". Otherwise give this resource its own client_id. '
        "Nothing was created."
    )


def _hint(action: str, error: ExoDistributorError, client_id: str | None) -> str:
    may_have_acted = isinstance(error, ServerError) or (
        isinstance(error, TransportError) and error.request_sent
    )
    if action == "create" and may_have_acted:
        if client_id is not None:
            return (
                "the request may have reached the Partner API, so the organization may exist: run "
                f"`pulumi up` again; it looks for the organization by its client id {client_id!r} first "
                "and takes it under management rather than creating a second one"
            )
        return (
            "the request may have reached the Partner API, so the organization may have been created: "
            "look for it before `pulumi up` again, and take it under management with `adopt_id=<its id>`"
        )
    if isinstance(error, AuthenticationError):
        return (
            f"check the credentials: `pulumi config set {CONFIG_KEY} EXO...` and "
            f"`pulumi config set --secret {CONFIG_SECRET} ...` (else {SHARED_CONFIG_KEY} and "
            f"{SHARED_CONFIG_SECRET}, shared with the Exoscale provider), or {ENV_KEY} and {ENV_SECRET}; "
            "a key of another distributor account may also be refused this organization"
        )
    if isinstance(error, InvalidRequestError):
        if error.status_code == 413:
            return "the request is too large for the Partner API: shorten the longest inputs"
        return "the Partner API refused the request's content: correct the input it names"
    if isinstance(error, ConflictError) and action == "create":
        return (
            "the Partner API refused to create it as it stands: it may refuse a client id that a "
            "live (or terminated, not yet purged) organization still has. Give this organization "
            "its own client_id, or wait for the purge of the old one"
        )
    if isinstance(error, ConflictError):
        return (
            "the organization was probably terminated outside Pulumi: run `pulumi refresh` "
            "so that Pulumi forgets it, then `pulumi up` creates a new one if the program still declares it"
        )
    if isinstance(error, NotFoundError):
        return "the organization does not exist for these credentials: check them, then run `pulumi refresh`"
    if isinstance(error, ConfigurationError):
        return (
            f"set `pulumi config set {CONFIG_KEY} ...` and `pulumi config set --secret {CONFIG_SECRET} ...` "
            f"(else {SHARED_CONFIG_KEY} and {SHARED_CONFIG_SECRET}, shared with the Exoscale provider; "
            f"endpoint: {CONFIG_ENDPOINT}), or the environment variables {ENV_KEY}, {ENV_SECRET} "
            f"({ENV_ENDPOINT})"
        )
    if isinstance(error, TransportError):
        return "the Partner API could not be reached; check the endpoint and the network, then retry"
    return "retry later; if it persists, contact Exoscale support with the organization id"


def _user_error(
    action: str,
    error: ExoDistributorError,
    *,
    organization: str | None,
    name: str | None,
    client_id: str | None,
) -> DistributorOrganizationError:
    subject = f"organization {organization}" if organization else "new organization"
    if name:
        subject += f" ({name!r})"
    detail = str(error)
    if isinstance(error, APIError):
        detail = f"{error.operation} answered HTTP {error.status_code}: {error.message}"
        if error.request_id:
            detail += f" (request id {error.request_id}: give it to Exoscale support)"
    return DistributorOrganizationError(
        f"cannot {action} {subject}: {detail}\n  hint: {_hint(action, error, client_id)}"
    )
