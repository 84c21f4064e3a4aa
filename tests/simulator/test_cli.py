"""The command line: the ready line, a signed request, clean stops, flag errors."""

from __future__ import annotations

import dataclasses
import json
import pydoc
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth

import pulumi_exo_distributor.simulator as simulator
from pulumi_exo_distributor.simulator import (
    DEMO_CREDENTIAL,
    Credential,
    RunningSimulator,
    SimulatorConfig,
    simulator_process,
)
from pulumi_exo_distributor.simulator.__main__ import build_parser, main
from pulumi_exo_distributor.simulator._options import Setting
from pulumi_exo_distributor.simulator._settings import all_settings, config_settings

from .conftest import ALICE, kwargs_of, names, valid_body

MODULE = [sys.executable, "-m", "pulumi_exo_distributor.simulator"]


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_ready_line_signed_request_and_clean_stop(stop_with: signal.Signals) -> None:
    process = subprocess.Popen(
        [*MODULE, "--port", "0", "--credential", f"{ALICE.key}:{ALICE.secret}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.endswith("\n")
        words = line.split()
        assert words[0] == "ready"
        assert len(words) == 2
        url = words[1]
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/v1.alpha")
        assert not url.startswith("http://127.0.0.1:0/")
        response = requests.get(
            url + "/distributor/organization", auth=ExoscaleV2Auth(ALICE.key, ALICE.secret)
        )
        assert response.status_code == 200
        assert response.json() == {"organizations": []}
        process.send_signal(stop_with)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr.decode()
    # stdout carries the ready line and nothing else; uvicorn's log is on stderr.
    assert stdout == b""
    assert b"Application startup complete" in stderr


def test_without_credentials_the_demo_one_is_printed_and_works() -> None:
    with simulator_process(SimulatorConfig()) as sim:
        assert sim.credentials == (DEMO_CREDENTIAL,)
        client = Client(DEMO_CREDENTIAL.key, DEMO_CREDENTIAL.secret, url=sim.url)
        client.create_distributor_organization(**kwargs_of(valid_body()))
        stats = sim.stats()
        assert stats["create-distributor-organization"] == 1
        sim.reset_stats()
        assert set(sim.stats().values()) == {0}
        # Printed and flushed before the ready line, which simulator_process has read: no wait.
        stderr = sim.stderr_text()
        assert DEMO_CREDENTIAL.key in stderr
        assert DEMO_CREDENTIAL.secret in stderr


def test_flags_reach_the_simulator() -> None:
    config = SimulatorConfig(credentials=(ALICE,), initial_status="active")
    with simulator_process(config, extra_args=["--latency-ms", "1"]) as sim:
        org = Client(ALICE.key, ALICE.secret, url=sim.url).create_distributor_organization(
            **kwargs_of(valid_body())
        )
        assert org["status"] == "active"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MODULE, *args], capture_output=True, text=True, timeout=30, check=False)


def test_a_bad_flag_is_a_usage_error_of_the_command() -> None:
    result = run("--port", "0", "--fault-kinds", "teapot")
    assert result.returncode == 2
    assert "teapot" in result.stderr
    assert result.stdout == ""


