"""The package schema the plugin serves (``GetSchema``): the organization resource, its billing
address type, the provider's configuration and the read-only functions as invokes.

Property names are the schema's camelCase; descriptions come from the same words as the Python
resource's docstrings. Built from the package's own constants (limits, policies, statuses), so
that a limit declared once reaches the schema too.
"""

from __future__ import annotations

import json
from typing import Any

from .._inputs import DELETION_POLICIES, STATUSES
from .._limits import ADDRESS_LIMITS, ORGANIZATION_LIMITS
from ._names import PACKAGE, TYPE_TOKEN, camel

__all__ = ["ADDRESS_TYPE", "schema", "schema_json"]

ADDRESS_TYPE = f"{PACKAGE}:index:BillingAddress"
_ADDRESS_REF = f"#/types/{ADDRESS_TYPE}"
_ANY = {"$ref": "pulumi.json#/Any"}

_ADDRESS_DOCS = {
    "name": "Recipient name; the API calls it the organization's display name.",
    "country": "ISO 3166-1 alpha-2 country code, such as `CH` (normalised to upper case).",
    "city": "City.",
    "postal_code": "Postal code.",
    "street_name": "Street name.",
    "building_number": "Building number.",
    "address": "Free-text address, a fallback for what the structured fields cannot say.",
}
_REQUIRED_ADDRESS = ["name", "country", "city", "postal_code", "street_name"]


def _string(doc: str, *, secret: bool = False, enum: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "string", "description": doc}
    if secret:
        spec["secret"] = True
    if enum:
        spec["description"] += " One of: " + ", ".join(f"`{value}`" for value in enum) + "."
    return spec


def _address_type() -> dict[str, Any]:
    properties = {}
    for key, doc in _ADDRESS_DOCS.items():
        limit = ADDRESS_LIMITS[key]
        bounds = f" {limit.min_length} to {limit.max_length} characters."
        properties[camel(key)] = _string(doc + bounds)
    return {
        "type": "object",
        "description": "ISO 20022 structured billing address of an organization.",
        "properties": properties,
        "required": [camel(key) for key in _REQUIRED_ADDRESS],
    }


def _organization() -> dict[str, Any]:
    limit = ORGANIZATION_LIMITS
    inputs: dict[str, Any] = {
        "displayName": _string(
            f"Organization display name, {limit['display_name'].min_length} to "
            f"{limit['display_name'].max_length} characters. Create-only: a change is refused unless "
            "`allowReplacement` is true. The API never returns it."
        ),
        "ownerEmail": _string(
            f"E-mail of the first owner, at most {limit['owner_email'].max_length} characters. Used only "
            "at creation: changing it later records the new value and changes nothing remotely."
        ),
        "billingAddress": {
            "$ref": _ADDRESS_REF,
            "description": "The billing address. Create-only.",
        },
        "clientId": _string(
            f"The distributor's own reference, at most {limit['client_id'].max_length} characters, unique "
            "among the distributor's live organizations. Create-only. Without it the organization gets "
            "`pulumi:<project>/<stack>/<resource name>`, which lets a create be found again after a crash "
            "instead of creating a second organization."
        ),
        "status": _string("The desired status (default `active`); changes in place.", enum=STATUSES),
        "deletionPolicy": _string(
            "What deleting the resource does: `purge` (terminate, then schedule the purge: the customer's "
            "whole cloud account; the default), `terminate`, or `retain` (leave it running, no longer "
            "managed; the default with `adoptId`, and for an imported organization). Recorded in the "
            "inputs, so every preview shows it.",
            enum=DELETION_POLICIES,
        ),
        "adoptId": _string(
            "Id of an existing organization to take under management instead of creating one; the "
            "program must declare it as it is (billing address, client id). An imported organization "
            "records it: keep it in the program."
        ),
        "allowReplacement": {
            "type": "boolean",
            "description": "True lets a change of `displayName`, `billingAddress` or `clientId` replace "
            "the organization: a new one, and the old one deleted per its `deletionPolicy`. Off by default.",
        },
        "defaultClientId": _string(
            "The resource's identity (set by a front-end such as the Python class; leave it unset): "
            "the client id a resource without `clientId` gets."
        ),
    }
    outputs = {
        **inputs,
        "status": _string(
            "The status the API reports.", enum=("created", "active", "suspended", "terminated")
        ),
        "remoteBillingAddress": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "The billing address as the API returns it (it may normalise what it stores).",
        },
        "keyFingerprint": _string(
            "A fingerprint (never the key) of the endpoint and API key that created or last saw the "
            "organization: a 404 under other credentials is never taken for proof that it is gone."
        ),
        "providerVersion": _string("The version of pulumi-exo-distributor that last wrote this state."),
    }
    return {
        "description": "An end-customer organization of an Exoscale distributor: a customer's whole cloud "
        "account. Deleting the resource does what `deletionPolicy` says. Protect what matters with the "
        "`protect` resource option.",
        "properties": outputs,
        "required": ["status", "billingAddress", "deletionPolicy", "keyFingerprint", "providerVersion"],
        "inputProperties": inputs,
        "requiredInputs": ["displayName", "ownerEmail", "billingAddress"],
    }


