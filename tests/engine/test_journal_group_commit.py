"""Journal writes never hold a lock across fsync; waiting intents share one (issue 17)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hpcspec.engine import journal as journal_module
from hpcspec.engine.journal import Journal, JournalEvent


def test_other_threads_write_while_an_intent_is_being_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_fsync, release = threading.Event(), threading.Event()
    real_fsync = journal_module.os.fsync

    def slow_fsync(fd: int) -> None:
        in_fsync.set()
        assert release.wait(10), "the other write never happened"
        real_fsync(fd)

    monkeypatch.setattr(journal_module.os, "fsync", slow_fsync)
    journal = Journal(tmp_path / "s.jsonl")
    intent = threading.Thread(
        target=journal.record, args=(JournalEvent.CREATE_INTENT, "a"), kwargs={"token": "t1"}
    )
    intent.start()
    assert in_fsync.wait(10)
    other = threading.Thread(target=journal.record, args=(JournalEvent.SUBMITTED, "b"))
    other.start()
    other.join(5)  # a lock held across the fsync would keep it waiting
    written = not other.is_alive()
    release.set()
    other.join(10)
    assert written, "a write waited for another thread's fsync"
    intent.join(10)
    assert [e.key for e in journal.entries()] == ["a", "b"]


def test_intents_waiting_at_once_share_one_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    first_started, release = threading.Event(), threading.Event()
    real_fsync = journal_module.os.fsync

    def counting_fsync(fd: int) -> None:
        calls.append(fd)
        first_started.set()
        release.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(journal_module.os, "fsync", counting_fsync)
    journal = Journal(tmp_path / "s.jsonl")

    def intent(n: int) -> None:
        journal.record(JournalEvent.CREATE_INTENT, f"k{n}", token=f"t{n}")

    first = threading.Thread(target=intent, args=(0,))
    first.start()
    assert first_started.wait(10)
    waiting = [threading.Thread(target=intent, args=(n,)) for n in range(1, 9)]
    for thread in waiting:
        thread.start()
    while len(journal.entries()) < 9:  # all eight written, waiting behind the first fsync
        threading.Event().wait(0.005)
    release.set()
    for thread in (first, *waiting):
        thread.join(10)
    assert len(calls) == 2  # the first intent's fsync, then one for the eight that waited
    assert sorted(e.token or "" for e in journal.entries()) == sorted(f"t{n}" for n in range(9))
