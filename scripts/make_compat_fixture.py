"""Make a compatibility fixture: the state a stack of an earlier version of this package wrote.

    python scripts/make_compat_fixture.py COMMIT LABEL [--port 18471] [--keep]

For COMMIT (any commit whose tree has ``tests/e2e/program.py`` and the simulator), in a temporary
directory: a detached ``git worktree`` of the commit, a virtualenv with that checkout installed
(``pip install -c constraints.txt '.[simulator]'``, not editable), that version's simulator on a
SQLite file at ``127.0.0.1:PORT``, and that version's ``tests/e2e/program.py`` run by the Pulumi CLI
on PATH (`pulumi up`) on a file backend, credentials in the stack config (the secret encrypted by
a fixed passphrase). It declares ``ORGANIZATIONS`` below: one active organization with its own
client id and no deletion policy, one suspended with no client id (so the version's default one)
and ``deletion_policy="terminate"``, one with ``deletion_policy="retain"``.

Into ``tests/compat/fixtures/LABEL/`` it writes what tests/compat/test_old_states.py needs to load
that state with today's code: ``stack.json`` (``pulumi stack export``), ``Pulumi.yaml`` and
``Pulumi.<stack>.yaml`` (the project, and the stack's config with its encryption salt),
``program.py`` (the version's program, for the record), ``simulator.db`` (the simulator's
organizations; the simulator has no other way to be seeded), ``fixture.json`` (what the test reads:
commit, names, port, credentials of the fixture, the organizations) and a ``README.md``.

The port is part of the state: since the key fingerprint names the endpoint, the test serves
today's simulator at the same port. Keep the default unless it is taken.

This script stands alone (it must not import the tests): the offline environment below repeats
what benchmarks/engine.py sets for any test that runs `pulumi`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "compat" / "fixtures"

#: Fixed so that every fixture has the same project, stack, API key and endpoint (the key
#: fingerprint of a state is a hash of the endpoint and the key).
PROJECT = "compat"
STACK = "dev"
PORT = 18471
KEY = "EXOcompatfixture0000000001"
SECRET = "compat-fixture-secret-not-a-real-one"  # noqa: S105 -- the simulator's test credential
PASSPHRASE = "compat-fixture-passphrase"  # noqa: S105 -- encrypts the fixture's test secret only

_ADDRESSES = {
    "acme": {
        "name": "Acme SA",
        "country": "CH",
        "city": "Lausanne",
        "postal_code": "1003",
        "street_name": "Rue de Bourg",
        "building_number": "12",
    },
    "globex": {
        "name": "Globex GmbH",
        "country": "DE",
        "city": "München",
        "postal_code": "80331",
        "street_name": "Marienplatz",
        "building_number": "8",
    },
    "initech": {
        "name": "Initech SARL",
        "country": "FR",
        "city": "Lyon",
        "postal_code": "69002",
        "street_name": "Rue de la République",
        "building_number": "21",
    },
}

#: The program's `orgs` config: every input tests/e2e/program.py has taken since the first version.
ORGANIZATIONS: dict[str, dict[str, Any]] = {
    "acme": {
        "display_name": "Acme SA",
        "owner_email": "ops@acme.example",
        "billing_address": _ADDRESSES["acme"],
        "client_id": "acme-001",
    },
    "globex": {
        "display_name": "Globex GmbH",
        "owner_email": "it@globex.example",
        "billing_address": _ADDRESSES["globex"],
        "status": "suspended",
        "deletion_policy": "terminate",
    },
    "initech": {
        "display_name": "Initech SARL",
        "owner_email": "admin@initech.example",
        "billing_address": _ADDRESSES["initech"],
        "client_id": "initech-001",
        "deletion_policy": "retain",
    },
}


def _run(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(args)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _pulumi_env(work: Path) -> dict[str, str]:
    """`pulumi` alone and offline, on a file backend (as benchmarks/engine.py), credentials from config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXOSCALE_", "PULUMI_"))}
    env.update(
        {
            "PULUMI_BACKEND_URL": f"file://{work / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_HOME": str(work / "pulumi-home"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
    )
    return env


def _wait_ready(process: subprocess.Popen[str], stdout: IO[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stdout.readline()
        if line.startswith("ready "):
            return line.split(" ", 1)[1].strip()
        if not line and process.poll() is not None:
            break
    raise SystemExit(f"the simulator did not start (exit code {process.poll()})")


def _copy_db(source: Path, target: Path) -> None:
    """A compact copy in rollback-journal mode: one file, WAL folded in."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM INTO ?", (str(target),))
    copy = sqlite3.connect(target)
    try:
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()


def _organizations(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT id, status, client_id, display_name FROM organizations ORDER BY id")
        return [dict(row) for row in rows]


def _fingerprint_text(recorded: str | None, manifest: dict[str, Any]) -> str:
    """Which form of key fingerprint the state recorded: none, of the key alone, or of endpoint and key."""
    if recorded is None:
        return "none (versions before 3d2a202 recorded no key fingerprint)"
    key, endpoint = manifest["key"], manifest["endpoint"]
    if recorded == "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16]:
        return f"`{recorded}`, of the API key alone (versions 3d2a202 to 69a17d0)"
    if recorded == "sha256:" + hashlib.sha256(f"{endpoint}\n{key}".encode()).hexdigest()[:16]:
        return f"`{recorded}`, of the endpoint and the API key (versions since 01d2cf9)"
    return f"`{recorded}`, of an unknown form"


def _readme(out: Path) -> str:
    """The fixture's README, from its fixture.json and stack.json."""
    manifest = json.loads((out / "fixture.json").read_text())
    export = json.loads((out / "stack.json").read_text())
    outputs = {
        r["urn"].rsplit("::", 1)[-1]: r.get("outputs", {})
        for r in export["deployment"]["resources"]
        if r["type"].endswith(":DistributorOrganization")
    }
    port = "" if manifest["port"] == PORT else f" --port {manifest['port']}"
    lines = [
        f"# Compatibility fixture `{manifest['label']}`",
        "",
        f"A stack written by commit `{manifest['commit']}` ({manifest['date']}): {manifest['subject']}",
        "",
        f"Made by `python scripts/make_compat_fixture.py {manifest['commit'][:7]} {manifest['label']}{port}`",
        f"(with the Pulumi CLI {manifest['pulumi_cli']}): that commit's `tests/e2e/program.py` "
        f"(`program.py`) and simulator (`--db`, at `{manifest['endpoint']}`), project "
        f"`{manifest['project']}`, stack `{manifest['stack']}`, credentials in the stack config, the secret "
        "encrypted with the passphrase of `fixture.json`. The state's default provider "
        "(`pulumi:providers:pulumi-python::default`) records that config too: `pulumi refresh` and "
        "`pulumi destroy` use the recorded endpoint and credentials, `pulumi up` the stack config's.",
        "",
        "| file | what |",
        "| --- | --- |",
        "| `stack.json` | `pulumi stack export` after the `up` |",
        "| `Pulumi.yaml`, `Pulumi.dev.yaml` | the project, the stack's config (`orgs`, credentials, salt) |",
        "| `program.py` | the program of that version |",
        "| `simulator.db` | the simulator's organizations after the `up` (SQLite) |",
        "| `fixture.json` | what the test reads: commit, names, port, credentials, organizations |",
        "",
        "Organizations (name: declared inputs; what the state records):",
        "",
    ]
    for name, spec in manifest["organizations"].items():
        declared = {k: v for k, v in spec.items() if k not in ("billing_address", "display_name")}
        recorded = manifest["resources"][name]
        lines += [
            f"- `{name}` ({spec['display_name']}, `{manifest['ids'][name]}`): "
            f"{json.dumps(declared, ensure_ascii=False)}",
            f"  - state outputs: {', '.join(recorded['outputs'])}",
            f"  - state inputs: {', '.join(recorded['inputs'])}",
        ]
    fingerprints = {outs.get("key_fingerprint") for outs in outputs.values()}
    lines += [
        "",
        "Key fingerprint recorded: "
        + "; ".join(_fingerprint_text(fp, manifest) for fp in sorted(fingerprints, key=str))
        + ".",
        "",
    ]
    return "\n".join(lines)


def make(commit: str, label: str, *, port: int, out: Path, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"compat-{label}-"))
    src = work / "src"
    sim: subprocess.Popen[str] | None = None
    try:
        _run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(src), commit])
        program = src / "tests" / "e2e" / "program.py"
        if not program.exists():
            raise SystemExit(f"{commit} has no tests/e2e/program.py: this script runs that program")
        venv = work / "venv"
        _run([sys.executable, "-m", "venv", str(venv)])
        python = str(venv / "bin" / "python")
        _run(
            [
                *(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("-c", str(src / "constraints.txt"), f"{src}[simulator]"),
            ]
        )
        db = work / "simulator.db"
        sim = subprocess.Popen(
            [
                *(python, "-m", "pulumi_exo_distributor.simulator", "--port", str(port), "--db", str(db)),
                *("--credential", f"{KEY}:{SECRET}"),
            ],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert sim.stdout is not None
        endpoint = _wait_ready(sim, sim.stdout)

        project = work / "project"
        project.mkdir()
        shutil.copy(program, project / "__main__.py")
        (project / "Pulumi.yaml").write_text(
            f"name: {PROJECT}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
            f"    virtualenv: {venv}\n"
        )
        (work / "backend").mkdir()
        env = _pulumi_env(work)

        def pulumi(*args: str) -> str:
            return _run(["pulumi", *args, "--non-interactive"], cwd=project, env=env)

        pulumi("stack", "init", STACK)
        pulumi("config", "set", "exoscale:key", KEY)
        pulumi("config", "set", "--secret", "exoscale:secret", SECRET)
        pulumi("config", "set", "exoscale:partnerApiEndpoint", endpoint)
        pulumi("config", "set", "orgs", json.dumps(ORGANIZATIONS, ensure_ascii=False))
        pulumi("up", "--yes", "--skip-preview")
        export = json.loads(pulumi("stack", "export"))
        cli_version = pulumi("version").strip()

        sim.send_signal(signal.SIGINT)
        sim.wait(timeout=30)
        sim = None

        out.mkdir(parents=True, exist_ok=True)
        (out / "stack.json").write_text(json.dumps(export, indent=2, ensure_ascii=False) + "\n")
        shutil.copy(project / f"Pulumi.{STACK}.yaml", out / f"Pulumi.{STACK}.yaml")
        (out / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
        shutil.copy(program, out / "program.py")
        _copy_db(db, out / "simulator.db")

        resources = {
            r["urn"].rsplit("::", 1)[-1]: r
            for r in export["deployment"]["resources"]
            if r["type"] == "pulumi-python:dynamic:Resource" or r["type"].endswith(":DistributorOrganization")
        }
        log = _run(["git", "-C", str(ROOT), "log", "-1", "--format=%H%n%cs%n%s", commit]).splitlines()
        ids = {r["id"]: name for name, r in resources.items()}
        manifest: dict[str, Any] = {
            "label": label,
            "commit": log[0],
            "date": log[1],
            "subject": log[2],
            "pulumi_cli": cli_version,
            "project": PROJECT,
            "stack": STACK,
            "port": port,
            "endpoint": endpoint,
            "key": KEY,
            "secret": SECRET,
            "passphrase": PASSPHRASE,
            "organizations": ORGANIZATIONS,
            "ids": {ids[row["id"]]: row["id"] for row in _organizations(out / "simulator.db")},
            "resources": {
                name: {"outputs": sorted(r.get("outputs", {})), "inputs": sorted(r.get("inputs", {}))}
                for name, r in resources.items()
            },
        }
        (out / "fixture.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        (out / "README.md").write_text(_readme(out))
        print(f"wrote {out}")
    finally:
        if sim is not None:
            sim.kill()
            sim.wait()
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(src)],
            capture_output=True,
            check=False,
        )
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("commit", help="the commit whose state to record")
    parser.add_argument("label", help="the fixture's directory name under tests/compat/fixtures")
    parser.add_argument("--port", type=int, default=PORT, help="the simulator's port (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="where to write (default: tests/compat/fixtures/LABEL)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--readme-only", action="store_true", help="write the README of an existing fixture again, and stop"
    )
    args = parser.parse_args(argv)
    out = args.out or FIXTURES / args.label
    if args.readme_only:
        (out / "README.md").write_text(_readme(out))
        return 0
    if shutil.which("pulumi") is None:
        parser.error("the Pulumi CLI is not on PATH (see scripts/ensure-pulumi.sh)")
    make(args.commit, args.label, port=args.port, out=out, keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