# A refused value of each setting of SimulatorConfig: test_the_parser_and_the_config_refuse_alike.
# Here, what that test does not reach: the server's flags, checks across flags, and the other ways
# a credential can be wrong.
@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(["--port", "70000"], "--port", id="port-out-of-range"),
        pytest.param(["--port", "x"], "--port", id="port-not-a-number"),
        pytest.param(["--credential", "no-colon"], "--credential", id="credential-without-colon"),
        pytest.param(["--credential", "a,b:secret"], "--credential", id="credential-key-unusable"),
        pytest.param(["--credential", "EXOa:s", "--credential", "EXOa:t"], "credentials", id="key-twice"),
        pytest.param(["--no-such-flag"], "--no-such-flag", id="unknown-flag"),
        pytest.param(["--host", "192.0.2.1"], "--allow-remote", id="remote-address"),
        pytest.param(["--host", "example.com"], "--allow-remote", id="remote-name"),
    ],
)
def test_bad_flags_are_usage_errors(args: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--port", "0", *args])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert names(captured.err, named), captured.err
    assert captured.out == ""


def test_a_busy_port_is_a_clear_error(sim: RunningSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    port = sim.url.split(":")[2].split("/")[0]
    assert main(["--port", port, "--credential", "EXOa:s"]) == 1
    assert f":{port}" in capsys.readouterr().err


#: A value other than the default for every field of SimulatorConfig.
NOT_DEFAULT: dict[str, Any] = {
    "credentials": (ALICE, Credential("EXObob", "pa:ss:word")),
    "db_path": "/tmp/x.db",
    "initial_status": "active",
    "purge_delay_s": 2.5,
    "unique_client_id": True,
    "unknown_fields": "ignore",
    "normalize": True,
    "foreign_status": 403,
    "terminate_again": 409,
    "rate_limit": 0.5,
    "retry_after_header": False,
    "latency_ms": 3.0,
    "fault_rate": 0.25,
    "fault_kinds": ("429", "slow"),
    "seed": 7,
    "slow_s": 0.1 + 0.2,  # a float that only repr() writes back exactly
    "max_body_bytes": 1000,
    "max_expiry_s": 60.0,
}


def test_every_field_is_declared_with_a_flag() -> None:
    names = [field.name for field in dataclasses.fields(SimulatorConfig)]
    assert [setting.name for setting in config_settings()] == names
    assert set(NOT_DEFAULT) == set(names), "add the new field to NOT_DEFAULT"
    flags = [setting.option.flag for setting in all_settings()]
    assert len(set(flags)) == len(flags)


def round_trip(config: SimulatorConfig) -> SimulatorConfig:
    return SimulatorConfig.from_values(vars(build_parser().parse_args(config.to_args())))


def test_every_field_round_trips_through_the_command_line_alone_and_together() -> None:
    assert round_trip(SimulatorConfig()) == SimulatorConfig()
    for name, value in NOT_DEFAULT.items():
        alone = SimulatorConfig(**{name: value})
        assert alone != SimulatorConfig(), name
        assert round_trip(alone) == alone, name
    everything = SimulatorConfig(**NOT_DEFAULT)
    assert round_trip(everything) == everything


#: A refused value for every flag of SimulatorConfig that refuses any.
BAD_FLAG_VALUES = {
    "--credential": "EXOa:",
    "--initial-status": "suspended",
    "--purge-delay-s": "-1",
    "--unknown-fields": "maybe",
    "--foreign-status": "401",
    "--terminate-again": "204",
    "--rate-limit": "-2",
    "--retry-after-header": "yes",
    "--latency-ms": "inf",
    "--fault-rate": "1.5",
    "--fault-kinds": "429,teapot",
    "--seed": "1.5",
    "--slow-s": "nan",
    "--max-body-bytes": "0",
    "--max-expiry-s": "0",
}
#: Flags that take any value.
ANY_VALUE = {"--db", "--unique-client-id", "--normalize"}


def test_every_flag_has_a_refused_value_or_takes_any() -> None:
    flags = {setting.option.flag for setting in config_settings()}
    assert flags == set(BAD_FLAG_VALUES) | ANY_VALUE


@pytest.mark.parametrize(
    "setting",
    [setting for setting in config_settings() if setting.option.flag in BAD_FLAG_VALUES],
    ids=lambda setting: setting.name,
)
def test_the_parser_and_the_config_refuse_alike(setting: Setting, capsys: pytest.CaptureFixture[str]) -> None:
    # One check per setting, run for a flag and for a Python value: what one refuses, the other
    # refuses too, each naming the setting its own way.
    bad = BAD_FLAG_VALUES[setting.option.flag]
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([setting.option.flag, bad])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert names(captured.err, setting.option.flag), captured.err
    assert captured.out == ""
    assert setting.option.parse is not None
    try:
        value = setting.option.parse(bad)
    except ValueError:
        return  # not even a value of the right type: nothing to give from Python
    arguments: dict[str, Any] = {setting.name: (value,) if setting.option.repeatable else value}
    with pytest.raises(ValueError, match=f"^{setting.name}: "):
        SimulatorConfig(**arguments)


def test_help_lists_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for setting in all_settings():
        assert setting.option.flag in out


#: pydoc's renderer without terminal bold (not in the type stubs).
PLAIN_TEXT = getattr(pydoc, "plaintext")  # noqa: B009


def test_pydoc_lists_every_field_and_flag() -> None:
    doc = pydoc.render_doc(SimulatorConfig, renderer=PLAIN_TEXT)
    for setting in config_settings():
        assert setting.option.flag in doc
        assert setting.option.help in " ".join(doc.split())
    package = " ".join(pydoc.render_doc(simulator, renderer=PLAIN_TEXT).split())
    for setting in all_settings():
        assert f"{setting.option.flag} " in package
        assert setting.option.help in package


def test_stats_endpoints(sim: RunningSimulator) -> None:
    stats = requests.get(sim.root_url + "/_sim/stats", timeout=10)
    assert stats.status_code == 200
    assert stats.headers["content-type"] == "application/json"
    assert set(stats.json()) == {"operations"}
    reset = requests.post(sim.root_url + "/_sim/reset-stats", timeout=10)
    assert reset.status_code == 200
    assert isinstance(reset.json()["message"], str)
    wrong = requests.post(sim.root_url + "/_sim/stats", timeout=10)
    assert wrong.status_code == 405
    assert "message" in json.loads(wrong.text)
    assert requests.get(sim.root_url + "/_sim/stats/", timeout=10).status_code == 404


def test_an_unusable_database_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A directory cannot be opened as a database.
    assert main(["--port", "0", "--db", str(tmp_path)]) == 1
    assert "exo-distributor-simulator:" in capsys.readouterr().err
