"""Every hint and detail shown to a person, once: what an error means and what to do about it.

The read-only tools (functions, command) use :func:`hint` and :func:`detail`; the resource's rules
(the core and the provider) use :func:`resource_error` and the refusals below, which speak of
`pulumi refresh`, `aliases` and `adopt_id`. Nothing here imports more than the error classes and
the configuration's key names.
"""

from __future__ import annotations

from ._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    ExoDistributorError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)

__all__ = [
    "command_credentials_help",
    "config_help",
    "detail",
    "environment_help",
    "gone_refused",
    "hint",
    "import_needs_adoption",
    "import_not_found",
    "newer_writer_refused",
    "policy_change_with_replacement",
    "replacement_refused",
    "resource_error",
    "resource_hint",
    "takeover_refused",
]


def environment_help() -> str:
    """How to give credentials through the environment (what the command reads)."""
    from ._config import ENV_ENDPOINT, ENV_KEY, ENV_SECRET

    return (
        f"set {ENV_KEY} and {ENV_SECRET} (and {ENV_ENDPOINT} for another endpoint than Exoscale's, "
        "such as the local simulator)"
    )


def command_credentials_help() -> str:
    """Where the command finds credentials: the environment, else the exo CLI's account."""
    from ._config import ENV_EXO_ACCOUNT, ENV_EXO_CONFIG

    return (
        f"{environment_help()}; or, as the exo CLI does, an account of ~/.config/exoscale/exoscale.toml "
        f"(its default one, or the one {ENV_EXO_ACCOUNT} names; {ENV_EXO_CONFIG} for another file)"
    )


def detail(error: ExoDistributorError) -> str:
    """What failed, as the server or the transport said it; never a credential."""
    if isinstance(error, APIError):
        return f"{error.operation} answered HTTP {error.status_code}: {error.message}"
    return str(error)


def hint(error: ExoDistributorError, *, credentials_help: str | None = None) -> str:
    """What to do about ``error``; ``credentials_help`` says where credentials come from (default:
    the environment variables)."""
    from ._config import ENV_ENDPOINT

    credentials_help = credentials_help or environment_help()
    if isinstance(error, ConfigurationError):
        return credentials_help
    if isinstance(error, AuthenticationError):
        return (
            "the Partner API refused the credentials (unknown key, wrong secret, or a key without the "
            f"distributor right): check them; {credentials_help}"
        )
    if isinstance(error, NotFoundError):
        return (
            "no such organization for these credentials: check the id (`exo-distributor orgs list`); "
            "a key of another distributor account also gets this answer"
        )
    if isinstance(error, RateLimitError):
        return "the Partner API kept answering 'too many requests' through every retry: try again later"
    if isinstance(error, ServerError):
        return (
            "the Partner API failed through every retry: try again later; if it persists, contact "
            "Exoscale support"
        )
    if isinstance(error, TransportError):
        return f"the Partner API could not be reached: check the endpoint ({ENV_ENDPOINT}) and the network"
    if isinstance(error, InvalidRequestError):
        return "the Partner API refused the request's content: check the value the message names"
    if isinstance(error, ConflictError):
        return "the organization's status forbids this operation (it is probably terminated)"
    return "try again later; if it persists, contact Exoscale support"


# -- the resource's rules -------------------------------------------------------------------------

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


def config_help() -> str:
    """How to give the resource its credentials."""
    from ._config import (
        CONFIG_ENDPOINT,
        CONFIG_KEY,
        CONFIG_SECRET,
        ENV_ENDPOINT,
        ENV_KEY,
        ENV_SECRET,
        SHARED_CONFIG_KEY,
        SHARED_CONFIG_SECRET,
    )

    return (
        f"`pulumi config set {CONFIG_KEY} EXO...` and `pulumi config set --secret {CONFIG_SECRET} ...` "
        f"(else {SHARED_CONFIG_KEY} and {SHARED_CONFIG_SECRET}, shared with the Exoscale provider; "
        f"endpoint: {CONFIG_ENDPOINT}), or the environment variables {ENV_KEY}, {ENV_SECRET} "
        f"({ENV_ENDPOINT})"
    )


def replacement_refused(field: str, old: object, new: object, *, policy: object) -> str:
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


def policy_change_with_replacement(old: object, new: object, fields: list[str]) -> str:
    return (
        f"deletion_policy cannot change from {old!r} to {new!r} in the same update as a replacement "
        f"(of {', '.join(fields)}): the organization being replaced would still be deleted with "
        f"{old!r}. Apply the new deletion_policy alone first (`pulumi up`), then the replacement."
    )


def takeover_refused(org_id: str, client_id: str) -> str:
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


