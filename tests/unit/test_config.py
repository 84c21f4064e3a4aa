"""Credentials and the endpoint: where they come from, what is refused, and the key's fingerprint."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from pulumi_exo_distributor._config import (
    DEFAULT_ENDPOINT,
    ENV_ENDPOINT,
    ENV_KEY,
    ENV_SECRET,
    Credentials,
    is_loopback,
)
from pulumi_exo_distributor._errors import ConfigurationError, ExoDistributorError

KEY = "EXO0123456789abcdef01234567"
SECRET = "s3cr3t-value-that-must-never-show"
ENV = {
    ENV_KEY: "EXOfromtheenvironment",
    ENV_SECRET: "secret-from-env",
    ENV_ENDPOINT: "https://env.example/v1",
}


# -- where each value comes from ------------------------------------------------------------


def test_the_environment_gives_what_the_arguments_do_not() -> None:
    creds = Credentials.resolve(environ=ENV)
    assert (creds.key, creds.secret, creds.endpoint) == (ENV[ENV_KEY], ENV[ENV_SECRET], ENV[ENV_ENDPOINT])


@pytest.mark.parametrize("field", ["key", "secret", "endpoint"])
def test_an_argument_wins_over_the_environment(field: str) -> None:
    given = {"key": KEY, "secret": SECRET, "endpoint": "https://arg.example/v1"}[field]
    creds = Credentials.resolve(**{field: given}, environ=ENV)
    assert getattr(creds, field) == given
    others = {"key": ENV[ENV_KEY], "secret": ENV[ENV_SECRET], "endpoint": ENV[ENV_ENDPOINT]}
    assert all(getattr(creds, name) == value for name, value in others.items() if name != field)


def test_an_empty_argument_falls_back_to_the_environment() -> None:
    creds = Credentials.resolve("", "", "", environ=ENV)
    assert (creds.key, creds.secret, creds.endpoint) == (ENV[ENV_KEY], ENV[ENV_SECRET], ENV[ENV_ENDPOINT])


def test_without_an_endpoint_it_is_exoscales() -> None:
    assert Credentials.resolve(KEY, SECRET, environ={}).endpoint == DEFAULT_ENDPOINT
    assert Credentials.resolve(KEY, SECRET, environ={ENV_ENDPOINT: ""}).endpoint == DEFAULT_ENDPOINT


def test_the_process_environment_is_read_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert Credentials.resolve().key == ENV[ENV_KEY]


@pytest.mark.parametrize(
    ("environ", "named", "not_named"),
    [
        ({}, [ENV_KEY, ENV_SECRET], []),
        ({ENV_SECRET: SECRET}, [ENV_KEY], [ENV_SECRET]),
        ({ENV_KEY: KEY, ENV_SECRET: ""}, [ENV_SECRET], [ENV_KEY]),
    ],
    ids=["both", "key", "empty-secret"],
)
def test_a_missing_credential_names_its_variable(
    environ: dict[str, str], named: list[str], not_named: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Credentials.resolve(environ=environ)
    assert all(name in str(caught.value) for name in named)
    assert not any(name in str(caught.value) for name in not_named)
    assert SECRET not in str(caught.value)


# -- the endpoint ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("localhost.example", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1.nip.io/v1",
        "http://localhost.example/v1",
        "http://0.0.0.0:8080/v1",
        "partner.example/v1",
    ],
)
def test_plain_http_to_a_name_that_only_looks_local_is_refused(endpoint: str) -> None:
    with pytest.raises(ConfigurationError, match="https://"):
        Credentials.resolve(KEY, SECRET, endpoint, environ={})


@pytest.mark.parametrize("endpoint", ["HTTPS://Partner.example/v1", "http://LOCALHOST:8080/v1"])
def test_the_scheme_and_host_are_read_without_regard_to_case(endpoint: str) -> None:
    assert Credentials.resolve(KEY, SECRET, endpoint, environ={}).endpoint == endpoint


@pytest.mark.parametrize("endpoint", ["https://", "https:///v1.alpha"])
def test_an_endpoint_without_a_host_is_refused(endpoint: str) -> None:
    with pytest.raises(ConfigurationError, match="no host"):
        Credentials.resolve(KEY, SECRET, endpoint, environ={})


@pytest.mark.parametrize(
    "endpoint", ["https://partner.example:port/v1", "https://[::1/v1", "https://partner\x00.example/v1"]
)
def test_an_endpoint_that_is_not_a_url_is_a_configuration_error(endpoint: str) -> None:
    with pytest.raises(ConfigurationError, match="endpoint"):
        Credentials.resolve(KEY, SECRET, endpoint, environ={})


def test_trailing_slashes_are_dropped_from_the_endpoint() -> None:
    assert (
        Credentials.resolve(KEY, SECRET, "https://p.example/v1//", environ={}).endpoint
        == "https://p.example/v1"
    )


def test_an_endpoint_refused_from_the_environment_is_refused_like_an_argument() -> None:
    with pytest.raises(ConfigurationError, match=re.escape("http://partner.example")):
        Credentials.resolve(environ={**ENV, ENV_ENDPOINT: "http://partner.example/v1"})


# -- the secret and the fingerprint ---------------------------------------------------------


def test_the_secret_never_shows_in_repr_or_str() -> None:
    creds = Credentials.resolve(KEY, SECRET, environ={})
    assert SECRET not in repr(creds)
    assert SECRET not in str(creds)
    assert KEY in repr(creds)  # the key is what a user needs to tell credentials apart
    with pytest.raises(dataclasses.FrozenInstanceError):
        creds.secret = "other"  # type: ignore[misc]


def test_the_fingerprint_names_the_key_and_endpoint_without_showing_them() -> None:
    fingerprint = Credentials(KEY, SECRET).key_fingerprint
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", fingerprint)
    assert KEY not in fingerprint
    assert KEY[3:19] not in fingerprint
    assert fingerprint == Credentials(KEY, SECRET).key_fingerprint


def test_the_fingerprint_differs_per_key_and_per_endpoint_but_not_per_secret() -> None:
    base = Credentials(KEY, SECRET, "https://a.example/v1").key_fingerprint
    assert Credentials(KEY + "0", SECRET, "https://a.example/v1").key_fingerprint != base
    assert Credentials(KEY, SECRET, "https://b.example/v1").key_fingerprint != base
    assert Credentials(KEY, SECRET, "http://127.0.0.1:8080/v1").key_fingerprint != base
    # A rotated secret is the same key: organizations recorded under it stay its own.
    assert Credentials(KEY, "rotated", "https://a.example/v1").key_fingerprint == base


def test_one_endpoint_written_with_or_without_a_slash_has_one_fingerprint() -> None:
    with_slash = Credentials.resolve(KEY, SECRET, "https://a.example/v1/", environ={})
    without = Credentials.resolve(KEY, SECRET, "https://a.example/v1", environ={})
    assert with_slash.key_fingerprint == without.key_fingerprint


def test_every_configuration_error_is_under_the_root() -> None:
    assert issubclass(ConfigurationError, ExoDistributorError)


# -- the stack's configuration ------------------------------------------------------------------

#: What a stack that also uses the bridged Exoscale provider holds in its namespace.
BRIDGED = {
    "exoscale:key": "EXOshared",
    "exoscale:secret": "shared-secret",
    "exoscale:timeout": "300",
    "exoscale:delay": "5",
    "exoscale:environment": "api",
    "exoscale:sosEndpoint": "https://sos-ch-gva-2.exo.io",
}


def test_the_package_namespace_wins_over_the_key_pair_shared_with_the_exoscale_provider() -> None:
    from pulumi_exo_distributor._config import StackSettings

    own = {"exo-distributor:key": "EXOpartner", "exo-distributor:secret": "partner-secret"}
    settings = StackSettings.read({**BRIDGED, **own}.get)
    assert (settings.key, settings.secret, settings.endpoint) == ("EXOpartner", "partner-secret", None)
    assert settings.deprecation_notes() == []
    shared = StackSettings.read(BRIDGED.get)
    assert (shared.key, shared.secret) == ("EXOshared", "shared-secret")
    assert "shared-secret" not in repr(shared)


def test_the_earlier_endpoint_key_is_read_with_a_note_that_names_its_new_name() -> None:
    from pulumi_exo_distributor._config import StackSettings

    old = {"exoscale:partnerApiEndpoint": "http://127.0.0.1:8080/v1.alpha"}
    settings = StackSettings.read(old.get)
    assert settings.endpoint == "http://127.0.0.1:8080/v1.alpha"
    [note] = settings.deprecation_notes()
    assert "exoscale:partnerApiEndpoint is deprecated" in note
    assert "pulumi config set exo-distributor:endpoint" in note
    both = StackSettings.read({**old, "exo-distributor:endpoint": "http://127.0.0.1:9/v1.alpha"}.get)
    assert both.endpoint == "http://127.0.0.1:9/v1.alpha"


def test_stack_settings_fill_in_from_the_environment() -> None:
    from pulumi_exo_distributor._config import StackSettings

    env = {ENV_KEY: "EXOenv", ENV_SECRET: "env-secret"}
    credentials = StackSettings.read({"exo-distributor:key": "EXOconfig"}.get).credentials(environ=env)
    assert (credentials.key, credentials.secret) == ("EXOconfig", "env-secret")


# -- the exo CLI's accounts, for the command --------------------------------------------------------

EXO_TOML = """
defaultAccount = "prod"

