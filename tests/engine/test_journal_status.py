"""The journal survives torn writes and knows pending creates; the wait loop's verdicts."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hpcspec.engine.events import JobStateChanged, Recorder, StillWaiting, WaitEnded
from hpcspec.engine.journal import HOST, Journal, JournalEntry, JournalEvent
from hpcspec.engine.outcomes import WaitVerdict
from hpcspec.engine.status import JobStatus
from hpcspec.engine.steps import CreateMethod
from hpcspec.engine.wait import Waited, wait_for


def test_pending_creates_are_intents_without_results(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "s.jsonl")
    journal.record(JournalEvent.CREATE_INTENT, "a", token="t1", digest="d")
    journal.record(JournalEvent.CREATE_RESULT, "a", token="t1", job_id=5)
    journal.record(JournalEvent.MARKED, "a", job_id=5)
    journal.record(JournalEvent.CREATE_INTENT, "d", token="t4", digest="d4")
    journal.record(
        JournalEvent.CREATE_RESULT, "d", token="t4", job_id=6
    )  # killed before the marker
    journal.record(JournalEvent.CREATE_INTENT, "b", token="t2", digest="d2")
    journal.record(JournalEvent.CREATE_INTENT, "c", token="t3", digest="d3")
    journal.record(JournalEvent.CREATE_ABSENT, "c", token="t3")
    with journal.path.open("a") as torn:
        torn.write('{"event": "create-int')  # a kill mid-write
    pending = journal.pending_creates()
    assert [(p.key, p.token, p.digest, p.job_id) for p in pending] == [
        ("b", "t2", "d2", None),
        ("d", "t4", "d4", 6),
    ]
    assert (journal.path.stat().st_mode & 0o777) == 0o600


_MAYBE_TEXT = st.none() | st.text(max_size=8)


@given(
    event=st.sampled_from(JournalEvent),
    key=st.text(max_size=8),
    token=_MAYBE_TEXT,
    job_id=st.none() | st.integers(min_value=0, max_value=2**31),
    digest=_MAYBE_TEXT,
    via=st.none() | st.sampled_from(CreateMethod),
    note=_MAYBE_TEXT,
)
def test_a_journal_line_is_the_entry_as_asdict_gives_it_and_reads_back_the_same(
    tmp_path_factory: object,
    event: JournalEvent,
    key: str,
    token: str | None,
    job_id: int | None,
    digest: str | None,
    via: CreateMethod | None,
    note: str | None,
) -> None:
    path = tmp_path_factory.mktemp("j") / "s.jsonl"  # type: ignore[attr-defined]
    journal = Journal(path)
    journal.record(event, key, token=token, job_id=job_id, digest=digest, via=via, note=note)
    line = path.read_text().splitlines()[-1]
    written = json.loads(line)
    writer = written.get("writer")  # an intent's own: this process
    assert writer == (f"{HOST}/{os.getpid()}" if event is JournalEvent.CREATE_INTENT else None)
    entry = JournalEntry(event, key, token, job_id, digest, via, note, written["time"], writer)
    expected = {k: v for k, v in asdict(entry).items() if v is not None}
    assert line == json.dumps(expected, sort_keys=True)
    assert journal.entries() == [entry]


def test_the_journal_directory_is_made_with_the_first_entry_and_again_if_removed(
    tmp_path: Path,
) -> None:
    """A clean-up removed the state directory while apply ran: it is made again, private."""
    root = tmp_path / "state"
    journal = Journal(root / "clusters" / "stack" / "journal.jsonl", state_root=root)
    journal.record(JournalEvent.CREATE_INTENT, "a", token="t1", digest="d")
    shutil.rmtree(root)
    journal.record(JournalEvent.CREATE_RESULT, "a", token="t1", job_id=5)
    assert [e.event for e in journal.entries()] == [JournalEvent.CREATE_RESULT]
    if os.name != "nt":
        made = [root, root / "clusters", root / "clusters" / "stack"]
        assert [stat.S_IMODE(d.stat().st_mode) for d in made] == [0o700] * 3


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def rows(*states: str) -> list[JobStatus]:
    return [JobStatus(f"k{i}", i, s) for i, s in enumerate(states)]


def waited(poll: Callable[[], list[JobStatus]], timeout: float, **options: Any) -> Waited:
    """`wait_for` on a fake clock (its sleeps only move it), observed by a fresh `Recorder`
    unless `observer` is given."""
    clock = Clock()
    options.setdefault("observer", Recorder())
    return wait_for(poll, timeout=timeout, clock=clock, sleep=clock.sleep, **options)


def test_wait_finishes_when_every_job_ended() -> None:
    polls = iter(
        [rows("Queued", "Running"), rows("Finished", "Running"), rows("Finished", "Finished")]
    )
    seen = Recorder()
    ended = waited(lambda: next(polls), 60, observer=seen)
    assert ended.verdict is WaitVerdict.FINISHED
    assert [r.state for r in ended.rows] == ["Finished", "Finished"]
    changes = [(e.row.state, e.before) for e in seen.of(JobStateChanged)]
    assert ("Finished", "Queued") in changes
    assert [e.verdict for e in seen.of(WaitEnded)] == [WaitVerdict.FINISHED]


def test_wait_never_calls_a_key_without_a_job_finished() -> None:
    """`status --wait` once said "All 2 job(s) finished." and exited 0 for a key never applied."""
    ended = waited(lambda: rows("Finished", "absent"), 60)
    assert ended.verdict is WaitVerdict.FAILED


def test_wait_reports_failure_and_requeues_while_allowed() -> None:
    polls = iter([rows("Failed"), rows("Running"), rows("Failed")])
    requeued: list[int | None] = []

    def requeue(row: JobStatus) -> bool:
        if requeued:
            return False
        requeued.append(row.job_id)
        return True

    ended = waited(lambda: next(polls), 60, requeue=requeue)
    assert ended.verdict is WaitVerdict.FAILED and requeued == [0]


def test_wait_times_out_with_heartbeats() -> None:
    seen = Recorder()
    ended = waited(lambda: rows("Running"), 100, observer=seen, interval=10, heartbeat_every=30)
    assert ended.verdict is WaitVerdict.TIMED_OUT and len(seen.of(StillWaiting)) == 3


def test_a_wait_that_times_out_after_a_job_failed_says_failed_not_timed_out() -> None:
    """Exit 5 over 6: a job that already ended badly decides, since the run can no longer
    end all finished (before: 6, as if nothing were known yet)."""
    ended = waited(lambda: rows("Failed", "Running"), 30)
    assert ended.verdict is WaitVerdict.FAILED


def test_a_wait_that_times_out_just_as_a_failed_job_is_requeued_says_timed_out() -> None:
    """A Failed row that `retries:` requeued in the same poll runs again: not a failure yet
    (the review of 5-over-6: it said failed)."""
    ended = waited(lambda: rows("Failed", "Running"), 30, requeue=lambda row: True)
    assert ended.verdict is WaitVerdict.TIMED_OUT


def test_wait_polls_soon_then_backs_off_to_the_poll_interval() -> None:
    polls = iter([rows("Running")] * 5 + [rows("Finished")])
    clock = Clock()
    gaps: list[float] = []

    def sleep(seconds: float) -> None:
        gaps.append(seconds)
        clock.sleep(seconds)

    wait_for(lambda: next(polls), timeout=None, observer=Recorder(), clock=clock, sleep=sleep)
    assert gaps == [0.25, 0.5, 1.0, 2.0, 2.0]
