"""What `exo-distributor import-code` writes: a Python program, or a customers file that
`load_customers` reads, declaring existing organizations with ``adopt_id``. Keys follow the
loader's rules, so that what is written loads as it is."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._fleet import _CUSTOMER_KEY, CUSTOMERS_KEY

if TYPE_CHECKING:
    from .._data import OrganizationInfo

__all__ = ["OWNER_EMAIL_PLACEHOLDER", "ImportedCustomer", "customer_key", "customers_yaml", "python_program"]

#: The longest key `customer_key` makes: well within the loader's rule, and short enough to read.
IMPORTED_KEY_LENGTH = 60
#: Stands in for the owner e-mail the API never returns (used only at creation: for an adopted
#: organization it changes nothing).
OWNER_EMAIL_PLACEHOLDER = "unknown-owner@example.com"


def customer_key(text: str) -> str:
    """``text`` as a customer key the loader accepts, readable and stable: lower case ASCII (accents
    and ligatures transliterated, ``Société`` -> ``societe``), every run of other characters one
    ``-``, at most ``IMPORTED_KEY_LENGTH`` characters; a shortened one ends with a hash of the whole
    text, so two long texts sharing a beginning stay apart. ``""`` if no letter or digit is left
    (a name in a script with no ASCII transliteration): the caller picks another source.
    """
    ascii_text = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode("ascii")
    key = re.sub(r"[^a-z0-9._]+", "-", ascii_text).strip("-._")
    key = re.sub(r"[._-]*-[._-]*", "-", key)  # "a_-_b" -> "a-b": no run of punctuation around a '-'
    if len(key) > IMPORTED_KEY_LENGTH:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        key = f"{key[: IMPORTED_KEY_LENGTH - len(digest) - 1].rstrip('-._')}-{digest}"
    assert key == "" or _CUSTOMER_KEY.fullmatch(key), key
    return key


@dataclass(frozen=True)
class ImportedCustomer:
    """An existing organization to declare for adoption, under a resource name."""

    name: str
    organization: OrganizationInfo
    #: The other live organizations with the same client id. Two resources of one program cannot
    #: declare one client id (its preview fails), so then none is declared, and a comment says why.
    client_id_shared_with: tuple[str, ...] = ()

    def declared_status(self) -> str:
        # `created` is not a status a program can ask for: the closest is active.
        return "suspended" if self.organization["status"] == "suspended" else "active"

    def address(self) -> dict[str, str]:
        address = self.organization["billing_address"]
        items = address.items() if address is not None else ()
        return {key: value for key, value in items if isinstance(value, str)}

    def client_id_note(self) -> str:
        """Why the client id is a comment only (with ``client_id_shared_with``)."""
        others = ", ".join(self.client_id_shared_with)
        return f"left out: organization {others} has this client id too, and two resources cannot declare one"


def _py(value: str) -> str:
    # A JSON string is a valid Python string literal, double-quoted as the house style wants.
    return json.dumps(value, ensure_ascii=False)


def python_program(customers: Sequence[ImportedCustomer], generated: str) -> str:
    """A Pulumi program declaring ``customers`` for adoption, kept if ever removed, protected."""
    out = [
        f'"""Existing organizations, declared for adoption by `exo-distributor import-code` ({generated}).',
        "",
        "The next `pulumi up` takes each under management through `adopt_id`: one read, no change. Each is",
        'kept if removed from the program (deletion_policy="retain") and protected against replacement.',
        '"""',
        "",
        "import pulumi",
        "",
        "from pulumi_exo_distributor import BillingAddressArgs, DistributorOrganization",
        "",
        "# The API never returns an organization's owner e-mail, and it is only used when an organization",
        "# is created: for these adopted ones the placeholder changes nothing. Write the real ones if known.",
        f"OWNER_EMAIL_UNKNOWN = {_py(OWNER_EMAIL_PLACEHOLDER)}",
    ]
    for customer in customers:
        org = customer.organization
        out += ["", "DistributorOrganization(", f"    {_py(customer.name)},"]
        out.append(f"    display_name={_py(customer.address().get('name', ''))},")
        out.append("    owner_email=OWNER_EMAIL_UNKNOWN,")
        out.append("    billing_address=BillingAddressArgs(")
        out += [f"        {key}={_py(value)}," for key, value in customer.address().items()]
        out.append("    ),")
        if org["client_id"] and customer.client_id_shared_with:
            out.append(f"    # {customer.client_id_note()}")
            out.append(f"    # client_id={_py(org['client_id'])},")
        elif org["client_id"]:
            out.append(f"    client_id={_py(org['client_id'])},")
        status = f"    status={_py(customer.declared_status())},"
        if org["status"] == "created":
            status += "  # live status: created; this activates it"
        out.append(status)
        out.append('    deletion_policy="retain",')
        out.append(f"    adopt_id={_py(org['id'])},")
        out.append("    opts=pulumi.ResourceOptions(protect=True),")
        out.append(")")
    return "\n".join(out) + "\n"


def customers_yaml(customers: Sequence[ImportedCustomer], generated: str) -> str:
    """A customers file declaring ``customers`` for adoption (see :func:`load_customers`)."""
    import yaml

    def dump(value: object) -> str:
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)

    header = (
        f"# Existing organizations, declared for adoption by `exo-distributor import-code` ({generated}).\n"
        "# The next `pulumi up` takes each under management through adopt_id: one read, no change.\n"
        f"# The API never returns owner e-mails: {OWNER_EMAIL_PLACEHOLDER} stands in (it is only used\n"
        "# when an organization is created, so it changes nothing here). Write the real ones if known.\n"
    )
    if not customers:
        return header + dump({CUSTOMERS_KEY: {}})
    # One entry at a time, so that an entry can carry a comment (YAML's dumper writes none).
    blocks = [header, f"{CUSTOMERS_KEY}:\n"]
    for customer in customers:
        org = customer.organization
        entry: dict[str, Any] = {
            "display_name": customer.address().get("name", ""),
            "owner_email": OWNER_EMAIL_PLACEHOLDER,
            "billing_address": customer.address(),
        }
        if org["client_id"] and not customer.client_id_shared_with:
            entry["client_id"] = org["client_id"]
        entry.update(status=customer.declared_status(), deletion_policy="retain", adopt_id=org["id"])
        blocks.append("".join(f"  {line}" for line in dump({customer.name: entry}).splitlines(keepends=True)))
        if org["client_id"] and customer.client_id_shared_with:
            # JSON text is a YAML scalar too, and keeps the comment on one line whatever the id holds.
            blocks.append(f"    # {customer.client_id_note()}\n")
            blocks.append(f"    # client_id: {_py(org['client_id'])}\n")
    return "".join(blocks)
