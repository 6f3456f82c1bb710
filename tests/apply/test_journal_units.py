"""The journal's view of open creates, and recovery of each kind (engine only, no HTTP)."""

from __future__ import annotations

from pathlib import Path

from hpcspec.engine.journal import Journal, JournalEvent
from hpcspec.engine.steps import CreateMethod


def test_a_rest_create_started_but_unfinished_is_pending_and_incomplete(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "s.jsonl")
    journal.record(JournalEvent.CREATE_INTENT, "a", token="t1", digest="d", via=CreateMethod.REST)
    journal.record(JournalEvent.CREATE_STARTED, "a", token="t1", job_id=7)
    journal.record(JournalEvent.CREATE_INTENT, "b", token="t2", digest="d", via=CreateMethod.REST)
    journal.record(JournalEvent.CREATE_STARTED, "b", token="t2", job_id=8)
    journal.record(JournalEvent.CREATE_RESULT, "b", token="t2", job_id=8)
    journal.record(JournalEvent.CREATE_INTENT, "c", token="t3", digest="d", via=CreateMethod.XML)
    pending = {p.key: p for p in journal.pending_creates()}
    assert (pending["a"].job_id, pending["a"].complete, pending["a"].via) == (
        7,
        False,
        CreateMethod.REST,
    )
    assert (pending["b"].job_id, pending["b"].complete) == (8, True)  # complete, not marked
    assert (pending["c"].job_id, pending["c"].complete) == (None, False)
    journal.record(JournalEvent.CREATE_ABSENT, "a", token="t1", job_id=7, note="incomplete")
    journal.record(JournalEvent.MARKED, "b", job_id=8)
    assert [p.key for p in journal.pending_creates()] == ["c"]


def test_a_torn_last_line_from_a_kill_is_skipped(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "s.jsonl")
    journal.record(JournalEvent.CREATE_INTENT, "a", token="t1", digest="d", via=CreateMethod.XML)
    with journal.path.open("a") as torn:
        torn.write('{"event": "create-res')
    assert [p.token for p in journal.pending_creates()] == ["t1"]
    Journal(tmp_path / "s.jsonl").record(
        JournalEvent.CREATE_ABSENT, "a", token="t1"
    )  # the next apply
    assert journal.pending_creates() == []
    assert journal.path.stat().st_mode & 0o777 == 0o600
