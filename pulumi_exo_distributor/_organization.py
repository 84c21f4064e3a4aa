"""DistributorOrganization: its inputs, its dynamic provider and its resource class."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypeVar

import pulumi
import pulumi.dynamic
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
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from pydantic import ValidationError as PydanticValidationError

from ._client import PartnerClient
from ._config import ENV_ENDPOINT, ENV_KEY, ENV_SECRET, Credentials
from ._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ExoDistributorError,
    NotFoundError,
    ServerError,
    TransportError,
)
from ._models import BillingAddress, Organization, OrganizationInput, OrganizationStatus

__all__ = [
    "CONFIG_ENDPOINT",
    "CONFIG_KEY",
    "CONFIG_SECRET",
    "BillingAddressArgs",
    "DistributorOrganization",
    "DistributorOrganizationError",
    "DistributorOrganizationProvider",
]

logger = logging.getLogger("pulumi_exo_distributor")

#: Stack configuration keys read by the provider (set the secret with ``--secret``).
CONFIG_KEY = "exoscale:key"
CONFIG_SECRET = "exoscale:secret"  # noqa: S105 -- the key's name, not a secret
CONFIG_ENDPOINT = "exoscale:partnerApiEndpoint"

# The engine's placeholder for a value not known before `up` (pulumi.runtime.rpc.UNKNOWN).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

DesiredStatus = Literal["active", "suspended"]
DeletionPolicy = Literal["purge", "terminate", "retain"]

# Inputs whose change needs a new organization: the API has no update operation for them.
REPLACE_ON_CHANGE = ("display_name", "billing_address", "client_id")
# Inputs that change in place: status through the API, the others only in the state.
UPDATE_IN_PLACE = ("status", "owner_email", "deletion_policy", "adopt_id")
_INPUT_KEYS = (*REPLACE_ON_CHANGE, *UPDATE_IN_PLACE)


# -- inputs ----------------------------------------------------------------------------------


class OrganizationArgs(BaseModel):
    """Validated inputs of a DistributorOrganization, as the provider receives them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    display_name: Annotated[str, Field(min_length=1, max_length=191)]
    owner_email: Annotated[EmailStr, Field(min_length=1, max_length=75)]
    billing_address: BillingAddress
    client_id: Annotated[str | None, Field(max_length=191)] = None
    status: DesiredStatus = "active"
    deletion_policy: DeletionPolicy = "purge"
    adopt_id: Annotated[str | None, Field(pattern=r"^[0-9a-fA-F-]{36}$")] = None

    def to_api(self) -> OrganizationInput:
        return OrganizationInput(
            display_name=self.display_name,
            owner_email=self.owner_email,
            billing_address=self.billing_address,
            client_id=self.client_id,
        )


_ALLOWED = {
    "status": "'active' or 'suspended'",
    "deletion_policy": "'purge', 'terminate' or 'retain'",
    "adopt_id": "an organization id (UUID)",
}


