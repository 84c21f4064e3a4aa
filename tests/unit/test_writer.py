"""The version that wrote a state, against this one: newer is refused, earlier or absent is not."""

from __future__ import annotations

import pytest

from pulumi_exo_distributor import _writer


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_writer, "current_version", lambda: "0.3.0.dev4+g1234abc")


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("recorded", "newer"),
    [
        ("0.3.0.dev5", True),
        ("0.3.0", True),
        ("1.0.0", True),
        ("0.3.0.dev4", False),  # the same commit, whatever its local label
        ("0.3.0.dev4+gfffffff", False),
        ("0.3.0.dev3", False),
        ("0.2.9", False),
        (None, False),  # written before states recorded it
        ("not a version", False),
        (42, False),
    ],
)
def test_only_a_newer_public_version_is_refused(recorded: object, newer: bool) -> None:
    assert _writer.newer_than_current(recorded) == (recorded if newer else None)


def test_the_installed_version_is_the_distributions() -> None:
    from importlib.metadata import version

    assert _writer.current_version() == version("pulumi-exo-distributor")
