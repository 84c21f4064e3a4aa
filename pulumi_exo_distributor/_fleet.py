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

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi

from ._errors import ExoDistributorError

if TYPE_CHECKING:
    from yaml import Node


__all__ = ["Customer", "CustomerFileError", "load_customers"]

#: The top-level key of a customers file.
CUSTOMERS_KEY = "customers"
#: What a customer may set besides the resource's inputs.
PROTECT_KEY = "protect"
SHARD_KEY = "shard"
# A customer's key is the resource's Pulumi name: part of its URN, so kept to safe characters.
_CUSTOMER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}


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
    """The inputs of DistributorOrganization and of a billing address, as the input model declares
    them (``default_client_id`` is the resource's own, never a customer's)."""
    from ._inputs import ADDRESS_FIELDS, INPUT_FIELDS

    return tuple(name for name in INPUT_FIELDS if name != "default_client_id"), ADDRESS_FIELDS


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
        """The resource's own checks of its inputs (the core's, without a provider), each failure
        placed on its field's line (a missing field: on the customer's)."""
        from .core.effective import complete

        _, failures = complete({}, inputs)
        for field_name, reason in failures:
            if field_name in reported or field_name.split(".", 1)[0] in reported:
                continue
            where = lines.get(field_name) or lines.get(field_name.split(".", 1)[0]) or key_node
            # pydantic's prefix says nothing to the person editing the file.
            self.problem(where, reason.replace("Value error, ", ""), key)
        return not failures


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
