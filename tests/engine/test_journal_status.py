"""The journal survives torn writes and knows pending creates; the wait loop's verdicts."""

from __future__ import annotations

from pathlib import Path

from hpcspec.engine.journal import Journal
from hpcspec.engine.status import JobStatus, Verdict, wait_for


def test_pending_creates_are_intents_without_results(tmp_path: Path) -> None:
    journal = Journal("s", root=tmp_path)
    journal.record("create-intent", "a", token="t1", digest="d")
    journal.record("create-result", "a", token="t1", job_id=5)
    journal.record("marked", "a", job_id=5)
    journal.record("create-intent", "d", token="t4", digest="d4")
    journal.record("create-result", "d", token="t4", job_id=6)  # killed before the marker
    journal.record("create-intent", "b", token="t2", digest="d2")
    journal.record("create-intent", "c", token="t3", digest="d3")
    journal.record("create-absent", "c", token="t3")
    with journal.path.open("a") as torn:
        torn.write('{"event": "create-int')  # a kill mid-write
    pending = journal.pending_creates()
    assert [(p.key, p.token, p.digest, p.job_id) for p in pending] == [
        ("b", "t2", "d2", None),
        ("d", "t4", "d4", 6),
    ]
    assert (journal.path.stat().st_mode & 0o777) == 0o600


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def rows(*states: str) -> list[JobStatus]:
    return [JobStatus(f"k{i}", i, s) for i, s in enumerate(states)]


def test_wait_finishes_when_every_job_ended() -> None:
    polls = iter(
        [rows("Queued", "Running"), rows("Finished", "Running"), rows("Finished", "Finished")]
    )
    clock = Clock()
    changes: list[tuple[str, str | None]] = []
    verdict, last = wait_for(
        lambda: next(polls),
        timeout=60,
        clock=clock,
        sleep=clock.sleep,
        on_change=lambda r, before: changes.append((r.state, before)),
    )
    assert verdict == Verdict.FINISHED and [r.state for r in last] == ["Finished", "Finished"]
    assert ("Finished", "Queued") in changes


def test_wait_reports_failure_and_requeues_while_allowed() -> None:
    polls = iter([rows("Failed"), rows("Running"), rows("Failed")])
    requeued: list[int | None] = []

    def requeue(row: JobStatus) -> bool:
        if requeued:
            return False
        requeued.append(row.job_id)
        return True

    clock = Clock()
    verdict, _ = wait_for(
        lambda: next(polls), timeout=60, requeue=requeue, clock=clock, sleep=clock.sleep
    )
    assert verdict == Verdict.FAILED and requeued == [0]


def test_wait_times_out_with_heartbeats() -> None:
    clock = Clock()
    beats: list[int] = []
    verdict, _ = wait_for(
        lambda: rows("Running"),
        timeout=100,
        interval=10,
        heartbeat=lambda r: beats.append(len(r)),
        heartbeat_every=30,
        clock=clock,
        sleep=clock.sleep,
    )
    assert verdict == Verdict.TIMED_OUT and len(beats) == 3
