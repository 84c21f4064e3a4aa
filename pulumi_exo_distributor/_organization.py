"""Where states written by earlier versions find the pickled provider.

A state holds the provider pickled by reference to its class's module; states written before the
provider moved to ``_provider`` name this module. Keep these names importable from here.
"""

from __future__ import annotations

from ._errors import DistributorOrganizationError
from ._provider import DistributorOrganizationProvider
from ._resource import BillingAddressArgs, DistributorOrganization

__all__ = [
    "BillingAddressArgs",
    "DistributorOrganization",
    "DistributorOrganizationError",
    "DistributorOrganizationProvider",
]
