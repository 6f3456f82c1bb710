"""The journal on a hostile disk: full, failing, or with something planted in its place.

Each failure must be a `JournalError` naming the file (never an internal error), must stop
the step before the request its intent announces, and must lose no line written after it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from hpcspec.engine.journal import Journal, JournalError, JournalEvent
from hpcspec.engine.steps import CreateMethod


def intent(journal: Journal, token: str) -> None:
    journal.record(JournalEvent.CREATE_INTENT, "a", token=token, digest="d", via=CreateMethod.XML)


def test_a_line_torn_by_a_full_disk_does_not_swallow_the_next_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills halfway through a line: that write fails and leaves half a line. Once
    there is room again, the next line must start on a line of its own (it used to be glued
    to the torn one and lost when read: an open create the next apply never looked up)."""
    journal = Journal(tmp_path / "s.jsonl")
    intent(journal, "t1")
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(JournalError) as failed:
        intent(journal, "t2")
    assert str(journal.path) in str(failed.value) and "No space left" in str(failed.value)
    monkeypatch.setattr(os, "write", real_write)
    intent(journal, "t3")
    assert [p.token for p in journal.pending_creates()] == ["t1", "t3"]


def test_a_short_write_is_finished_or_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.write may write less than asked (a disk filling up): the rest follows."""
    journal = Journal(tmp_path / "s.jsonl")
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:7]))
    intent(journal, "t1")
    intent(journal, "t2")
    assert [p.token for p in journal.pending_creates()] == ["t1", "t2"]


def test_a_failed_fsync_fails_the_intent_and_every_later_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EIO from fsync: the intent is not known to be on disk, so its create must not be sent;
    and since a second fsync may succeed without the lost pages, none is trusted again."""
    journal = Journal(tmp_path / "s.jsonl")
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.EIO, "I/O")))
    with pytest.raises(JournalError, match="I/O"):
        intent(journal, "t1")
    monkeypatch.setattr(os, "fsync", real_fsync)
    with pytest.raises(JournalError, match="I/O"):
        intent(journal, "t2")
    journal.record(JournalEvent.MARKED, "a", job_id=3)  # outcomes wait for no fsync


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="POSIX: O_NOFOLLOW")
def test_a_symbolic_link_in_the_journals_place_is_refused_and_its_target_untouched(
    tmp_path: Path,
) -> None:
    """A link planted where the journal goes (a shared state directory) would make apply
    append to whatever it points at, e.g. the user's shell start-up file."""
    target = tmp_path / "bashrc"
    target.write_text("export PATH\n")
    link = tmp_path / "s.jsonl"
    link.symlink_to(target)
    journal = Journal(link)
    with pytest.raises(JournalError, match="symbolic link") as refused:
        intent(journal, "t1")
    assert refused.value.location.file == str(link) and refused.value.code == "journal-unusable"
    with pytest.raises(JournalError, match="symbolic link"):
        journal.entries()
    assert target.read_text() == "export PATH\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX: FIFOs")
def test_a_fifo_or_a_directory_in_the_journals_place_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    os.mkfifo(tmp_path / "fifo.jsonl")
    (tmp_path / "dir.jsonl").mkdir()
    for name, kind in (("fifo.jsonl", "FIFO"), ("dir.jsonl", "directory")):
        journal = Journal(tmp_path / name)
        with pytest.raises(JournalError, match=kind):
            journal.entries()
        with pytest.raises(JournalError):
            intent(journal, "t1")


def test_lines_that_are_not_utf8_or_not_objects_are_skipped(tmp_path: Path) -> None:
    """A disk error or another program may leave bytes that are no entry: recovery reads past
    them instead of stopping with an internal error."""
    journal = Journal(tmp_path / "s.jsonl")
    intent(journal, "t1")
    with journal.path.open("ab") as garbage:
        garbage.write(b'{"event": "create-absent", "key": "\xff", "token": "t1"}\n[]\n3\n')
    intent(journal, "t2")
    assert [p.token for p in journal.pending_creates()] == ["t1", "t2"]
