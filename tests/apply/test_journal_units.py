"""The journal's view of open creates, and recovery of each kind (engine only, no HTTP)."""

from __future__ import annotations

from pathlib import Path

from hpcspec.engine.journal import Journal


def test_a_rest_create_started_but_unfinished_is_pending_and_incomplete(tmp_path: Path) -> None:
    journal = Journal("s", root=tmp_path)
    journal.record("create-intent", "a", token="t1", digest="d", via="rest")
    journal.record("create-started", "a", token="t1", job_id=7)
    journal.record("create-intent", "b", token="t2", digest="d", via="rest")
    journal.record("create-started", "b", token="t2", job_id=8)
    journal.record("create-result", "b", token="t2", job_id=8)
    journal.record("create-intent", "c", token="t3", digest="d", via="xml")
    pending = {p.key: p for p in journal.pending_creates()}
    assert (pending["a"].job_id, pending["a"].complete, pending["a"].via) == (7, False, "rest")
    assert (pending["b"].job_id, pending["b"].complete) == (8, True)  # complete, not marked
    assert (pending["c"].job_id, pending["c"].complete) == (None, False)
    journal.record("create-absent", "a", token="t1", job_id=7, note="incomplete")
    journal.record("marked", "b", job_id=8)
    assert [p.key for p in journal.pending_creates()] == ["c"]


def test_a_torn_last_line_from_a_kill_is_skipped(tmp_path: Path) -> None:
    journal = Journal("s", root=tmp_path)
    journal.record("create-intent", "a", token="t1", digest="d", via="xml")
    with journal.path.open("a") as torn:
        torn.write('{"event": "create-res')
    assert [p.token for p in journal.pending_creates()] == ["t1"]
    Journal("s", root=tmp_path).record("create-absent", "a", token="t1")  # the next apply
    assert journal.pending_creates() == []
    assert journal.path.stat().st_mode & 0o777 == 0o600
