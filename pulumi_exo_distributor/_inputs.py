"""What a program declares for a DistributorOrganization: one model, snake_case, checked once.

This is not the wire model. Keys are the resource's snake_case names; unknown keys and the API's
kebab-case spellings are refused (a key that is silently dropped would make every later `up`
see a change). Values are normalised by this package's own rules only (surrounding white space
trimmed, country upper-cased), so comparing what was declared with what is declared now is
stable whatever the API echoes. It imports no Pulumi (any front-end may use it), and the e-mail
and country checks load their libraries on first use.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._limits import ADDRESS_LIMITS, ORGANIZATION_LIMITS, Limit

__all__ = [
    "ADDRESS_FIELDS",
    "CREATE_ONLY",
    "INPUT_FIELDS",
    "NEVER_RETURNED",
    "UNKNOWN",
    "BillingAddressInput",
    "DeletionPolicy",
    "OrganizationArgs",
    "comparable",
    "create_only_changes",
    "default_deletion_policy",
    "fold",
    "has_unknown",
    "remote_mismatches",
    "validate",
    "within_client_id_limit",
]

DesiredStatus = Literal["active", "suspended"]
DeletionPolicy = Literal["purge", "terminate", "retain"]

STATUSES: tuple[DesiredStatus, ...] = ("active", "suspended")
DELETION_POLICIES: tuple[DeletionPolicy, ...] = ("purge", "terminate", "retain")

ADDRESS_FIELDS = tuple(ADDRESS_LIMITS)
_REQUIRED_ADDRESS_FIELDS = ("name", "country", "city", "postal_code", "street_name")

#: Inputs the Partner API can never change: a new value means a new organization.
CREATE_ONLY = ("display_name", "billing_address", "client_id")
#: Every input a program may give (``default_client_id`` is set by the resource class itself).
INPUT_FIELDS = (
    "display_name",
    "owner_email",
    "billing_address",
    "client_id",
    "status",
    "deletion_policy",
    "adopt_id",
    "allow_replacement",
    "default_client_id",
)
_REQUIRED = ("display_name", "owner_email", "billing_address")
#: Inputs the API never returns (no display name in its answers; the owner's e-mail is write-only):
#: an imported organization's state cannot know them until the program declares them.
NEVER_RETURNED = ("display_name", "owner_email")


def default_deletion_policy(*, adopting: bool) -> DeletionPolicy:
    """What deleting the resource does when the program declares no ``deletion_policy``: a
    resource that creates its organization purges it; one that adopts an existing organization
    (an explicit act, which may be undone) leaves it running. Static: never chosen at run time."""
    return "retain" if adopting else "purge"


#: The engine's spelling of a value not known until `up` (``pulumi.runtime.rpc.UNKNOWN``; a test
#: keeps the two equal).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def has_unknown(value: object) -> bool:
    """Whether ``value`` is, or holds, a value the engine does not know yet (during a preview).

    The dynamic-provider host hands such values to check and diff as ``pulumi.output.Unknown``
    objects (recognised by their class, without importing Pulumi); earlier hosts, and states, as
    the engine's sentinel string.
    """
    kind = type(value)
    if kind.__name__ == "Unknown" and kind.__module__ == "pulumi.output":
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(has_unknown(item) for item in value.values())
    return False


def fold(value: object) -> object:
    """A value as a lenient comparison sees it: case and runs of white space do not count."""
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    return value


# -- the checks ----------------------------------------------------------------------------


class _Failures:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, reason: str) -> None:
        self.items.append((field, f"{field} {reason}"))


# Controls, line and paragraph separators, surrogates, private-use and unassigned code points, and
# invisible format characters (zero-width space, bidi overrides), except the joiners that some
# scripts need (U+200C, U+200D).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})


def _text(value: object, field: str, limit: Limit, failures: _Failures) -> str | None:
    """A trimmed string within ``limit``, or ``None`` after recording why not."""
    if not isinstance(value, str):
        failures.add(field, f"must be a string, got {type(value).__name__}")
        return None
    text = value.strip()
    # Printable text (no "Other" nor "Separator" but the space) holds none of them: looked at
    # character by character only when it is not.
    bad = (
        []
        if text.isprintable()
        else sorted(
            {
                f"U+{ord(c):04X}"
                for c in text
                if unicodedata.category(c) in _FORBIDDEN_CATEGORIES and c not in _ALLOWED_FORMAT
            }
        )
    )
    if bad:
        failures.add(
            field,
            "must not contain control characters, line breaks or invisible characters, "
            f"found {', '.join(bad)}",
        )
        return None
    if len(text) < limit.min_length:
        what = "blank" if value and not text else "empty"
        failures.add(field, f"must be at least {limit.min_length} character(s) long, got {what}")
        return None
    if len(text) > limit.max_length:
        failures.add(field, f"must be at most {limit.max_length} characters long, got {len(text)}")
        return None
    return text


def _email(value: str, field: str, failures: _Failures) -> None:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        failures.add(field, f"is {value!r}, not an e-mail address: {exc}")


def _country(value: str, field: str, failures: _Failures) -> str:
    import iso3166

    code = value.upper()
    if code not in iso3166.countries_by_alpha2:
        failures.add(field, f"is {value!r}, not an ISO 3166-1 alpha-2 country code (such as CH, DE, FR)")
    return code


def _choice(value: object, field: str, allowed: tuple[str, ...], failures: _Failures) -> None:
    if value not in allowed:
        listed = " or ".join(", ".join(repr(a) for a in allowed).rsplit(", ", 1))
        failures.add(field, f"must be {listed}, got {value!r}")


def _address(value: object, failures: _Failures) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        failures.add("billing_address", f"must be a BillingAddressArgs or a dict, got {type(value).__name__}")
        return None
    out: dict[str, Any] = {}
    for key, item in value.items():
        field = f"billing_address.{key}"
        if key not in ADDRESS_LIMITS:
            snake = str(key).replace("-", "_").lower()
            hint = (
                f"did you mean {snake}?"
                if snake in ADDRESS_LIMITS
                else "the fields are " + ", ".join(ADDRESS_FIELDS)
            )
            failures.add(field, f"is not a field of billing_address: {hint}")
            continue
        if item is None:
            continue
        if has_unknown(item):
            out[key] = UNKNOWN
            continue
        text = _text(item, field, ADDRESS_LIMITS[key], failures)
        if text is not None:
            out[key] = _country(text, field, failures) if key == "country" else text
    for key in _REQUIRED_ADDRESS_FIELDS:
        if value.get(key) is None:
            failures.add(f"billing_address.{key}", "is required")
    return out


def validate(
    props: Mapping[str, Any], *, recorded_email: object = None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check and normalise a program's inputs: ``(inputs, [(field, reason), ...])``.

    Engine-private keys (``__provider``) and unset values are left out; values the engine does
    not know yet are passed through unchecked. Defaults are not applied here: they depend on
    the resource's history (see the provider's ``check``).

    ``recorded_email``: an existing organization's recorded ``owner_email``. The same address is
    not checked again as an e-mail address (its length and characters are): it was checked when it
    was recorded, and the API never receives it after the create (the check costs more than all the
    others together).
    """
    failures = _Failures()
    inputs: dict[str, Any] = {}
    for key, value in props.items():
        if key.startswith("__") or value is None:
            continue
        if key not in INPUT_FIELDS:
            failures.add(key, "is not an input of DistributorOrganization")
            continue
        if has_unknown(value) and not isinstance(value, Mapping):
            inputs[key] = UNKNOWN  # the engine's own spelling, whatever the host handed over
            continue
        if key == "billing_address":
            address = _address(value, failures)
            if address is not None:
                inputs[key] = address
        elif key in ORGANIZATION_LIMITS or key == "default_client_id":
            limit = ORGANIZATION_LIMITS.get(key, ORGANIZATION_LIMITS["client_id"])
            text = _text(value, key, limit, failures)
            if text is not None and key == "owner_email" and text != recorded_email:
                # Checked, never rewritten: the validator's normalised form would differ from the
                # program's text and show a change on every `up`.
                _email(text, key, failures)
            if text is not None:
                inputs[key] = text
        elif key == "status":
            _choice(value, key, STATUSES, failures)
            inputs[key] = value
        elif key == "deletion_policy":
            _choice(value, key, DELETION_POLICIES, failures)
            inputs[key] = value
        elif key == "adopt_id":
            try:
                inputs[key] = str(uuid.UUID(str(value)))
            except ValueError:
                failures.add(
                    key, f"must be an organization id (a UUID such as {uuid.UUID(int=0)}), got {value!r}"
                )
        elif key == "allow_replacement":
            if not isinstance(value, bool):
                failures.add(key, f"must be True or False, got {value!r}")
            inputs[key] = value
    for key in _REQUIRED:
        if props.get(key) is None:
            failures.add(key, "is required")
    return inputs, failures.items


