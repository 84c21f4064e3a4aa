"""``--normalize``: a server that tidies the billing address it stores, and says more than the
document lists about every organization it returns.

What a real server might plausibly do, made deliberately unlike the verbatim default, so that a
client proven stable against both is stable against either:

- every string of the billing address loses its surrounding white space, and each inner run of
  white space (tabs and line breaks included) becomes one space;
- ``country`` and ``postal-code`` are upper-cased, character by character, leaving alone a
  character whose upper case is longer (``ß``), so that no length rule can break;
- a missing free-text ``address`` is filled in from the other fields:
  ``"<street-name> <building-number>, <postal-code> <city>, <country>"``;
- every organization returned carries ``created-at`` and ``updated-at`` (RFC 3339, UTC; the
  latter moves with each status change) and its billing address a ``region``
  (``europe`` or ``rest-of-world``, from the country): fields the document does not list,
  which it does not forbid either (it never says ``additionalProperties: false``).

``client-id`` is kept exactly as sent: it is the distributor's own key for the organization,
and a server that rewrote it would break every lookup by it.

A string that normalisation leaves shorter than the document allows (a blank-only ``name``,
``" C"`` as country) is refused with 400, naming the field: the server normalises, then
validates what it would store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from ._schema import BILLING_ADDRESS_SCHEMA, validate

__all__ = [
    "EXTRA_ADDRESS_FIELDS",
    "EXTRA_ORGANIZATION_FIELDS",
    "extend_output",
    "normalize_address",
    "region_of",
    "tidy",
    "upper_case",
]

#: What ``--normalize`` adds to every organization, and to its billing address.
EXTRA_ORGANIZATION_FIELDS = ("created-at", "updated-at")
EXTRA_ADDRESS_FIELDS = ("region",)

_ADDRESS_FIELDS = tuple(BILLING_ADDRESS_SCHEMA["properties"])
_UPPER_CASED = ("country", "postal-code")
_BLANKS = re.compile(r"\s+")

# ISO 3166-1 alpha-2 codes of European countries and territories.
# fmt: off
_EUROPE = frozenset({
    "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
    "FO", "FR", "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU",
    "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SJ",
    "SK", "SM", "UA", "VA", "XK",
})
# fmt: on


def tidy(text: str) -> str:
    """Trim surrounding white space and make each inner run of it one space."""
    return _BLANKS.sub(" ", text).strip()


def upper_case(text: str) -> str:
    """Upper case, one character for one (``ß`` stays, rather than become ``SS``)."""
    return "".join(upper if len(upper := char.upper()) == 1 else char for char in text)


def normalize_address(address: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The address as the server would store it, and what is wrong with it once normalised.

    ``address`` is a valid ``billing-address``; fields the schema does not list (kept by
    ``--unknown-fields ignore``) are dropped here, as the store would drop them.
    """
    result = {key: tidy(address[key]) for key in _ADDRESS_FIELDS if key in address}
    for key in _UPPER_CASED:
        result[key] = upper_case(result[key])
    errors = [
        f"{error} once normalised (white space trimmed and collapsed)"
        for error in validate(result, BILLING_ADDRESS_SCHEMA, reject_unknown=True, path="billing-address")
    ]
    if not errors and "address" not in result:
        street = " ".join(part for part in (result["street-name"], result.get("building-number", "")) if part)
        result["address"] = f"{street}, {result['postal-code']} {result['city']}, {result['country']}"
    return result, errors


def region_of(country: str) -> str:
    return "europe" if country.upper() in _EUROPE else "rest-of-world"


def _timestamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def extend_output(output: dict[str, Any], *, created_at: float, updated_at: float) -> dict[str, Any]:
    """Add the fields the document does not list to an ``organization-output``."""
    address = output["billing-address"]
    address["region"] = region_of(str(address.get("country", "")))
    output["created-at"] = _timestamp(created_at)
    output["updated-at"] = _timestamp(updated_at)
    return output
