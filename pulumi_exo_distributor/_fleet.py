"""A fleet from one file: the customers file a non-engineer edits, read and checked for a program.

The file (YAML) maps a short key per customer, which becomes the resource's Pulumi name, to the
resource's inputs, plus ``protect`` (default ``true``) and, for a fleet in several stacks,
``shard`` (the stack a new customer goes to; see ``shard_customers``)::

    customers:
      acme:
        display_name: Acme SA
        owner_email: ops@acme.example
        billing_address: {name: Acme SA, country: CH, city: Lausanne, postal_code: "1003",
                          street_name: Rue de Bourg}
        client_id: acme-001

Every value is read as text, exactly as written: YAML 1.1 would otherwise turn the country
``NO`` into ``false`` and the postal code ``01003`` into the number 515. Duplicate keys, which
YAML silently collapses (a copied customer would replace the first), are refused. Every
customer is checked with the resource's own rules, and every problem is reported at once, each
naming the file, the line, the customer and the field.

Also the writers of ``exo-distributor import-code``: a Pulumi program, or a customers file,
declaring existing organizations for adoption. PyYAML and the package's resource are imported
on first use, not with the package.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi

from ._errors import ExoDistributorError

if TYPE_CHECKING:
    from yaml import Node

    from ._data import OrganizationInfo

__all__ = [
    "OWNER_EMAIL_PLACEHOLDER",
    "Customer",
    "CustomerFileError",
    "ImportedCustomer",
    "customer_key",
    "customers_yaml",
    "load_customers",
    "python_program",
]

#: The top-level key of a customers file.
CUSTOMERS_KEY = "customers"
#: What a customer may set besides the resource's inputs.
PROTECT_KEY = "protect"
SHARD_KEY = "shard"
# A customer's key is the resource's Pulumi name: part of its URN, so kept to safe characters.
_CUSTOMER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: The longest key `customer_key` makes: well within the rule above, and short enough to read.
IMPORTED_KEY_LENGTH = 60
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}

#: Stands in for the owner e-mail the API never returns (used only at creation: for an adopted
#: organization it changes nothing).
OWNER_EMAIL_PLACEHOLDER = "unknown-owner@example.com"


class ProblemsError(ExoDistributorError, pulumi.RunError):
    """Every problem found before anything is deployed, one line each, after what they are about.

    It is a ``pulumi.RunError``, so `pulumi preview` shows the problems without a traceback.
    """

    def __init__(self, about: str, problems: Sequence[str]) -> None:
        #: One line per problem.
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(
            f"{about}: {count} problem{'s' if count > 1 else ''}, nothing deployed:\n  "
            + "\n  ".join(self.problems)
        )


class CustomerFileError(ProblemsError):
    """The customers file cannot be used: every problem, each with file, line, customer and field
    (``FILE:LINE: customer 'KEY': FIELD ...``)."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        super().__init__(path, problems)


@dataclass(frozen=True)
class Customer:
    """One customer of a customers file, checked: its resource name, inputs and protection.

    Declare it with
    ``DistributorOrganization(customer.name, **customer.inputs,
    opts=pulumi.ResourceOptions(protect=customer.protect))``.
    """

    #: The customer's key in the file: the resource's Pulumi name.
    name: str
    #: The keyword arguments of ``DistributorOrganization`` (unset ones left out).
    inputs: Mapping[str, Any]
    #: Whether Pulumi refuses to delete or replace it (``protect``, default ``true``).
    protect: bool = True
    #: The shard (stack) asked for, in a fleet of several stacks (``shard``, default: none).
    shard: str | None = None
    #: ``FILE:LINE`` of the customer's entry.
    source: str = field(default="", compare=False)