def create_only_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, object, object]]:
    """The create-only inputs whose known new value differs from the old one: ``(field, old, new)``."""
    changes = []
    for key in CREATE_ONLY:
        old, new = comparable(olds.get(key)), news.get(key)
        if key == "client_id" and new is None:
            continue  # not declared: the recorded client id is kept
        if key in NEVER_RETURNED and old is None:
            continue  # never known (an imported organization): the program's value is recorded
        if not has_unknown(new) and old != new:
            changes.append((key, old, new))
    return changes


def comparable(value: object) -> object:
    """An input recorded in a state, normalised by today's rules (states written by earlier
    versions may hold untrimmed strings or kebab-case address keys)."""
    if isinstance(value, str):
        return value if value == UNKNOWN else value.strip()
    if isinstance(value, Mapping):
        return {str(k).replace("-", "_"): comparable(v) for k, v in value.items() if v is not None}
    return value


def remote_mismatches(
    declared_address: Mapping[str, Any],
    declared_client_id: str | None,
    remote_address: Mapping[str, Any] | None,
    remote_client_id: str | None,
) -> list[str]:
    """How an organization found remotely differs from a declaration, leniently.

    The server may normalise what it stores (case, white space) and fill in or add fields:
    only what the program declares is compared, with :func:`fold`.
    """
    remote = remote_address or {}
    differences = [
        f"billing_address.{key} is {remote.get(key)!r}, the program says {value!r}"
        for key, value in declared_address.items()
        if fold(remote.get(key)) != fold(value)
    ]
    # A client id is a key: compared exactly (ACME-1 and acme-1 are two customers).
    if declared_client_id is not None and remote_client_id != declared_client_id:
        differences.append(f"client_id is {remote_client_id!r}, the program says {declared_client_id!r}")
    return differences


