"""Every length limit of an organization's fields, declared once.

The Partner API document (``partner-api.json`` in ``exoscale==0.16.4``) sets most of them; where it
sets no maximum (``name``, ``street-name``, ``address``), this package sets one, so that a create
body always stays far below the API's 64 KiB request limit. The resource's checks, the wire models
and the README's tables all read this table. No imports: the resource and its checks load fast.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ADDRESS_LIMITS", "ORGANIZATION_LIMITS", "Limit"]


class Limit(NamedTuple):
    """Allowed length of a string field, in characters, and where the bound comes from."""

    min_length: int
    max_length: int
    #: ``True`` when the Partner API document sets ``max_length``; ``False`` when this package does.
    max_from_api: bool = True


ORGANIZATION_LIMITS: dict[str, Limit] = {
    "display_name": Limit(1, 191),
    "owner_email": Limit(1, 75),
    "client_id": Limit(1, 191),
}

ADDRESS_LIMITS: dict[str, Limit] = {
    # The API calls it the organization's display name: bounded like display-name.
    "name": Limit(1, 191, max_from_api=False),
    "country": Limit(2, 2),
    "city": Limit(1, 255),
    "postal_code": Limit(1, 80),
    "street_name": Limit(1, 255, max_from_api=False),
    "building_number": Limit(1, 255),
    "address": Limit(1, 1024, max_from_api=False),
}