[[accounts]]
name = "prod"
key = "EXOprod"
secret = "prod-secret"
defaultZone = "ch-gva-2"

[[accounts]]
name = "lab"
key = "EXOlab"
secret = "lab-secret"
"""


def exo_env(tmp_path: Any, text: str = EXO_TOML, **extra: str) -> dict[str, str]:
    home = tmp_path / "config"
    (home / "exoscale").mkdir(parents=True)
    (home / "exoscale" / "exoscale.toml").write_text(text)
    return {"XDG_CONFIG_HOME": str(home), **extra}


def test_the_exo_clis_default_account_or_the_one_named(tmp_path: Any) -> None:
    from pulumi_exo_distributor._config import exo_cli_account

    key, secret, where = exo_cli_account(exo_env(tmp_path)) or ("", "", "")
    assert (key, secret) == ("EXOprod", "prod-secret") and "account 'prod'" in where
    lab = exo_cli_account({**exo_env(tmp_path / "b"), "EXOSCALE_ACCOUNT": "lab"})
    assert lab is not None and lab[:2] == ("EXOlab", "lab-secret")


def test_a_named_account_that_does_not_exist_is_an_error_never_another_key(tmp_path: Any) -> None:
    from pulumi_exo_distributor._config import exo_cli_account

    with pytest.raises(ConfigurationError, match=r"no account 'staging' \(accounts: lab, prod\)"):
        exo_cli_account({**exo_env(tmp_path), "EXOSCALE_ACCOUNT": "staging"})
    with pytest.raises(ConfigurationError, match="does not exist"):
        exo_cli_account({"EXOSCALE_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(ConfigurationError, match="cannot read"):
        exo_cli_account(exo_env(tmp_path / "c", text="not = [toml"))


def test_without_an_exo_configuration_there_is_no_account(tmp_path: Any) -> None:
    from pulumi_exo_distributor._config import exo_cli_account

    assert exo_cli_account({"XDG_CONFIG_HOME": str(tmp_path / "none")}) is None