def _resource_fields() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The inputs of DistributorOrganization and of a billing address, from their signatures."""
    import inspect

    from . import BillingAddressArgs, DistributorOrganization

    def names(fn: Any, *skip: str) -> tuple[str, ...]:
        return tuple(
            name
            for name, parameter in inspect.signature(fn).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in skip
        )

    return names(DistributorOrganization.__init__, "opts"), names(BillingAddressArgs.__init__)


class _Reader:
    """Walks the composed YAML, keeping each value's line for the messages."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[tuple[int, str]] = []
        self.inputs, self.address_fields = _resource_fields()

    def problem(self, node: Node, message: str, customer: str | None = None) -> None:
        line = node.start_mark.line + 1
        who = f"customer {customer!r}: " if customer else ""
        self.problems.append((line, f"{self.path}:{line}: {who}{message}"))

    def mapping(
        self, node: Node, what: str, allowed: Sequence[str], customer: str | None = None
    ) -> dict[str, tuple[Node, Node]] | None:
        """Key -> (key node, value node); unknown and duplicate keys reported."""
        from yaml import MappingNode, ScalarNode

        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a set of `field: value` lines", customer)
            return None
        found: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key is None:
                self.problem(key_node, f"{what}: a field name must be plain text", customer)
                continue
            if key in found:
                first = found[key][0].start_mark.line + 1
                self.problem(key_node, f"{what}: {key} is written twice (first on line {first})", customer)
                continue
            if allowed and key not in allowed:
                import difflib

                close = difflib.get_close_matches(key, allowed, n=1)
                suggestion = (
                    f"; did you mean {close[0]}?" if close else f"; the fields are {', '.join(allowed)}"
                )
                self.problem(key_node, f"{what}: {key} is not a field{suggestion}", customer)
                continue
            found[key] = (key_node, value_node)
        return found

    def text(self, node: Node, field_name: str, customer: str) -> str | None:
        """A scalar, as written; an empty value means unset."""
        from yaml import ScalarNode

        if not isinstance(node, ScalarNode):
            self.problem(
                node, f"{field_name} must be a single value, not a list or a set of fields", customer
            )
            return None
        return node.value if node.value != "" else None

    def customer(self, key: str, key_node: Node, node: Node) -> Customer | None:
        before = len(self.problems)
        if not _CUSTOMER_KEY.fullmatch(key):
            self.problem(
                key_node,
                f"the key {key!r} must start with a letter or a digit and hold only letters, digits, "
                "'.', '_' and '-' (at most 100)",
            )
            return None
        fields = self.mapping(node, "the customer", (*self.inputs, PROTECT_KEY, SHARD_KEY), key)
        if fields is None:
            return None
        inputs: dict[str, Any] = {}
        lines: dict[str, Node] = {}
        reported: set[str] = set()  # fields already found wrong here: the resource's check would repeat it
        protect, shard = True, None
        for name, (_, value_node) in fields.items():
            lines[name] = value_node
            if name == "billing_address":
                address = self.mapping(value_node, "billing_address", self.address_fields, key)
                if address is None:
                    reported.add(name)
                    continue
                inputs[name] = {}
                for sub, (_, sub_node) in address.items():
                    lines[f"{name}.{sub}"] = sub_node
                    value = self.text(sub_node, f"billing_address.{sub}", key)
                    if value is not None:
                        inputs[name][sub] = value
                    elif sub_node.tag != "tag:yaml.org,2002:str":
                        reported.add(f"{name}.{sub}")
                continue
            value = self.text(value_node, name, key)
            if value is None and value_node.tag != "tag:yaml.org,2002:str":
                reported.add(name)
            if name == PROTECT_KEY:
                if value is not None and value.lower() not in _TRUE | _FALSE:
                    self.problem(value_node, f"protect must be true or false, got {value!r}", key)
                protect = value is None or value.lower() not in _FALSE
            elif name == SHARD_KEY:
                shard = value
            elif value is not None:
                inputs[name] = value
        if not self.check(key, key_node, inputs, lines, reported) or len(self.problems) > before:
            return None
        return Customer(key, inputs, protect, shard, f"{self.path}:{key_node.start_mark.line + 1}")

    def check(
        self, key: str, key_node: Node, inputs: dict[str, Any], lines: Mapping[str, Node], reported: set[str]
    ) -> bool:
        """The resource's own check, each failure placed on its field's line (a missing field: on
        the customer's)."""
        from . import DistributorOrganizationProvider

        result = DistributorOrganizationProvider().check({}, dict(inputs))
        for failure in result.failures or []:
            if failure.property in reported or failure.property.split(".", 1)[0] in reported:
                continue
            where = lines.get(failure.property) or lines.get(failure.property.split(".", 1)[0]) or key_node
            # pydantic's prefix says nothing to the person editing the file.
            self.problem(where, failure.reason.replace("Value error, ", ""), key)
        return not result.failures


def load_customers(path: str | os.PathLike[str]) -> list[Customer]:
    """Read and check a customers file; the customers in the file's order.

    :raises CustomerFileError: listing every problem of the file, if there is any.
    """
    import yaml

    shown = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CustomerFileError(shown, [f"{shown}: cannot be read: {exc}"]) from None
    try:
        # BaseLoader: every scalar stays the text it is (no booleans, numbers or dates).
        root = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{shown}:{mark.line + 1}" if mark is not None else shown
        problem = getattr(exc, "problem", None) or str(exc)
        raise CustomerFileError(shown, [f"{where}: not valid YAML: {problem}"]) from None
    if root is None:
        raise CustomerFileError(shown, [f"{shown}: the file is empty; it must start with `{CUSTOMERS_KEY}:`"])

    reader = _Reader(shown)
    top = reader.mapping(root, "the file", (CUSTOMERS_KEY,))
    customers: list[Customer] = []
    if top is not None and CUSTOMERS_KEY not in top:
        reader.problem(root, f"the file must have a `{CUSTOMERS_KEY}:` section")
    elif top is not None:
        entries = reader.mapping(top[CUSTOMERS_KEY][1], CUSTOMERS_KEY, ())
        for key, (key_node, node) in (entries or {}).items():
            customer = reader.customer(key, key_node, node)
            if customer is not None:
                customers.append(customer)
    if reader.problems:
        ordered = sorted(reader.problems, key=lambda problem: problem[0])  # by line, else as found
        raise CustomerFileError(shown, [message for _, message in ordered])
    return customers


# -- writers for `exo-distributor import-code` ----------------------------------------------------------


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