def newer_writer_refused(org_id: str, distribution: str, newer: str, current: str) -> str:
    return (
        f"organization {org_id} was last written by {distribution} {newer}, newer than this one "
        f"({current}): a stack written with newer rules must not be driven by older ones "
        "(CI runners or shards with different versions would apply different rules to one fleet). "
        f"Nothing was changed. Install {newer} or later wherever this stack runs: "
        f"`pip install -U '{distribution}>={newer}'`."
    )


def gone_refused(
    action: str, subject: str, org_id: str, current: str, recorded: str | None, *, same_key: bool = False
) -> str:
    """Why a 404 is not taken as proof that an organization is gone (``same_key``: the recorded
    fingerprint is this key's, in the form of versions that left the endpoint out)."""
    from ._config import CONFIG_KEY, ENV_KEY

    # refresh and destroy configure the provider with the last up's configuration.
    then = (
        "then `pulumi up` (or `pulumi refresh --run-program`), since `pulumi refresh` and "
        "`pulumi destroy` alone use the credentials the last `pulumi up` recorded"
    )
    forget = (
        f"Check that it is gone (`exo-distributor orgs get {org_id}` with the key and endpoint that "
        "created it); if it is, forget it with `pulumi state delete <its urn>` (`pulumi stack "
        "--show-urns` lists them) and run the command again"
    )
    if same_key:
        return (
            f"cannot {action} {subject}: the Partner API says it does not exist for API key {current}, "
            f"and its state was written by an earlier version of pulumi-exo-distributor, which recorded "
            f"this same API key ({recorded}) but not the endpoint, so nothing shows that this answer "
            "comes from the endpoint that created it. Nothing was changed and it stays in the state. "
            f"{forget}; if it is not, set that endpoint, {then}. A `pulumi refresh` run while the "
            "organizations exist records the endpoint with the key, after which this cannot happen."
        )

    if not recorded:
        # Written by a version that recorded no key: the same key as today's, most likely, but
        # nothing shows it, and forgetting a live customer is the one mistake not to make.
        return (
            f"cannot {action} {subject}: the Partner API says it does not exist for API key {current}, "
            "and its state was written by an earlier version of pulumi-exo-distributor, which recorded "
            "no API key, so nothing shows that this answer comes from the account that created it. "
            f"Nothing was changed and it stays in the state. {forget}; if it is not, set that key "
            f"({CONFIG_KEY} or {ENV_KEY}), {then}. A `pulumi refresh` run while the organizations exist "
            "records the key of each, after which this cannot happen."
        )
    return (
        f"cannot {action} {subject}: the Partner API says it does not exist for API key "
        f"{current}, but it was created or last seen with API key {recorded}. These are probably the "
        "credentials of another distributor account, or another endpoint: nothing was changed and it "
        f"stays in the state. Check {CONFIG_KEY} (or {ENV_KEY}) and the endpoint, {then}. If the "
        "organization is really gone, `pulumi state delete <its urn>` forgets it "
        "(`pulumi stack --show-urns` lists them)."
    )


def resource_hint(action: str, error: ExoDistributorError, client_id: str | None) -> str:
    """What to do when ``action`` (create, adopt, read, update, delete) of an organization failed."""
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
            f"check the credentials: {config_help()}; a key of another distributor account may also be "
            "refused this organization"
        )
    if isinstance(error, InvalidRequestError) and error.status_code == 413:
        return "the request is too large for the Partner API: shorten the longest inputs"
    if isinstance(error, InvalidRequestError):
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
    if isinstance(error, TransportError):
        return "the Partner API could not be reached; check the endpoint and the network, then retry"
    if isinstance(error, ConfigurationError):
        return f"set {config_help()}"
    return "retry later; if it persists, contact Exoscale support with the organization id"


def resource_error(
    action: str,
    error: ExoDistributorError,
    *,
    organization: str | None,
    name: str | None,
    client_id: str | None,
) -> str:
    """What a failed operation on an organization says: what, on which one, the server's words,
    and what to do."""
    subject = f"organization {organization}" if organization else "new organization"
    if name:
        subject += f" ({name!r})"
    said = detail(error)
    if isinstance(error, APIError) and error.request_id:
        said += f" (request id {error.request_id}: give it to Exoscale support)"
    return f"cannot {action} {subject}: {said}\n  hint: {resource_hint(action, error, client_id)}"


def import_not_found(org_id: str, scope: str, key_help: str) -> str:
    return (
        f"cannot import organization {org_id}: no organization with this id is visible to API key "
        f"{scope}. Check the id, and that {key_help} is the key of the distributor account that owns it."
    )


def import_needs_adoption(org_id: str) -> str:
    return (
        f"organization {org_id} was imported (`pulumi import`), not created by this program: declare "
        f"adopt_id {org_id!r} (deleting the resource then leaves it running: deletion_policy 'retain'), "
        "or declare deletion_policy ('purge' terminates it and purges the customer's account on delete)"
    )