def _reason(field: str, error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"{field} is required"
    if kind == "string_too_short":
        return f"{field} must be at least {ctx['min_length']} character(s) long, got {len(error['input'])}"
    if kind == "string_too_long":
        return f"{field} must be at most {ctx['max_length']} characters long, got {len(error['input'])}"
    if kind == "extra_forbidden":
        return f"{field} is not an input of DistributorOrganization"
    if kind == "value_error":
        return f"{field}: {ctx.get('reason') or error['msg']}"
    if field in _ALLOWED:
        return f"{field} must be {_ALLOWED[field]}, got {error.get('input')!r}"
    return f"{field}: {error['msg']}"


def _is_unknown(value: object) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def _unknown_paths(value: object, path: tuple[str | int, ...] = ()) -> set[tuple[str | int, ...]]:
    if _is_unknown(value):
        return {path}
    if isinstance(value, Mapping):
        found: set[tuple[str | int, ...]] = set()
        for key, item in value.items():
            found |= _unknown_paths(item, (*path, key))
        return found
    return set()


def _user_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs as the program gave them: engine-private keys and unset values left out."""
    inputs = {k: v for k, v in props.items() if not k.startswith("__") and v is not None}
    address = inputs.get("billing_address")
    if isinstance(address, Mapping):
        inputs["billing_address"] = {k: v for k, v in address.items() if v is not None}
    return inputs


def validate_inputs(props: Mapping[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
    """Check and normalise inputs; values still unknown (during a preview) are passed through."""
    inputs = _user_inputs(props)
    inputs.setdefault("status", "active")
    inputs.setdefault("deletion_policy", "purge")
    unknown = _unknown_paths(inputs)
    failures: list[CheckFailure] = []
    try:
        OrganizationArgs.model_validate(inputs)
    except PydanticValidationError as exc:
        for error in exc.errors():
            # Nested models report wire (kebab-case) names; the resource speaks snake_case.
            loc = tuple(part.replace("-", "_") if isinstance(part, str) else part for part in error["loc"])
            if any(loc[: len(u)] == u for u in unknown):
                continue
            field = ".".join(str(part) for part in loc)
            failures.append(CheckFailure(field, _reason(field, error)))
    address = inputs.get("billing_address")
    if (
        isinstance(address, Mapping)
        and isinstance(address.get("country"), str)
        and not _is_unknown(address["country"])
    ):
        inputs["billing_address"] = {**address, "country": address["country"].upper()}
    return inputs, failures


def _parse(props: Mapping[str, Any]) -> OrganizationArgs:
    inputs, failures = validate_inputs(props)
    if failures:
        raise DistributorOrganizationError("invalid inputs: " + "; ".join(f.reason for f in failures))
    return OrganizationArgs.model_validate(inputs)


# -- provider --------------------------------------------------------------------------------


class DistributorOrganizationError(ExoDistributorError):
    """What a user sees when a DistributorOrganization operation fails: what, where, why, what to do."""


# Shorter name in the engine's error output, and the class stays importable from there.
DistributorOrganizationError.__module__ = "pulumi_exo_distributor"


def _hint(action: str, error: ExoDistributorError) -> str:
    may_have_acted = isinstance(error, ServerError) or (
        isinstance(error, TransportError) and error.request_sent
    )
    if action == "create" and may_have_acted:
        # create is not idempotent, so it was not retried: the organization may exist anyway.
        return (
            "the request may have reached the Partner API, so the organization may have been created: "
            "look for it (list the organizations, by client id) before `pulumi up` again, and take it "
            "under management with `adopt_id=<its id>` rather than creating a second one"
        )
    if isinstance(error, AuthenticationError):
        return (
            f"check the credentials: `pulumi config set {CONFIG_KEY} EXO...` and "
            f"`pulumi config set --secret {CONFIG_SECRET} ...`, or {ENV_KEY} and {ENV_SECRET}"
        )
    if isinstance(error, ConflictError):
        return (
            "the organization was probably terminated outside Pulumi: run `pulumi refresh` "
            "so that Pulumi forgets it, then `pulumi up` creates a new one if the program still declares it"
        )
    if isinstance(error, NotFoundError):
        return "the organization does not exist for these credentials: run `pulumi refresh`"
    if isinstance(error, ConfigurationError):
        return (
            f"set `pulumi config set {CONFIG_KEY} ...` and `pulumi config set --secret {CONFIG_SECRET} ...` "
            f"(endpoint: {CONFIG_ENDPOINT}), or the environment variables {ENV_KEY}, {ENV_SECRET} "
            f"({ENV_ENDPOINT})"
        )
    if isinstance(error, TransportError):
        return "the Partner API could not be reached; check the endpoint and the network, then retry"
    return "retry later; if it persists, contact Exoscale support with the organization id"


def _user_error(
    action: str, error: ExoDistributorError, *, organization: str | None, name: str | None
) -> DistributorOrganizationError:
    subject = f"organization {organization}" if organization else "new organization"
    if name:
        subject += f" ({name!r})"
    detail = str(error)
    if isinstance(error, APIError):
        detail = f"{error.operation} answered HTTP {error.status_code}: {error.message}"
    return DistributorOrganizationError(
        f"cannot {action} {subject}: {detail}\n  hint: {_hint(action, error)}"
    )


_T = TypeVar("_T")


def _in_dynamic_provider_host() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", "") == "pulumi.dynamic.__main__"


class DistributorOrganizationProvider(ResourceProvider):
    """Dynamic provider of :class:`DistributorOrganization`.

    It is pickled into the state by reference and carries nothing: credentials are read in
    :meth:`configure` (stack config, else environment) and the HTTP client is made on first use.
    """

    # Nothing secret is ever pickled: the state can show it in the clear.
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._config: dict[str, str | None] = {}
        self._client: PartnerClient | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def __repr__(self) -> str:
        return "DistributorOrganizationProvider()"

    def configure(self, req: ConfigureRequest) -> None:
        self._config = {
            "key": req.config.get(CONFIG_KEY),
            "secret": req.config.get(CONFIG_SECRET),
            "endpoint": req.config.get(CONFIG_ENDPOINT),
        }
        if _in_dynamic_provider_host():
            # The host reports a failure as `traceback.format_exc()`: keep expected failures
            # to their message. Unexpected ones carry their own traceback (see _guard).
            sys.tracebacklimit = 0

    def client(self) -> PartnerClient:
        """The provider process's one client (one connection pool), made on first use."""
        with self._lock:
            if self._client is None:
                self._client = PartnerClient(
                    credentials=Credentials.resolve(
                        self._config.get("key"), self._config.get("secret"), self._config.get("endpoint")
                    )
                )
            return self._client

    def _guard(
        self, action: str, fn: Callable[[], _T], *, organization: str | None = None, name: str | None = None
    ) -> _T:
        try:
            return fn()
        except DistributorOrganizationError:
            raise
        except ExoDistributorError as exc:
            raise _user_error(action, exc, organization=organization, name=name) from None
        except Exception as exc:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=30))
            raise DistributorOrganizationError(
                f"unexpected failure while trying to {action} organization {organization or ''}: "
                f"{type(exc).__name__}: {exc}\n{text}"
            ) from None

    # check, create, read, diff, update, delete: the order the engine mostly calls them in.

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = validate_inputs(news)
        return CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        args = _parse(props)

        def run() -> CreateResult:
            client = self.client()
            org = self._adopt(client, args) if args.adopt_id else client.create_organization(args.to_api())
            try:
                org = _converge(client, org, args.status)
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
            return CreateResult(str(org.id), _outputs(org, props))

        return self._guard(
            "create" if not args.adopt_id else "adopt",
            run,
            organization=args.adopt_id,
            name=args.display_name,
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        def run() -> ReadResult:
            try:
                org = self.client().get_organization(id_)
            except NotFoundError:
                return ReadResult("", {})
            if org.status is OrganizationStatus.TERMINATED:
                return ReadResult("", {})
            outs = _outputs(org, props)
            inputs = {key: outs[key] for key in _INPUT_KEYS if outs.get(key) is not None}
            return ReadResult(str(org.id), outs, inputs)

        return self._guard("read", run, organization=id_, name=props.get("display_name"))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        olds = _user_inputs(_olds)
        news, _ = validate_inputs(_news)
        changed = [
            key for key in (*REPLACE_ON_CHANGE, *UPDATE_IN_PLACE) if _differs(olds.get(key), news.get(key))
        ]
        replaces = [key for key in changed if key in REPLACE_ON_CHANGE]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        args = _parse(_news)

        def run() -> UpdateResult:
            org = _converge(self.client(), _organization_from_state(_id, _olds), args.status)
            return UpdateResult(_outputs(org, _news))

        return self._guard("update", run, organization=_id, name=args.display_name)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        policy = _props.get("deletion_policy") or "purge"
        if policy == "retain":
            logger.info("organization %s left as it is (deletion_policy=retain)", _id)
            return

        def run() -> None:
            client = self.client()
            try:
                client.terminate_organization(_id)
                if policy == "purge":
                    client.schedule_purge_organization(_id)
            except NotFoundError:
                return  # already gone: what delete wants

        self._guard("delete", run, organization=_id, name=_props.get("display_name"))

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _adopt(client: PartnerClient, args: OrganizationArgs) -> Organization:
        """Take an existing organization under management, if the program declares it as it is."""
        assert args.adopt_id is not None
        org = client.get_organization(args.adopt_id)
        if org.status is OrganizationStatus.TERMINATED:
            raise DistributorOrganizationError(f"cannot adopt organization {args.adopt_id}: it is terminated")
        mismatches = []
        declared = args.billing_address.model_dump(exclude_none=True)
        actual = org.billing_address.model_dump(exclude_none=True) if org.billing_address else {}
        if declared != actual:
            mismatches.append(f"billing_address is {actual}, the program says {declared}")
        if (args.client_id or None) != (org.client_id or None):
            mismatches.append(f"client_id is {org.client_id!r}, the program says {args.client_id!r}")
        if mismatches:
            raise DistributorOrganizationError(
                f"cannot adopt organization {args.adopt_id}: the program must declare it as it is; "
                + "; ".join(mismatches)
            )
        return org


def _converge(client: PartnerClient, org: Organization, desired: DesiredStatus) -> Organization:
    """Bring an organization to the desired status with one call, or none if it is there already."""
    if desired == org.status.value:
        return org
    if desired == "active":
        return client.activate_organization(org.id)
    return client.suspend_organization(org.id)


def _differs(old: object, new: object) -> bool:
    if _unknown_paths(new):
        return True
    return old != new


def _outputs(org: Organization, kept: Mapping[str, Any]) -> dict[str, Any]:
    """Complete outputs: what the API says, and from ``kept`` (the checked inputs, or the state
    on a read) what it never returns, exactly as the program wrote it."""
    address = org.billing_address.model_dump(exclude_none=True) if org.billing_address else None
    return {
        "display_name": kept.get("display_name"),
        "owner_email": kept.get("owner_email"),
        "billing_address": address if address is not None else kept.get("billing_address"),
        "client_id": org.client_id,
        "status": org.status.value,
        "deletion_policy": kept.get("deletion_policy") or "purge",
        "adopt_id": kept.get("adopt_id"),
    }


def _organization_from_state(id_: str, state: Mapping[str, Any]) -> Organization:
    return Organization.model_validate(
        {
            "id": id_,
            "status": state["status"],
            "billing_address": state.get("billing_address"),
            "client_id": state.get("client_id"),
        }
    )


# -- resource --------------------------------------------------------------------------------


@pulumi.input_type
class BillingAddressArgs:
    """ISO 20022 structured billing address of an organization."""

    def __init__(
        __self__,
        *,
        name: pulumi.Input[str],
        country: pulumi.Input[str],
        city: pulumi.Input[str],
        postal_code: pulumi.Input[str],
        street_name: pulumi.Input[str],
        building_number: pulumi.Input[str] | None = None,
        address: pulumi.Input[str] | None = None,
    ) -> None:
        """
        :param name: Recipient name; the API calls it the organization's display name (at least 1 character).
        :param country: ISO 3166-1 alpha-2 country code, such as ``CH`` (normalised to upper case).
        :param city: City, 1 to 255 characters.
        :param postal_code: Postal code, 1 to 80 characters.
        :param street_name: Street name, at least 1 character.
        :param building_number: Building number, at most 255 characters.
        :param address: Free-text address, a fallback for what the structured fields cannot say.
        """
        pulumi.set(__self__, "name", name)
        pulumi.set(__self__, "country", country)
        pulumi.set(__self__, "city", city)
        pulumi.set(__self__, "postal_code", postal_code)
        pulumi.set(__self__, "street_name", street_name)
        if building_number is not None:
            pulumi.set(__self__, "building_number", building_number)
        if address is not None:
            pulumi.set(__self__, "address", address)

    @property
    @pulumi.getter
    def name(self) -> pulumi.Input[str]:
        return pulumi.get(self, "name")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def country(self) -> pulumi.Input[str]:
        return pulumi.get(self, "country")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def city(self) -> pulumi.Input[str]:
        return pulumi.get(self, "city")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="postal_code")
    def postal_code(self) -> pulumi.Input[str]:
        return pulumi.get(self, "postal_code")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="street_name")
    def street_name(self) -> pulumi.Input[str]:
        return pulumi.get(self, "street_name")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="building_number")
    def building_number(self) -> pulumi.Input[str] | None:
        return pulumi.get(self, "building_number")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def address(self) -> pulumi.Input[str] | None:
        return pulumi.get(self, "address")  # type: ignore[no-any-return]


