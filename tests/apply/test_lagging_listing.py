"""Apply on a cluster whose job listing lags its writes (docs/apply.md, "A listing behind its
writes"): the race check, the lookup of a create whose answer was lost and the stack lock list
again until the listing shows their own job, up to a bound made of the measured lag.

The references say nothing of how soon `GET /jobs` shows a job its create answered; these
servers (`tests/apply/lagging.py`) behave like a read replica a little behind the primary.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.cli.exit_codes import exit_code
from hpcspec.emulator import Timings
from hpcspec.emulator.faults import FaultPlan
from hpcspec.engine import listing_lag
from hpcspec.engine.events import Recorder
from hpcspec.engine.exactly_once import CreateRequest, create_once
from hpcspec.engine.journal import Journal
from hpcspec.engine.lock import LockOptions, StackLock
from hpcspec.engine.pipeline import ApplyReport, apply_stacks
from hpcspec.engine.pipeline import ApplyRequest as Request
from hpcspec.engine.secrets import resolve_secret
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.manifest.resolve import ResolvedStack
from tests.apply import test_stress as stress
from tests.apply.conftest import InProcess
from tests.apply.lagging import LaggingListing, LostCreateAnswers
from tests.apply.stacks import Audit, audit, make_stack, patient_client

LAG = 0.03  # a replica 30 ms behind its primary
SLOW = 0.3  # … and one 300 ms behind
KEYS = [f"j{n}" for n in range(4)]


def lagging(start_emulator: Callable[..., Any], lag: float) -> tuple[Any, LaggingListing]:
    running = start_emulator(nodes=4, cores_per_node=8, timings=Timings(tick=0.5, simulate=0.05))
    replica = LaggingListing(running.emulator.server.app, lag)
    running.emulator.server.app = replica
    return running, replica


def client_for(running: Any, profile: ClusterProfile | None = None) -> HpcPackClient:
    """The tests' patient client; `profile`: as if `hpcspec cluster check` had saved it."""
    client = patient_client(running)
    if profile is not None:
        client.profile = profile
    return client


def apply(
    client: HpcPackClient,
    stack: ResolvedStack,
    journals: Path,
    *,
    lock: bool = True,
    via: str = "xml",
) -> tuple[int, ApplyReport]:
    """One `hpcspec apply --auto-approve`: its exit code and report."""
    request = Request(
        cluster_name="emulator",
        options=ApplyOptions(parallelism=4, via=CreateMethod(via)),
        journal_root=journals,
        lock=LockOptions(enabled=lock),
    )
    report = apply_stacks(client, [stack], request, observer=Recorder(), confirm=lambda _: True)
    return exit_code(report.outcome), report


def audited(running: Any, stack: str, lag: float, keys: list[str] = KEYS) -> Audit:
    time.sleep(lag)  # the audit reads the same lagging listing
    client = patient_client(running)
    try:
        return audit(client, stack, keys)
    finally:
        client.close()


def messages(report: ApplyReport) -> list[str]:
    return [r.message for r in report.results[0].results]


@pytest.mark.parametrize(
    "profile", [None, ClusterProfile(listing_lag_ms=30)], ids=["no-profile", "measured"]
)
def test_the_first_apply_on_a_lagging_listing_exits_0_with_one_job_per_key(
    start_emulator: Callable[..., Any], tmp_path: Path, profile: ClusterProfile | None
) -> None:
    """Before: every key failed `race-unchecked` (its check listed the stack before the
    listing showed its job) and exit 1; the second apply settled them."""
    running, _ = lagging(start_emulator, LAG)
    client = client_for(running, profile)
    code, report = apply(client, make_stack("lag1", 4), tmp_path)
    client.close()
    assert code == 0, messages(report)
    found = audited(running, "lag1", LAG)
    assert {key: len(jobs) for key, jobs in found.jobs.items()} == dict.fromkeys(KEYS, 1)
    assert found.submitted_twice() == [] and found.configuring() == [] and not found.locks_alive
    assert all(job["submitted"] for jobs in found.jobs.values() for job in jobs)


