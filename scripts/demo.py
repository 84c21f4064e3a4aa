"""`make demo`: a distributor's day with the quickstart program, on the local simulator.

Starts the simulator on a free loopback port with a throw-away database, uses a local file
backend with a passphrase secrets provider, then runs the real `pulumi` CLI: up (three
organizations), suspend one through a config change, show its usage, destroy. Everything it
starts is stopped, and everything it writes is removed, whatever happens.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pulumi_exo_distributor import PartnerClient
from pulumi_exo_distributor.simulator import Credential, SimulatorConfig, simulator_process

ROOT = Path(__file__).resolve().parent.parent
KEY = "EXOdemodistributor00000001"
SECRET = "demo-secret-" + os.urandom(8).hex()
STACK = "demo"

console = Console(highlight=False)


def pulumi(*args: str, env: dict[str, str], config_file: Path | None, capture: bool = False) -> str:
    command = ["pulumi", *args, "--stack", STACK, "--non-interactive"]
    if config_file is not None:
        command += ["--config-file", str(config_file)]
    console.print(f"\n[bold cyan]$ pulumi {' '.join(args)}[/]")
    result = subprocess.run(
        command, cwd=ROOT, env=env, text=True, check=False, stdout=subprocess.PIPE if capture else None
    )
    if result.returncode != 0:
        raise SystemExit(f"pulumi {args[0]} failed with exit code {result.returncode}")
    return result.stdout or ""


def show_simulator(client: PartnerClient, title: str) -> None:
    table = Table(title=f"The simulator holds, {title}", title_justify="left")
    table.add_column("id", no_wrap=True, min_width=36)
    for column in ("status", "client id", "billing name", "country"):
        table.add_column(column)
    for org in client.list_organizations():
        address = org.billing_address
        table.add_row(
            str(org.id),
            org.status.value,
            org.client_id or "",
            address.name if address else "",
            address.country if address else "",
        )
    if not table.rows:
        table.add_row("(none)", "", "", "", "")
    console.print(table)


def show_usage(client: PartnerClient, org_id: str, name: str) -> None:
    period = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")  # the organization is new: this month
    table = Table(title=f"Usage of {name} for {period}", title_justify="left")
    for column in ("product", "variable", "quantity", "unit", "excl. VAT", "incl. VAT", "currency"):
        table.add_column(
            column, justify="right" if column in ("quantity", "excl. VAT", "incl. VAT") else "left"
        )
    for statement in client.list_organization_usage(org_id, period):
        for line in statement.usage:
            table.add_row(
                line.product or "",
                line.variable or "",
                str(line.quantity),
                line.unit or "",
                str(line.total_excl_vat),
                str(line.total_incl_vat),
                statement.currency or "",
            )
        table.add_row(
            "[bold]total[/]",
            "",
            "",
            "",
            f"[bold]{statement.total_excl_vat}[/]",
            f"[bold]{statement.total_incl_vat}[/]",
            statement.currency or "",
        )
    console.print(table)


def main() -> None:
    if shutil.which("pulumi") is None:
        raise SystemExit("pulumi is not on PATH: run `make demo`, which ensures it")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="exo-distributor-demo-"))
    try:
        config = SimulatorConfig(
            credentials=(Credential(KEY, SECRET),), db_path=str(work / "simulator.db"), purge_delay_s=0
        )
        # The runner stops the simulator (SIGTERM, then SIGKILL) whatever happens in the block.
        with simulator_process(config) as simulator:
            console.print(f"[bold]Simulator[/] listening at {simulator.url} (database {config.db_path})")
            run_the_day(work, simulator.url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    console.print(f"\n[bold green]Demo done[/] in {time.monotonic() - started:.0f} s.")


def run_the_day(work: Path, endpoint: str) -> None:
    (work / "backend").mkdir()
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{work / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": "demo-passphrase",
        "PULUMI_HOME": str(work / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    # The demo's credentials travel in the stack config only.
    for name in ("EXOSCALE_API_KEY", "EXOSCALE_API_SECRET", "EXOSCALE_PARTNER_API_ENDPOINT"):
        env.pop(name, None)
    config_file = work / f"Pulumi.{STACK}.yaml"
    stack_created = False
    try:
        with PartnerClient(KEY, SECRET, endpoint) as client:
            subprocess.run(
                ["pulumi", "stack", "init", STACK, "--non-interactive"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            stack_created = True
            pulumi("config", "set", "exo-distributor:key", KEY, env=env, config_file=config_file)
            pulumi(
                "config",
                "set",
                "--secret",
                "exo-distributor:secret",
                SECRET,
                env=env,
                config_file=config_file,
            )
            pulumi("config", "set", "exo-distributor:endpoint", endpoint, env=env, config_file=config_file)

            console.rule("1. pulumi up: three customers get their organization")
            pulumi("up", "--yes", env=env, config_file=config_file)
            outputs = json.loads(pulumi("stack", "output", "--json", env=env, config_file=None, capture=True))
            console.print_json(data=outputs)
            show_simulator(client, "after the first up")

            console.rule("2. globex stops paying: suspend it with a config change")
            pulumi("config", "set", "suspend", "globex", env=env, config_file=config_file)
            pulumi("up", "--yes", env=env, config_file=config_file)
            show_simulator(client, "after suspending globex")

            console.rule("3. what globex has used this month")
            show_usage(client, outputs["globex"]["id"], "globex")

            console.rule("4. pulumi destroy: terminate and purge")
            pulumi("destroy", "--yes", env=env, config_file=config_file)
            show_simulator(client, "after destroy")
    finally:
        if stack_created:
            subprocess.run(
                ["pulumi", "stack", "rm", STACK, "--yes", "--force", "--non-interactive"],
                cwd=ROOT,
                env=env,
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )


if __name__ == "__main__":
    main()
