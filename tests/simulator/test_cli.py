"""The command line: the ready line, a signed request, clean stops, flag errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from exoscale.api.partner import Client
from exoscale_auth import ExoscaleV2Auth

from pulumi_exo_distributor.simulator import (
    DEMO_CREDENTIAL,
    RunningSimulator,
    SimulatorConfig,
    simulator_process,
)
from pulumi_exo_distributor.simulator.__main__ import build_parser, main

from .conftest import ALICE, kwargs_of, valid_body

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
        deadline = time.monotonic() + 5
        while DEMO_CREDENTIAL.secret not in sim.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert f"key {DEMO_CREDENTIAL.key} secret {DEMO_CREDENTIAL.secret}" in sim.stderr_text()


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


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--port", "70000"], "--port"),
        (["--port", "x"], "--port"),
        (["--fault-rate", "1.5"], "--fault-rate"),
        (["--fault-kinds", "429,teapot"], "teapot"),
        (["--credential", "no-colon"], "KEY:SECRET"),
        (["--credential", "EXOa:"], "secret"),
        (["--credential", "a,b:secret"], "invalid API key"),
        (["--credential", "EXOa:s", "--credential", "EXOa:t"], "twice"),
        (["--initial-status", "suspended"], "--initial-status"),
        (["--purge-delay-s", "-1"], "--purge-delay-s"),
        (["--latency-ms", "nan"], "--latency-ms"),
        (["--unknown-fields", "maybe"], "--unknown-fields"),
        (["--no-such-flag"], "unrecognized"),
        (["--host", "192.0.2.1"], "--allow-remote"),
        (["--host", "example.com"], "--allow-remote"),
    ],
)
def test_bad_flags_are_usage_errors(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--port", "0", *args])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert fragment in captured.err
    assert captured.out == ""


def test_a_busy_port_is_a_clear_error(sim: RunningSimulator, capsys: pytest.CaptureFixture[str]) -> None:
    port = sim.url.split(":")[2].split("/")[0]
    assert main(["--port", port, "--credential", "EXOa:s"]) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_config_to_args_round_trips_through_the_parser() -> None:
    config = SimulatorConfig(
        credentials=(ALICE,),
        db_path="/tmp/x.db",
        initial_status="active",
        purge_delay_s=2.5,
        unique_client_id=True,
        unknown_fields="ignore",
        latency_ms=3.0,
        fault_rate=0.25,
        fault_kinds=("429", "slow"),
        seed=7,
        slow_s=0.5,
        max_body_bytes=1000,
        max_expiry_s=60.0,
    )
    args = build_parser().parse_args(config.to_args())
    assert args.credential == [ALICE]
    assert (args.db, args.initial_status, args.purge_delay_s, args.unique_client_id) == (
        "/tmp/x.db",
        "active",
        2.5,
        True,
    )
    assert (args.unknown_fields, args.latency_ms, args.fault_rate, args.fault_kinds) == (
        "ignore",
        3.0,
        0.25,
        ("429", "slow"),
    )
    assert (args.seed, args.slow_s, args.max_body_bytes, args.max_expiry_s) == (7, 0.5, 1000, 60.0)


def test_help_lists_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--host", "--port", "--db", "--credential", "--latency-ms", "--fault-rate", "--fault-kinds", "--seed",
        "--initial-status", "--purge-delay-s", "--slow-s", "--allow-remote", "--unique-client-id",
    ):  # fmt: skip
        assert flag in out


def test_stats_endpoints(sim: RunningSimulator) -> None:
    stats = requests.get(sim.root_url + "/_sim/stats", timeout=10)
    assert stats.status_code == 200
    assert stats.headers["content-type"] == "application/json"
    assert set(stats.json()) == {"operations"}
    assert requests.post(sim.root_url + "/_sim/reset-stats", timeout=10).json() == {
        "message": "statistics reset"
    }
    wrong = requests.post(sim.root_url + "/_sim/stats", timeout=10)
    assert wrong.status_code == 405
    assert "message" in json.loads(wrong.text)
    assert requests.get(sim.root_url + "/_sim/stats/", timeout=10).status_code == 404


def test_an_unusable_database_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A directory cannot be opened as a database.
    assert main(["--port", "0", "--db", str(tmp_path)]) == 1
    assert "exo-distributor-simulator:" in capsys.readouterr().err