def test_a_create_whose_answer_was_lost_on_a_lagging_listing_makes_no_second_job(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    """The server made the job, the answer was lost, and the lookup by token listed the stack
    before the listing showed it. Before: the absence was concluded from that one listing and
    the create sent again — a second job; ours lost the race to the first, which was left
    unsubmitted while the key was reported done."""
    running, _ = lagging(start_emulator, LAG)
    lost = LostCreateAnswers(running.emulator.server.app, after=True)
    running.emulator.server.app = lost
    client = client_for(running)
    code, report = apply(client, make_stack("lost", 1), tmp_path, lock=False)
    client.close()
    assert lost.lost, "no create answer was lost"
    found = audited(running, "lost", LAG, ["j0"])
    jobs = [len(jobs) for jobs in found.jobs.values()]
    assert (code, jobs, found.configuring()) == (0, [1], []), (messages(report), found.jobs)
    assert found.jobs["j0"][0]["submitted"]


@pytest.mark.parametrize("tasks", [2, 4], ids=["one-by-one", "placeholders"])
def test_a_task_add_whose_answer_was_lost_on_a_lagging_task_listing_adds_no_second_task(
    start_emulator: Callable[..., Any], tmp_path: Path, tasks: int
) -> None:
    """`--create-via rest` adds tasks one request each; the job's task listing lags like the
    job listing. Before: the lookup by name read the task listing once, missed the task the
    lost add had made and added it again — a job with a task too many (it would run twice)."""
    running, _ = lagging(start_emulator, LAG)
    route = re.compile(r"^/hpc/jobs/\d+/tasks$")
    lost = LostCreateAnswers(running.emulator.server.app, after=True, route=route)
    running.emulator.server.app = lost
    client = client_for(running)
    code, report = apply(client, make_stack("tasklost", 1, tasks=tasks), tmp_path, via="rest")
    client.close()
    assert lost.lost, "no task add answer was lost"
    found = audited(running, "tasklost", LAG, ["j0"])
    assert (code, found.wrong_tasks(tasks)) == (0, []), (messages(report), found.jobs)
    assert [len(jobs) for jobs in found.jobs.values()] == [1], found.jobs


def test_a_create_the_server_never_saw_is_sent_again_once_on_a_lagging_listing(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    """The other side: no job was made, so the lookup must end (a later create is listed, or
    the bound passed) and the create go again — exactly once."""
    running, _ = lagging(start_emulator, LAG)
    running.emulator.server.app = LostCreateAnswers(running.emulator.server.app, after=False)
    client = client_for(running, ClusterProfile(listing_lag_ms=30))  # a bound of 0.5 s
    code, report = apply(client, make_stack("unseen", 2), tmp_path, lock=False)
    client.close()
    assert code == 0, messages(report)
    found = audited(running, "unseen", LAG, ["j0", "j1"])
    assert {key: len(jobs) for key, jobs in found.jobs.items()} == {"j0": 1, "j1": 1}


@pytest.mark.slow
def test_a_lost_create_listed_only_after_the_bound_is_kept_and_the_second_one_cancelled(
    start_emulator: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica that stalls on the job a lost create made (listed 0.6 s later) while the
    bound is 0.4 s: the lookup gives up and the create goes again. The new job is listed after
    the earlier one, so its listing shows the earlier job: that one (lower, the race rule's
    pick) is kept and the new one cancelled before anything is submitted. Before: the new
    job lost its race check to the earlier one, which nobody submitted, and the key was
    reported done (exit 0, a job left Configuring)."""
    monkeypatch.setattr(listing_lag, "FLOOR", 0.4)
    running = start_emulator(nodes=4, cores_per_node=8, timings=Timings(tick=0.5, simulate=0.05))
    stalled = LaggingListing(running.emulator.server.app, LAG, stall=0.6)
    lost = LostCreateAnswers(stalled, after=True)
    running.emulator.server.app = lost
    client = client_for(running, ClusterProfile(listing_lag_ms=0))
    code, report = apply(client, make_stack("stall", 1), tmp_path, lock=False)
    client.close()
    found = audited(running, "stall", 0.6, ["j0"])
    earlier, again = sorted(found.jobs["j0"], key=lambda job: job["id"])
    assert (code, found.configuring()) == (0, []), (messages(report), found.jobs)
    assert earlier["submitted"] and earlier["alive"], found.jobs
    assert again["state"] == "Canceled" and not again["submitted"], found.jobs
    kept = min(job["id"] for job in found.jobs["j0"])
    assert report.results[0].results[0].job_id == kept


@pytest.mark.slow
def test_a_listing_lagging_beyond_the_bound_fails_unchecked_and_the_next_apply_settles(
    start_emulator: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile that says the listing keeps up (measured 0), on a server 300 ms behind: the
    race check gives up after its bound (here 100 ms, the floor scaled down for speed) with
    `race-unchecked` and exit 1, nothing submitted; the next apply's lock listing shows those
    jobs, and it submits each once."""
    monkeypatch.setattr(listing_lag, "FLOOR", 0.1)
    running, _ = lagging(start_emulator, SLOW)
    client = client_for(running, ClusterProfile(listing_lag_ms=0))
    stack = make_stack("behind", 2)
    first, report = apply(client, stack, tmp_path)
    assert first == 1, messages(report)
    assert all(m.endswith("[race-unchecked]") for m in messages(report)), messages(report)
    early = audited(running, "behind", SLOW, ["j0", "j1"])
    assert not any(job["submitted"] for jobs in early.jobs.values() for job in jobs)
    second, report = apply(client, stack, tmp_path)
    client.close()
    assert second == 0, messages(report)
    found = audited(running, "behind", SLOW, ["j0", "j1"])
    assert {key: len(jobs) for key, jobs in found.jobs.items()} == {"j0": 1, "j1": 1}
    assert found.submitted_twice() == [] and found.configuring() == []


@pytest.mark.slow
@pytest.mark.parametrize("faults", [False, True], ids=["clean", "faults"])
def test_three_racing_appliers_on_a_lagging_listing_each_exit_0_with_one_job_per_key(
    start_emulator: Callable[..., Any], tmp_path: Path, in_process: InProcess, faults: bool
) -> None:
    """The stress harness's three CI runners (real processes, no profile, `--no-lock`: the
    race rule alone) on the 30 ms replica: every first apply exits 0 (`run_round` without
    retries), no key is submitted twice, and the appliers really raced. With the harness's
    faults (15% 500s, 10% answers dropped after commit, on every route; an applier runs
    again after a failure, as a CI retry would), lost create answers meet the lagging
    listing too."""
    rules = (*stress.JITTER, *stress.SLOW_CREATES, *(stress.FAULTS if faults else ()))
    running = start_emulator(faults=FaultPlan(rules, seed=23), **stress.LARGE)
    running.emulator.server.app = LaggingListing(running.emulator.server.app, LAG)
    argv = ["apply", "m.yaml", "--auto-approve", "--create-via", "xml", "--no-lock"]
    created = n = 0
    rounds = stress.rounds("xml")
    while n < rounds or (created <= stress.JOBS * n and n < rounds + stress.EXTRA_ROUNDS):
        name = f"lagrace{n}"
        stress.run_round(running, tmp_path / name, name, argv, retry=faults)
        time.sleep(LAG)
        created += sum(stress.check_round(running, tmp_path / name, name, in_process).values())
        n += 1
    assert created > stress.JOBS * n, f"{n} rounds and no applier ever raced another"


@pytest.mark.slow
def test_two_appliers_on_a_lagging_listing_never_submit_a_key_twice(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    """Without the stack lock (the race rule alone must hold), on the slower replica."""
    running, _ = lagging(start_emulator, SLOW)
    stack = make_stack("lag", 4)
    start = threading.Barrier(2)
    codes: dict[str, int] = {}

    def race(side: str) -> None:
        start.wait()
        client = client_for(running)
        try:
            codes[side] = apply(client, stack, tmp_path / side, lock=False)[0]
        except HpcspecError as error:
            codes[side] = error.code  # type: ignore[assignment]
        finally:
            client.close()

    appliers = [threading.Thread(target=race, args=(side,)) for side in "ab"]
    for applier in appliers:
        applier.start()
    for applier in appliers:
        applier.join(timeout=60)
    assert codes == {"a": 0, "b": 0}
    found = audited(running, "lag", SLOW)
    assert found.submitted_twice() == [] and found.two_alive() == [], found.jobs
    assert sorted(found.jobs) == KEYS and found.configuring() == []


@pytest.mark.parametrize("via", ["xml", pytest.param("rest", marks=pytest.mark.slow)])
def test_jobs_a_killed_apply_left_moments_ago_are_settled_by_the_next_apply_not_made_twice(
    start_emulator: Callable[..., Any], tmp_path: Path, via: str
) -> None:
    """A kill right after the creates, the journal gone, and an apply at once on the slower
    replica: its lock listing waits for its own lock job, created after those jobs, so
    recovery sees them (docs/apply.md, "Resuming"): a job XML create is adopted and
    submitted, a REST one cancelled and made again — never a second live job."""
    running, _ = lagging(start_emulator, SLOW)
    client = client_for(running)
    stack = make_stack(f"killed-{via}", 2)
    for key, job in stack.jobs.items():
        request = CreateRequest(stack.stack, key, job.digest, job.definition)
        journal = Journal(tmp_path / "gone.jsonl")
        create_once(client, request, journal, via=CreateMethod(via), secret=resolve_secret)
    code, report = apply(client, stack, tmp_path / "fresh")
    client.close()
    assert code == 0, messages(report)
    found = audited(running, stack.stack, SLOW, ["j0", "j1"])
    assert found.two_alive() == [] and found.submitted_twice() == [] and not found.configuring()
    made = {key: len(jobs) for key, jobs in found.jobs.items()}
    assert made == ({"j0": 1, "j1": 1} if via == "xml" else {"j0": 2, "j1": 2}), found.jobs


def test_without_the_lock_this_journals_open_creates_are_found_on_a_lagging_listing(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    """`--no-lock` recovery settles the creates its own journal left open, from a listing of
    the stack: one made just after the kill may not show them yet. Taken as absent, the key
    was created again and its new job lost the race to the old one, which nobody submitted:
    a key reported done with its job left Configuring."""
    running, _ = lagging(start_emulator, SLOW)
    client = client_for(running)
    stack = make_stack("killed-nolock", 1)
    journal = Journal(tmp_path / f"{stack.stack}.jsonl")
    for key, job in stack.jobs.items():
        request = CreateRequest(stack.stack, key, job.digest, job.definition)
        create_once(client, request, journal, via=CreateMethod.XML, secret=resolve_secret)
    code, report = apply(client, stack, tmp_path, lock=False)
    client.close()
    found = audited(running, stack.stack, SLOW, ["j0"])
    made = [len(jobs) for jobs in found.jobs.values()]
    assert (code, made, found.configuring()) == (0, [1], []), (messages(report), found.jobs)


def test_the_stack_lock_waits_until_the_listing_shows_its_lock_job(
    start_emulator: Callable[..., Any],
) -> None:
    """Our lock job missing from the listing is not a lock job cancelled meanwhile: the lock
    lists again (first after the measured lag, not the half second it waits for a holder),
    takes the stack, and cancels its job."""
    running, replica = lagging(start_emulator, SLOW)
    client = client_for(running, ClusterProfile(listing_lag_ms=int(SLOW * 1000)))
    lock = StackLock(client, "lag-lock", [], LockOptions(timeout=10), Recorder())
    lock.acquire()
    held = lock.job_id
    lock.release()
    assert held is not None and 2 <= replica.listings <= 3  # missed once, then shown
    found = audited(running, "lag-lock", SLOW, [])
    client.close()
    assert found.locks_alive == []


def test_the_stack_lock_tells_later_waits_the_lag_it_saw(
    start_emulator: Callable[..., Any],
) -> None:
    """Without a profile, the lock's own listing measures the lag (create to the first listing
    that shows the lock job), and the race check's bound is made of it."""
    running, _ = lagging(start_emulator, SLOW)
    client = client_for(running)
    lock = StackLock(client, "lag-seen", [], LockOptions(timeout=10), Recorder())
    lock.acquire()
    lock.release()
    seen = listing_lag.create_log(client).observed_lag
    client.close()
    assert seen is not None and SLOW <= seen < 2.0
    assert listing_lag.Patience.of(client).bound == pytest.approx(listing_lag.LAG_FACTOR * seen)
