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
#: The resource that sends the creates (its default client id).
OWNER = "pulumi:fleet/prod/acme"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "pulumi-home" / "exo-distributor" / "unknown-creates"


def entries(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_a_begun_create_is_held_by_the_next_run(root: Path) -> None:
    CreateJournal(root).begin(SCOPE, "ACME-1", OWNER)
    later = CreateJournal(root)  # another process reads it from disk
    assert later.holds(SCOPE, "ACME-1", OWNER)
    assert not later.holds(SCOPE, "ACME-2", OWNER)


def test_entries_are_kept_per_scope(root: Path) -> None:
    journal = CreateJournal(root)
    journal.begin(SCOPE, "ACME-1", OWNER)
    assert not journal.holds(OTHER_SCOPE, "ACME-1", OWNER)
    journal.begin(OTHER_SCOPE, "ACME-1", OWNER)
    journal.end(SCOPE, "ACME-1")
    assert not journal.holds(SCOPE, "ACME-1", OWNER)
    assert CreateJournal(root).holds(OTHER_SCOPE, "ACME-1", OWNER)


def test_end_removes_only_its_entry(root: Path) -> None:
    journal = CreateJournal(root)
    for client_id in ("ACME-1", "ACME-2"):
        journal.begin(SCOPE, client_id, OWNER)
    journal.begin(OTHER_SCOPE, "ACME-3", OWNER)
    journal.end(SCOPE, "ACME-1")
    assert not CreateJournal(root).holds(SCOPE, "ACME-1", OWNER)
    assert CreateJournal(root).holds(SCOPE, "ACME-2", OWNER)
    assert CreateJournal(root).holds(OTHER_SCOPE, "ACME-3", OWNER)
    assert len(entries(root)) == 2


@pytest.fixture
def removed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files removed during the test, in order."""
    removed: list[Path] = []
    unlink = Path.unlink

    def recording_unlink(path: Path, missing_ok: bool = False) -> None:
        removed.append(path)
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", recording_unlink)
    return removed


def test_an_entry_is_removed_once_per_process_until_it_is_begun_again(
    root: Path, removed: list[Path]
) -> None:
    journal = CreateJournal(root)
    journal.begin(SCOPE, "ACME-1", OWNER)
    for _ in range(3):  # a refresh's read and diff, an up's diff and update
        journal.end(SCOPE, "ACME-1")
    assert len(removed) == 1
    journal.begin(SCOPE, "ACME-1", OWNER)  # a replacement's create, in the same process
    journal.end(SCOPE, "ACME-1")
    assert len(removed) == 2
    assert not journal.holds(SCOPE, "ACME-1", OWNER)


def test_an_end_removes_what_was_there_and_what_this_process_began_not_every_name(
    root: Path, removed: list[Path]
) -> None:
    CreateJournal(root).begin(SCOPE, "LEFT-1", OWNER)  # a lost answer, in an earlier run
    journal = CreateJournal(root)
    for n in range(50):  # a refresh of 50 organizations, one of them the lost answer's
        journal.end(SCOPE, f"ACME-{n}")
    journal.end(SCOPE, "LEFT-1")
    assert removed == [journal.entry(SCOPE, "LEFT-1")]
    assert not CreateJournal(root).holds(SCOPE, "LEFT-1", OWNER)
    # A create this process sends after its first look is ended by it all the same.
    journal.begin(SCOPE, "ACME-NEW", OWNER)
    journal.end(SCOPE, "ACME-NEW")
    assert entries(root) == []
    # Another process's create, begun after this one looked, is its own to end.
    other = CreateJournal(root)
    other.begin(SCOPE, "LATE-1", OWNER)
    journal.end(SCOPE, "LATE-1")
    assert other.holds(SCOPE, "LATE-1", OWNER)
    other.end(SCOPE, "LATE-1")
    assert entries(root) == []


def test_ending_what_was_never_begun_writes_nothing(root: Path) -> None:
    CreateJournal(root).end(SCOPE, "ACME-1")
    assert not root.exists()


def test_a_missing_journal_holds_nothing(root: Path) -> None:
    assert not CreateJournal(root).holds(SCOPE, "ACME-1", OWNER)
    assert not root.exists()


def test_a_create_writes_its_own_entry_and_no_other(root: Path) -> None:
    """The cost of a create's entry does not grow with the fleet: others are never rewritten."""
    journal = CreateJournal(root)
    for n in range(50):
        journal.begin(SCOPE, f"ACME-{n}", OWNER)
    before = {path: path.stat().st_mtime_ns for path in entries(root)}
    inodes = {path: path.stat().st_ino for path in entries(root)}
    journal.begin(SCOPE, "ACME-new", OWNER)
    journal.end(SCOPE, "ACME-7")
    after = entries(root)
    assert len(after) == 50
    for path in after:
        if path in before:
            assert (path.stat().st_mtime_ns, path.stat().st_ino) == (before[path], inodes[path])
    assert journal.entry(SCOPE, "ACME-new") in after


@pytest.mark.parametrize("client_id", ["../../escape", "a/b", "pulumi:proj/stack/org", "\\", "x" * 191])
def test_any_client_id_stays_inside_the_journal(root: Path, client_id: str) -> None:
    journal = CreateJournal(root)
    journal.begin(SCOPE, client_id, OWNER)
    assert journal.holds(SCOPE, client_id, OWNER)
    [entry] = entries(root)
    assert entry.parent.parent == root


@pytest.mark.parametrize("content", ['{"scope": "sha', "", "\x00\x01", "[]", "42", "null"], ids=repr)
def test_an_unreadable_entry_holds_nothing_and_is_replaced_on_the_next_begin(
    root: Path, content: str
) -> None:
    journal = CreateJournal(root)
    entry = journal.entry(SCOPE, "ACME-1")
    entry.parent.mkdir(parents=True)
    entry.write_text(content)
    assert not journal.holds(SCOPE, "ACME-1", OWNER)  # the safe side: what is found needs adopt_id
    journal.begin(SCOPE, "ACME-1", OWNER)
    assert CreateJournal(root).holds(SCOPE, "ACME-1", OWNER)


@pytest.mark.parametrize(
    "record",
    [
        {"scope": SCOPE, "client_id": "ACME-2", "owner": OWNER},
        {"scope": OTHER_SCOPE, "client_id": "ACME-1", "owner": OWNER},
        {"client_id": "ACME-1", "owner": OWNER},
        {"scope": SCOPE, "client_id": ["ACME-1"], "owner": OWNER},
        {"scope": SCOPE, "client_id": "ACME-1", "owner": "pulumi:fleet/staging/acme"},
        # Written by a version that did not record which resource sent the create.
        {"scope": SCOPE, "client_id": "ACME-1"},
    ],
    ids=["other-client-id", "other-scope", "no-scope", "list", "other-resource", "no-resource"],
)
def test_an_entry_naming_something_else_holds_nothing(root: Path, record: dict[str, object]) -> None:
    # Edited by hand, copied, or written for another resource: a create this resource sent must never
    # be inferred from it (the organization would be taken over and one day deleted by the wrong owner).
    journal = CreateJournal(root)
    entry = journal.entry(SCOPE, "ACME-1")
    entry.parent.mkdir(parents=True)
    entry.write_text(json.dumps(record))
    assert not journal.holds(SCOPE, "ACME-1", OWNER)


def test_a_journal_that_cannot_be_written_never_fails_the_create(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    journal = CreateJournal(blocker / "unknown-creates")
    journal.begin(SCOPE, "ACME-1", OWNER)
    journal.end(SCOPE, "ACME-1")
    assert not journal.holds(SCOPE, "ACME-1", OWNER)


def test_an_entry_that_cannot_be_removed_never_fails_the_operation(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = CreateJournal(root)
    journal.begin(SCOPE, "ACME-1", OWNER)

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    journal.end(SCOPE, "ACME-1")
    assert journal.holds(SCOPE, "ACME-1", OWNER)


def test_writes_leave_no_temporary_file_behind(root: Path) -> None:
    journal = CreateJournal(root)
    for n in range(5):
        journal.begin(SCOPE, f"ACME-{n}", OWNER)
        journal.end(SCOPE, f"ACME-{n - 1}")
    assert [path.name for path in entries(root)] == [journal.entry(SCOPE, "ACME-4").name]


def test_concurrent_writers_of_one_process_lose_no_entry(root: Path) -> None:
    writers, per_writer = 8, 15
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        journal = CreateJournal(root)  # one per resource, as the provider's threads have
        try:
            start.wait()
            for m in range(per_writer):
                journal.begin(SCOPE, f"ACME-{n}-{m}", OWNER)
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
    journal = CreateJournal(root)
    for n in range(writers):
        for m in range(per_writer):
            assert journal.holds(SCOPE, f"ACME-{n}-{m}", OWNER) == bool(m % 3)
    assert len(entries(root)) == writers * len([m for m in range(per_writer) if m % 3])


_WRITER = """
import sys
from pathlib import Path
from pulumi_exo_distributor._journal import CreateJournal
journal = CreateJournal(Path(sys.argv[1]))
sys.stdin.read()  # all writers start together
for m in range(int(sys.argv[3])):
    journal.begin("scope", f"{sys.argv[2]}-{m}", "owner")
"""


def test_concurrent_writers_of_several_processes_lose_no_entry(root: Path) -> None:
    """Provider processes of stacks run in parallel on one machine share the journal."""
    writers, per_writer = 4, 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root), f"P{n}", str(per_writer)],
            stdin=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
    assert [proc.wait(timeout=120) for proc in procs] == [0] * writers
    journal = CreateJournal(root)
    assert all(
        journal.holds("scope", f"P{n}-{m}", "owner") for n in range(writers) for m in range(per_writer)
    )


def test_the_default_journal_lives_under_pulumi_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "ph"))
    assert CreateJournal.default().root == tmp_path / "ph" / "exo-distributor" / "unknown-creates"
    monkeypatch.delenv("PULUMI_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".pulumi" / "exo-distributor" / "unknown-creates"
    assert CreateJournal.default().root == expected
