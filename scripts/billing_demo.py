"""`make billing-chart`: a year of a distributor's billing on the local simulator, and its pictures.

Starts the simulator in this process with 20 customers (14 there a year ago, one more every
other month), then runs the real `exo-distributor` command as a user would: the line-level
export of the last 12 closed months as CSV, its totals, and the charts by customer and by product
(the images of docs/guides/billing.md, written to docs/img/). The statements are cached in a
throw-away directory: the simulator's books show that only the first run reads them.

Needs the cli, simulator and billing extras (`make billing-chart` installs them).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from billing_fleet import History, closed_months, history

ROOT = Path(__file__).resolve().parent.parent
COMMAND = Path(sys.executable).with_name("exo-distributor")
USAGE = "list-distributor-organization-usage"


def run(fleet: History, cache: str, *args: str) -> str:
    """Run the command, say what it cost, return its stdout."""
    before = fleet.simulator.stats()[USAGE]
    print(f"\n$ exo-distributor {shlex.join(args)}", flush=True)
    done = subprocess.run(
        [str(COMMAND), *args], env=fleet.env(cache), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"exo-distributor failed with exit code {done.returncode}")
    sys.stderr.write(done.stderr)
    print(f"  ({fleet.simulator.stats()[USAGE] - before} statement(s) read from the API)")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=Path, default=ROOT / "docs" / "img", help="where the PNGs go")
    parser.add_argument(
        "--export", type=Path, default=ROOT / "bench-out" / "billing", help="where the CSV goes"
    )
    parser.add_argument("--months", type=int, default=12, help="closed months to export (default 12)")
    args = parser.parse_args(argv)
    if not COMMAND.exists():
        raise SystemExit(f"{COMMAND} is missing: run `make billing-chart` (it installs the extras)")

    periods = closed_months(args.months)
    # 14 customers from the start, one more every other month.
    joining = [month % 2 for month in range(1, len(periods))]
    customers = 14 + sum(joining)
    span = ["--from", periods[0], "--to", periods[-1]]
    args.images.mkdir(parents=True, exist_ok=True)
    args.export.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="billing-demo-cache-") as cache,
        history(customers, periods, joining=joining) as fleet,
    ):
        print(
            f"{customers} customers on the simulator at {fleet.simulator.url}, {periods[0]} to {periods[-1]}"
        )
        csv_path = args.export / "usage-lines.csv"
        csv_path.write_text(
            run(fleet, cache, "usage", "--all", *span, "--lines", "-o", "csv"), encoding="utf-8"
        )
        rows = csv_path.read_text(encoding="utf-8").count("\n") - 1
        print(f"  {rows} line(s) written to {csv_path}")

        report = json.loads(run(fleet, cache, "usage", "--all", *span, "--lines", "-o", "json"))
        for currency, total in report["totals_by_currency"].items():
            print(
                f"  {currency}: {total['total_excl_vat']} excl. VAT, {total['total_incl_vat']} incl. VAT, "
                f"{total['lines']} line(s)"
            )
        for by, top in (("customer", 8), ("product", 6)):
            image = args.images / f"billing-by-{by}.png"
            run(
                fleet,
                cache,
                "usage",
                "--all",
                *span,
                "--chart",
                str(image),
                "--by",
                by,
                "--top",
                str(top),
                "-o",
                "json",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
