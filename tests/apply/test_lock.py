"""The stack lock (engine/lock.py): lowest live lock job holds, heartbeat, stale locks broken,
`--lock-timeout`, `hpcspec force-unlock`, and its cost (docs/apply.md, "The stack lock")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hpcspec.cli import cli
from hpcspec.engine import lock as lock_module
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.events import Event, LockWaiting, Recorder
from hpcspec.engine.lock import LockError, LockOptions, Me, StackLock, StackLocked, holder_of
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from tests.apply.stacks import apply_once, audit, make_stack, patient_client
from tests.engine.conftest import client_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def lock_job(job_id: int, seconds_ago: float = 0, state: JobState = JobState.Configuring) -> Any:
    return LiveJob(job_id, state, change_time=NOW - timedelta(seconds=seconds_ago))


def test_the_lowest_live_lock_job_holds_the_stack() -> None:
    mine = lock_job(9)
    held, stale = holder_of([lock_job(4), lock_job(7), mine], {}, mine, Me("h", 1))
    assert held.id == 4 and stale == []


def test_a_cancelled_lock_job_holds_nothing() -> None:
    mine = lock_job(9)
    held, _ = holder_of([lock_job(4, state=JobState.Canceled), mine], {}, mine, Me("h", 1))
    assert held.id == 9


def test_a_lock_without_a_heartbeat_for_two_minutes_is_stale_and_passed_over() -> None:
    mine = lock_job(9)
    old = lock_job(4, seconds_ago=lock_module.STALE_AFTER.total_seconds() + 1)
    held, stale = holder_of([old, lock_job(7, seconds_ago=60), mine], {}, mine, Me("h", 1))
    assert held.id == 7 and [j.id for j in stale] == [4]


def test_a_lock_of_a_dead_process_on_this_host_is_stale() -> None:
    me = Me("buildhost", 1)
    mine = lock_job(9)
    gone = 2**22 + 12345  # beyond any pid_max: no such process
    holders = {4: f"buildhost/{gone}", 5: "otherhost/1"}
    held, stale = holder_of([lock_job(4), lock_job(5), mine], holders, mine, me)
    assert held.id == 5 and [j.id for j in stale] == [4]


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    made = patient_client(cluster)
    yield made
    made.close()


def test_a_free_lock_costs_a_create_and_a_cancel_and_leaves_no_lock_job(client: Any) -> None:
    lock = StackLock(client, "lock-free", [], LockOptions(), Recorder())
    listed = lock.acquire()
    assert lock.job_id is not None and [j.id for j in listed.locks] == [lock.job_id]
    lock.release()
    assert audit(client, "lock-free", []).locks_alive == []


def impatient_lock(client: Any, stack: str, observer: Any) -> StackLock:
    """A lock that waits 0.3 s for `stack`, on a clock that moves only when it sleeps: a loaded
    machine's slow requests must not use up its timeout before it has said that it waits."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    options = LockOptions(timeout=0.3)
    return StackLock(client, stack, [], options, observer, clock=lambda: now[0], sleep=sleep)


def test_a_held_lock_makes_another_wait_then_fail_after_its_timeout(client: Any) -> None:
    events: list[Event] = []

    class Seen:
        def notify(self, event: Event) -> None:
            events.append(event)

    first = StackLock(client, "lock-held", [], LockOptions(), Recorder())
    first.acquire()
    try:
        second = impatient_lock(client, "lock-held", Seen())
        with pytest.raises(StackLocked) as refused:
            second.acquire()
        assert f"force-unlock {first.job_id} --stack lock-held" in (refused.value.hint or "")
        assert [type(e) for e in events] == [LockWaiting]
        assert audit(client, "lock-held", []).locks_alive == [first.job_id]  # theirs is gone
    finally:
        first.release()


def test_a_waiter_takes_the_lock_once_the_holder_releases_it(client: Any) -> None:
    first = StackLock(client, "lock-turns", [], LockOptions(), Recorder())
    first.acquire()
    released: list[bool] = []

    def sleep(_: float) -> None:  # the holder finishes while the other waits
        if not released:
            first.release()
            released.append(True)

    second = StackLock(client, "lock-turns", [], LockOptions(timeout=30), Recorder(), sleep=sleep)
    second.acquire()
    assert released and second.job_id is not None
    second.release()


def test_another_users_lock_holds_the_stack_before_any_job_is_marked(
    start_emulator: Any,
) -> None:
    """A client without a profile, on a cluster where no job carries an hpcspec marker yet,
    lists its own user's jobs a second time (`custom_identity.unmeasured`): the lock job
    another user holds, found by its Name in the first listing, still holds the stack."""
    running = start_emulator()  # keeps ClientSource; nothing marked yet
    theirs, mine = client_for(running, user=running.user), patient_client(running)
    assert not mine.profile.knows("client_source_kept")
    held = StackLock(theirs, "lock-users", [], LockOptions(), Recorder())
    held.acquire()
    waiter = impatient_lock(mine, "lock-users", Recorder())
    try:
        with pytest.raises(StackLocked):
            waiter.acquire()
    finally:
        held.release()
        theirs.close()
        mine.close()


def test_apply_holds_the_lock_and_releases_it(client: Any, tmp_path: Path) -> None:
    stack = make_stack("lock-apply", 2)
    changed, result = apply_once(client, stack, tmp_path)
    assert changed and result is not None
    found = audit(client, "lock-apply", list(stack.jobs))
    assert found.locks_alive == [] and sorted(found.survivors()) == sorted(stack.jobs)


def test_force_unlock_cancels_a_lock_job_and_refuses_anything_else(
    client: Any, cli_env: Path
) -> None:
    held = StackLock(client, "lock-force", [], LockOptions(), Recorder())
    held.acquire()
    held._stop.set()  # this "apply" dies: no heartbeat, no release
    runner = CliRunner()
    wrong = runner.invoke(cli, ["force-unlock", "999999", "--stack", "lock-force", "--force"])
    assert wrong.exit_code == 1 and "not a live lock" in wrong.output + str(wrong.exception)
    done = runner.invoke(
        cli, ["force-unlock", str(held.job_id), "--stack", "lock-force", "--force"]
    )
    assert done.exit_code == 0, done.output
    assert audit(client, "lock-force", []).locks_alive == []
    with pytest.raises(LockError):  # the broken holder notices on its next look
        held._mine(list_stack(client, "lock-force", []))


@pytest.mark.slow
def test_a_heartbeat_moves_the_lock_jobs_change_time(client: Any) -> None:
    lock = StackLock(client, "lock-beat", [], LockOptions(), Recorder())
    before = lock.acquire().locks[0].change_time
    try:
        time.sleep(1.1)  # the listing's ChangeTime has whole seconds
        lock._beat()
        after = list_stack(client, "lock-beat", []).locks[0].change_time
    finally:
        lock.release()
    assert before is not None and after is not None and after > before
