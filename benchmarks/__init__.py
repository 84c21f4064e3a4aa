"""What `make bench` measures our provider against: the floor (a no-op provider) and the naive one;
and what `make reliability` and the end-to-end tests share: throw-away projects (``engine``), the
reliability scenarios (``scenarios``) and their program (``orgs_program.py``).

Not part of the package: the bench's Pulumi program and its provider host import these modules
through PYTHONPATH (the repository's root); the tests and the scripts import them from there too.
The scripts import nothing from tests/.
"""

from __future__ import annotations

from typing import Any


def organization_inputs(i: int) -> dict[str, Any]:
    """The inputs the bench program declares for its i-th organization (every provider alike)."""
    return {
        "display_name": f"Customer {i:05d} SA",
        "owner_email": f"ops@customer{i:05d}.example",
        "billing_address": {
            "name": f"Customer {i:05d} SA",
            "country": "CH",
            "city": "Lausanne",
            "postal_code": "1003",
            "street_name": "Rue de Bourg",
            "building_number": str(i % 200 + 1),
        },
    }
