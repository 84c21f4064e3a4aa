"""The request schema of create-distributor-organization and a validator that names the field.

The schemas below are ``components.schemas.organization-input`` and ``billing-address`` of the
Partner API document shipped in ``exoscale==0.16.4`` (``exoscale/partner-api.json``), with the
descriptions dropped and the ``$ref`` inlined. They are copied rather than read at import time
so that the simulator does not need the ``exoscale`` package at run time; a conformance test
compares them with the document, so a drift cannot go unnoticed.

Only the keywords these schemas use are implemented (``type`` object/string, ``properties``,
``required``, ``minLength``, ``maxLength``, ``writeOnly``); any other keyword makes
:func:`validate` refuse the schema rather than silently ignore a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["BILLING_ADDRESS_SCHEMA", "ORGANIZATION_INPUT_SCHEMA", "validate"]

BILLING_ADDRESS_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "country": {"type": "string", "maxLength": 2, "minLength": 2},
        "city": {"type": "string", "maxLength": 255, "minLength": 1},
        "postal-code": {"type": "string", "maxLength": 80, "minLength": 1},
        "street-name": {"type": "string", "minLength": 1},
        "building-number": {"type": "string", "maxLength": 255},
        "address": {"type": "string", "minLength": 1},
    },
    "required": ["name", "country", "city", "postal-code", "street-name"],
}

ORGANIZATION_INPUT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "display-name": {"type": "string", "maxLength": 191, "minLength": 1},
        "billing-address": BILLING_ADDRESS_SCHEMA,
        "client-id": {"type": "string", "maxLength": 191},
        "owner-email": {"type": "string", "maxLength": 75, "minLength": 1, "writeOnly": True},
    },
    "required": ["display-name", "billing-address", "owner-email"],
}

_SUPPORTED = {
    "object": {"type", "properties", "required"},
    "string": {"type", "minLength", "maxLength", "writeOnly"},
}

_JSON_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def validate(
    instance: object, schema: Mapping[str, Any], *, reject_unknown: bool, path: str = ""
) -> list[str]:
    """Return every violation of ``schema`` by ``instance`` as ``"<field path>: <problem>"``.

    Field paths join property names with ``.`` (``billing-address.country``); the top level
    is called ``body``. With ``reject_unknown`` a property the schema does not list is an error.
    """
    kind = schema["type"]
    extra = set(schema) - _SUPPORTED.get(kind, set())
    if extra:
        raise ValueError(f"unsupported schema keywords at {path or 'body'}: {sorted(extra)}")
    where = path or "body"
    if kind == "object":
        if not isinstance(instance, dict):
            return [f"{where}: must be an object, not {_describe(instance)}"]
        errors: list[str] = []
        properties: Mapping[str, Mapping[str, Any]] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        # Spec order, so the messages read in the same order as the documentation.
        for name, subschema in properties.items():
            child = f"{path}.{name}" if path else name
            if name in instance:
                errors += validate(instance[name], subschema, reject_unknown=reject_unknown, path=child)
            elif name in required:
                errors.append(f"{child}: is required")
        if reject_unknown:
            for name in sorted(set(instance) - set(properties)):
                child = f"{path}.{name}" if path else name
                errors.append(f"{_printable(child)}: unknown field")
        return errors
    if kind == "string":
        if not isinstance(instance, str):
            return [f"{where}: must be a string, not {_describe(instance)}"]
        try:
            # JSON allows "\ud800"; such a string cannot be stored or sent back as UTF-8.
            instance.encode("utf-8")
        except UnicodeEncodeError:
            return [f"{where}: must be valid Unicode (it holds an unpaired surrogate)"]
        return _check_length(where, len(instance), schema.get("minLength"), schema.get("maxLength"))
    raise ValueError(f"unsupported schema type {kind!r} at {where}")


def _check_length(where: str, length: int, minimum: int | None, maximum: int | None) -> list[str]:
    # JSON Schema counts characters (code points), which is what len() of a str counts.
    too_short = minimum is not None and length < minimum
    too_long = maximum is not None and length > maximum
    if not (too_short or too_long):
        return []
    if minimum is not None and minimum == maximum:
        rule = f"must be exactly {minimum} characters"
    elif minimum is not None and maximum is not None:
        rule = f"must be between {minimum} and {maximum} characters"
    elif minimum is not None:
        rule = "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
    else:
        rule = f"must be at most {maximum} characters"
    return [f"{where}: {rule} (got {length})"]


def _describe(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _printable(text: str) -> str:
    # Unknown field names come from the client and may hold anything, surrogates included.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
