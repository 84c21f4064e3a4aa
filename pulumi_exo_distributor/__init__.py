"""Exoscale distributor organizations as infrastructure code, with Pulumi.

``DistributorOrganization`` is the Pulumi resource; ``PartnerClient`` the typed client of the
Exoscale Partner API it stands on.
"""

from __future__ import annotations

from ._client import PartnerClient, RetryPolicy
from ._config import Credentials
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
from ._models import (
    BillingAddress,
    Organization,
    OrganizationInput,
    OrganizationStatus,
    PurgeResult,
    UsageLine,
    UsageStatement,
)
from ._organization import (
    BillingAddressArgs,
    DistributorOrganization,
    DistributorOrganizationError,
    DistributorOrganizationProvider,
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "BillingAddress",
    "BillingAddressArgs",
    "ConfigurationError",
    "ConflictError",
    "Credentials",
    "DistributorOrganization",
    "DistributorOrganizationError",
    "DistributorOrganizationProvider",
    "ExoDistributorError",
    "InvalidRequestError",
    "NotFoundError",
    "Organization",
    "OrganizationInput",
    "OrganizationStatus",
    "PartnerClient",
    "PurgeResult",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UsageLine",
    "UsageStatement",
]