# -- the validated model -------------------------------------------------------------------


@dataclass(frozen=True)
class BillingAddressInput:
    name: str
    country: str
    city: str
    postal_code: str
    street_name: str
    building_number: str | None = None
    address: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class OrganizationArgs:
    """Checked inputs with their defaults applied, as create and update use them."""

    display_name: str
    owner_email: str
    billing_address: BillingAddressInput
    client_id: str | None
    status: DesiredStatus
    #: As declared, else :func:`default_deletion_policy`.
    deletion_policy: DeletionPolicy
    adopt_id: str | None
    allow_replacement: bool
    default_client_id: str | None

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any]) -> OrganizationArgs:
        """From inputs that :func:`validate` accepted (and the provider completed)."""
        return cls(
            display_name=inputs["display_name"],
            owner_email=inputs["owner_email"],
            billing_address=BillingAddressInput(**inputs["billing_address"]),
            client_id=inputs.get("client_id"),
            status=inputs.get("status", "active"),
            deletion_policy=inputs.get("deletion_policy")
            or default_deletion_policy(adopting=inputs.get("adopt_id") is not None),
            adopt_id=inputs.get("adopt_id"),
            allow_replacement=bool(inputs.get("allow_replacement", False)),
            default_client_id=inputs.get("default_client_id"),
        )


def within_client_id_limit(text: str) -> str:
    """``text`` as a client id: unchanged if short enough, else cut, with a hash of the whole."""
    limit = ORGANIZATION_LIMITS["client_id"].max_length
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: limit - len(digest) - 1]}~{digest}"