def _object(properties: dict[str, Any], required: list[str], doc: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if doc:
        spec["description"] = doc
    return spec


def _organization_info() -> dict[str, Any]:
    return {
        "id": _string("The organization's id."),
        "status": _string("`created`, `active`, `suspended` or `terminated`."),
        "clientId": _string("The organization's client id, if any."),
        "billingAddress": {"$ref": _ADDRESS_REF, "description": "The billing address, if any."},
    }


def _functions() -> dict[str, Any]:
    period = _string("A month, `YYYY-MM`.")
    statement = {
        "type": "object",
        "additionalProperties": _ANY,
        "description": "A usage statement: code, currency, totalExclVat, totalInclVat, startDate, "
        "endDate, usage.",
    }
    return {
        f"{PACKAGE}:index:getOrganization": {
            "description": "The organization `id` as the Partner API returns it (no display name, "
            "no owner e-mail).",
            "inputs": _object({"id": _string("The organization's id (a UUID).")}, ["id"]),
            "outputs": _object(_organization_info(), ["id", "status"]),
        },
        f"{PACKAGE}:index:listOrganizations": {
            "description": "Every organization of the distributor, terminated ones included until purged.",
            "outputs": _object(
                {
                    "organizations": {
                        "type": "array",
                        "items": {"type": "object", "additionalProperties": _ANY},
                        "description": "Each as `getOrganization` returns it.",
                    }
                },
                ["organizations"],
            ),
        },
        f"{PACKAGE}:index:getOrganizationUsage": {
            "description": "The usage statements of an organization for a month.",
            "inputs": _object(
                {
                    "organizationId": _string("The organization's id."),
                    "period": _string("The month, `YYYY-MM`; the current month when omitted."),
                },
                ["organizationId"],
            ),
            "outputs": _object({"statements": {"type": "array", "items": statement}}, ["statements"]),
        },
        f"{PACKAGE}:index:getFleetUsage": {
            "description": "The usage of every organization (or of `organizationIds`) for every month from "
            "`periodFrom` to `periodTo`, line by line, with totals; amounts are exact decimal strings.",
            "inputs": _object(
                {
                    "periodFrom": period,
                    "periodTo": _string("The last month, `YYYY-MM` (default: `periodFrom`)."),
                    "organizationIds": {"type": "array", "items": {"type": "string"}},
                },
                ["periodFrom"],
            ),
            "outputs": _object(
                {
                    "periods": {"type": "array", "items": {"type": "string"}},
                    "openPeriods": {"type": "array", "items": {"type": "string"}},
                    "organizations": {"type": "integer"},
                    "statements": {"type": "integer"},
                    "lines": {"type": "array", "items": _ANY},
                    "totals": {"type": "array", "items": _ANY},
                    "totalsByCurrency": {"type": "object", "additionalProperties": _ANY},
                    "mismatches": {"type": "array", "items": _ANY},
                },
                ["periods", "openPeriods", "organizations", "statements", "lines", "totals"],
            ),
        },
    }


def _config() -> dict[str, Any]:
    return {
        "key": _string("The distributor's API key (else `exoscale:key`, else EXOSCALE_API_KEY)."),
        "secret": _string(
            "The API secret (else `exoscale:secret`, else EXOSCALE_API_SECRET). Set it with "
            "`pulumi config set --secret`.",
            secret=True,
        ),
        "endpoint": _string(
            "The Partner API endpoint (else EXOSCALE_PARTNER_API_ENDPOINT, else the public one); "
            "plain http only for a loopback host such as the local simulator."
        ),
    }


def schema(version: str) -> dict[str, Any]:
    config = _config()
    return {
        "name": PACKAGE,
        "displayName": "Exoscale distributor organizations",
        "version": version,
        "description": "Manage Exoscale distributor end-customer organizations, with the rules that keep "
        "customers safe: create exactly once, no silent replacement, the program's deletion policy.",
        "keywords": ["pulumi", "exoscale", "distributor", "category/cloud", "kind/native"],
        "license": "Apache-2.0",
        "repository": "https://github.com/exoscale-distributors/pulumi-exo-distributor",
        "publisher": "pulumi-exo-distributor maintainers",
        "config": {"variables": config},
        "provider": {
            "description": "The provider of exo-distributor: credentials and endpoint.",
            "inputProperties": config,
        },
        "types": {ADDRESS_TYPE: _address_type()},
        "resources": {TYPE_TOKEN: _organization()},
        "functions": _functions(),
        "language": {"python": {"respectSchemaVersion": True}},
    }


def schema_json(version: str) -> str:
    return json.dumps(schema(version), indent=2, sort_keys=True)
