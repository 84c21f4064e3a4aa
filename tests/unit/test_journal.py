"""The journal of creates sent whose outcome is not known: on disk, per scope, never in the way."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pulumi_exo_distributor._journal import CreateJournal

SCOPE, OTHER_SCOPE = "sha256:0123456789abcdef", "sha256:fedcba9876543210"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "pulumi-home" / "exo-distributor" / "unknown-creates.json"


def test_a_begun_create_is_held_by_the_next_run(path: Path) -> None:
    CreateJournal(path).begin(SCOPE, "ACME-1")
    assert path.is_file()
    later = CreateJournal(path)  # another process reads it from disk
    assert later.holds(SCOPE, "ACME-1")
    assert not later.holds(SCOPE, "ACME-2")


def test_entries_are_kept_per_scope(path: Path) -> None:
    journal = CreateJournal(path)
    journal.begin(SCOPE, "ACME-1")
    assert not journal.holds(OTHER_SCOPE, "ACME-1")
    journal.begin(OTHER_SCOPE, "ACME-1")
    journal.end(SCOPE, "ACME-1")
    assert not journal.holds(SCOPE, "ACME-1")
    assert CreateJournal(path).holds(OTHER_SCOPE, "ACME-1")


def test_end_removes_only_its_entry_and_leaves_no_empty_scope(path: Path) -> None:
    journal = CreateJournal(path)
    for client_id in ("ACME-1", "ACME-2"):
        journal.begin(SCOPE, client_id)
    journal.begin(OTHER_SCOPE, "ACME-3")
    journal.end(SCOPE, "ACME-1")
    assert CreateJournal(path).holds(SCOPE, "ACME-2")
    assert not CreateJournal(path).holds(SCOPE, "ACME-1")
    journal.end(SCOPE, "ACME-2")
    assert set(json.loads(path.read_text())) == {OTHER_SCOPE}


def test_ending_what_was_never_begun_writes_nothing(path: Path) -> None:
    CreateJournal(path).end(SCOPE, "ACME-1")
    assert not path.exists()


def test_a_missing_journal_holds_nothing(path: Path) -> None:
    assert not CreateJournal(path).holds(SCOPE, "ACME-1")
    assert not path.exists()


@pytest.mark.parametrize(
    "content", ['{"sha256:0123456789abcdef": {"ACME-1": 1.0', "", "\x00\x01", "[]", "42"], ids=repr
)
def test_an_unreadable_journal_holds_nothing_and_is_replaced_on_the_next_begin(
    path: Path, content: str
) -> None:
    path.parent.mkdir(parents=True)
    path.write_text(content)
    journal = CreateJournal(path)
    assert not journal.holds(SCOPE, "ACME-1")  # the safe side: what is found is retained
    journal.begin(SCOPE, "ACME-2")
    assert CreateJournal(path).holds(SCOPE, "ACME-2")


@pytest.mark.parametrize(
    "scope_value", ["ACME-1, ACME-2", ["ACME-1"], None, 7], ids=["text", "list", "null", "number"]
)
def test_a_scope_of_another_shape_holds_nothing_and_never_breaks_a_create(
    path: Path, scope_value: object
) -> None:
    # Written by hand or by another version: a create this stack sent must never be inferred from it
    # (the organization would be deleted per the program's policy instead of retained).
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({SCOPE: scope_value, OTHER_SCOPE: {"ACME-9": 1.0}}))
    journal = CreateJournal(path)
    assert not journal.holds(SCOPE, "ACME-1")
    journal.begin(SCOPE, "ACME-2")
    journal.end(SCOPE, "ACME-1")
    assert journal.holds(SCOPE, "ACME-2")
    assert journal.holds(OTHER_SCOPE, "ACME-9")


def test_a_journal_that_cannot_be_written_never_fails_the_create(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    journal = CreateJournal(blocker / "unknown-creates.json")
    journal.begin(SCOPE, "ACME-1")
    journal.end(SCOPE, "ACME-1")
    assert not journal.holds(SCOPE, "ACME-1")


def test_writes_leave_no_temporary_file_behind(path: Path) -> None:
    journal = CreateJournal(path)
    for n in range(5):
        journal.begin(SCOPE, f"ACME-{n}")
        journal.end(SCOPE, f"ACME-{n - 1}")
    # The journal and its lock file, no temporary file.
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lock"]


def test_concurrent_writers_of_one_process_lose_no_entry(path: Path) -> None:
    writers, per_writer = 8, 15
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        journal = CreateJournal(path)  # one per resource, as the provider's threads have
        try:
            start.wait()
            for m in range(per_writer):
                journal.begin(SCOPE, f"ACME-{n}-{m}")
                if m % 3 == 0:
                    journal.end(SCOPE, f"ACME-{n}-{m}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    held = set(json.loads(path.read_text())[SCOPE])
    assert held == {f"ACME-{n}-{m}" for n in range(writers) for m in range(per_writer) if m % 3}


_WRITER = """
import sys
from pathlib import Path
from pulumi_exo_distributor._journal import CreateJournal
journal = CreateJournal(Path(sys.argv[1]))
sys.stdin.read()  # all writers start together
for m in range(int(sys.argv[3])):
    journal.begin("scope", f"{sys.argv[2]}-{m}")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="flock: POSIX only")
def test_concurrent_writers_of_several_processes_lose_no_entry(path: Path) -> None:
    """Provider processes of stacks run in parallel on one machine share the journal."""
    writers, per_writer = 4, 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), f"P{n}", str(per_writer)],
            stdin=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
    assert [proc.wait(timeout=120) for proc in procs] == [0] * writers
    held = set(json.loads(path.read_text())["scope"])
    assert held == {f"P{n}-{m}" for n in range(writers) for m in range(per_writer)}


def test_the_default_journal_lives_under_pulumi_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "ph"))
    assert CreateJournal.default().path == tmp_path / "ph" / "exo-distributor" / "unknown-creates.json"
    monkeypatch.delenv("PULUMI_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".pulumi" / "exo-distributor" / "unknown-creates.json"
    assert CreateJournal.default().path == expected