class DistributorOrganization(pulumi.dynamic.Resource, module="exoscale", name="DistributorOrganization"):
    """An end-customer organization of an Exoscale distributor.

    Deleting the resource terminates the organization and schedules its purge (see
    ``deletion_policy``); a change of ``display_name``, ``billing_address`` or ``client_id``
    replaces it, since the API cannot update them. Protect what matters with
    ``pulumi.ResourceOptions(protect=True)``.
    """

    status: pulumi.Output[str]
    """The organization's status: ``created``, ``active``, ``suspended`` or ``terminated``."""
    display_name: pulumi.Output[str]
    """The display name given at creation (the API never returns it)."""
    owner_email: pulumi.Output[str]
    """The first owner's e-mail address given at creation (the API never returns it)."""
    billing_address: pulumi.Output[dict[str, str]]
    """The billing address, snake_case keys, as the API returns it."""
    client_id: pulumi.Output[str | None]
    """The distributor's own reference for the organization."""
    deletion_policy: pulumi.Output[str]
    """What deleting the resource does: ``purge``, ``terminate`` or ``retain``."""
    adopt_id: pulumi.Output[str | None]
    """The id of an existing organization this resource took under management, if any."""

    def __init__(
        self,
        resource_name: str,
        *,
        display_name: pulumi.Input[str],
        owner_email: pulumi.Input[str],
        billing_address: pulumi.Input[BillingAddressArgs] | pulumi.Input[Mapping[str, pulumi.Input[str]]],
        client_id: pulumi.Input[str] | None = None,
        status: pulumi.Input[str] | None = None,
        deletion_policy: pulumi.Input[str] | None = None,
        adopt_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param resource_name: The Pulumi name of the resource.
        :param display_name: Organization display name, 1 to 191 characters. Changing it replaces
            the organization.
        :param owner_email: E-mail of the first owner, at most 75 characters. Used only at creation:
            changing it later records the new value and changes nothing remotely.
        :param billing_address: A :class:`BillingAddressArgs` or a dict with the same snake_case keys.
            Changing it replaces the organization.
        :param client_id: The distributor's own reference, at most 191 characters. Changing it replaces the
            organization.
        :param status: ``active`` (default) or ``suspended``; changes in place (activate/suspend).
        :param deletion_policy: ``purge`` (default: terminate, then schedule the purge), ``terminate``
            (terminate only) or ``retain`` (leave the organization alone). Changes in place, with no API call.
        :param adopt_id: Id of an existing organization to take under management instead of creating one;
            the program must declare it as it is (billing address, client id).
        :param opts: Resource options; ``protect=True`` is advised.
        """
        props: dict[str, Any] = {
            "display_name": display_name,
            "owner_email": owner_email,
            "billing_address": billing_address,
            "client_id": client_id,
            "status": status,
            "deletion_policy": deletion_policy,
            "adopt_id": adopt_id,
        }
        super().__init__(DistributorOrganizationProvider(), resource_name, props, opts)
