"""The order the tests run in."""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that drive the real engine first (a few seconds to a minute each), the quick ones
    after them. Spread over workers (``make test``), the long ones start at once and the quick
    ones fill the gaps, so the workers end together instead of one finishing a slow test alone.
    Last among the hooks: the end-to-end directory's conftest marks its tests first."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
