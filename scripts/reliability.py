"""`make reliability`: the customer-safety scenarios, with the real engine, as one table.

For each fault rate and seed, a fleet of 12 organizations (half with a declared client id) is
brought up through injected faults; then a `kill -9` of `pulumi up` mid-create and its recovery.
Each row says how many `pulumi up` runs it took, and what the simulator holds: duplicates,
orphans, purges before destroy, create-only edits refused, and what is left after destroy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import scenarios


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="0.3,0.5", help="fault rates, comma-separated")
    parser.add_argument("--seeds", default="1,2,3", help="seeds, comma-separated")
    parser.add_argument("--count", type=int, default=12, help="organizations per scenario")
    args = parser.parse_args()
    console = Console(highlight=False, width=200)
    table = Table(*scenarios.HEADER, title="Reliability scenarios (simulator, real pulumi CLI)")
    outcomes = []
    for rate in (float(r) for r in args.rates.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            with tempfile.TemporaryDirectory(prefix="reliability-") as workdir:
                outcome = scenarios.faults(Path(workdir), fault_rate=rate, seed=seed, count=args.count)
            outcomes.append(outcome)
            table.add_row(*scenarios.row(outcome))
            console.print(" | ".join(scenarios.row(outcome)), style="dim")
    with tempfile.TemporaryDirectory(prefix="reliability-") as workdir:
        outcome = scenarios.crash(Path(workdir), count=args.count // 2)
    outcomes.append(outcome)
    table.add_row(*scenarios.row(outcome))
    console.print(table)
    bad = [o for o in outcomes if not (o.converged and o.purges == 0 and o.live_after_destroy == 0)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
