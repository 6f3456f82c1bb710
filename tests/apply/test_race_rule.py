"""The race rule and the identities it is decided on (engine/race.py, engine/identity.py).

Pure: listings are built from `LiveJob` rows, the way `discovery.list_stack` reads them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpcspec.engine import identity
from hpcspec.engine.discovery import StackJobs, choose_current
from hpcspec.engine.identity import IdentityKind
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.race import Claim, RaceUndecided, survivor
from hpcspec.engine.steps import CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from tests.conftest import examples

DIGEST = "0123456789abcdef"


def marked(job_id: int, state: JobState = JobState.Configuring, message: str = "") -> LiveJob:
    source = identity.client_source_marker("s", "k", DIGEST)
    return LiveJob(job_id, state, name="k", client_source=source, error_message=message)


def pending(job_id: int, state: JobState = JobState.Configuring) -> LiveJob:
    name = identity.pending_name("s", "k", DIGEST, CreateMethod.XML, f"t{job_id}")
    return LiveJob(job_id, state, name=name)


def listing(*jobs: LiveJob) -> StackJobs:
    listed = StackJobs()
    for job in jobs:
        found = identity.read_identity(job.name, job.client_source)
        assert found is not None
        listed.identities[job.id] = found
        if found.kind is IdentityKind.PENDING:
            listed.pending["k"].append(job)
        else:
            listed.by_key["k"].append(job)
    return listed


def test_a_pending_name_carries_stack_key_digest_method_and_token_within_80_characters() -> None:
    name = identity.pending_name("s" * 64, "k" * 200, DIGEST, CreateMethod.REST, "a" * 24)
    assert len(name) <= identity.NAME_LIMIT
    found = identity.read_identity(name, "")
    assert found is not None and found.kind is IdentityKind.PENDING
    assert (found.stack_hash, found.key_hash) == (
        identity.stack_hash("s" * 64),
        identity.key_hash("s" * 64, "k" * 200),
    )
    assert (found.digest, found.via, found.token) == (DIGEST, CreateMethod.REST, "a" * 24)


def test_a_pending_name_wins_over_a_marker_and_a_restored_name_is_marked() -> None:
    source = identity.client_source_marker("s", "k", DIGEST)
    name = identity.pending_name("s", "k", DIGEST, CreateMethod.XML, "tok")
    at_create = identity.read_identity(name, source)
    after_mark = identity.read_identity("mesh", source)
    assert at_create is not None and at_create.kind is IdentityKind.PENDING
    assert after_mark is not None and after_mark.kind is IdentityKind.MARKED


def test_a_lock_name_names_its_stack_token_and_holder_and_fits_a_name() -> None:
    name = identity.lock_name("s", "f" * 16, "a-very-long-host-name." * 5, 4242)
    assert len(name) <= identity.NAME_LIMIT and name.endswith("/4242")
    found = identity.read_identity(name, "")
    assert found is not None and found.kind is IdentityKind.LOCK
    assert found.stack_hash == identity.stack_hash("s") and found.token == "f" * 16


@pytest.mark.parametrize(
    "name", ["mesh", "hpcspec:abc", "hpcspec:0123456789abcdef:d:ftp-tok", "hpcspec:x:lock:t:h/1"]
)
def test_other_names_are_not_identities(name: str) -> None:
    assert identity.parse_name(name) is None


def test_a_rivals_lower_pending_job_beats_our_marked_one() -> None:
    """Issue 13 (1a): the rival's job is visible (pending) before it is marked."""
    verdict = survivor(listing(pending(5), marked(6)), Claim("k", 6))
    assert (verdict.winner, verdict.submitted) == (5, False)


def test_our_lower_job_wins_over_a_rivals_submitted_one() -> None:
    verdict = survivor(listing(marked(5), marked(6, JobState.Queued)), Claim("k", 5))
    assert verdict.winner == 5


def test_a_lower_rival_of_another_spec_wins_and_the_verdict_says_it_holds_another_spec() -> None:
    """Two versions of the manifest applied at once: the key is carried, not as ours asked."""
    other = identity.client_source_marker("s", "k", "fedcba9876543210")
    rival = LiveJob(5, JobState.Queued, name="k", client_source=other)
    verdict = survivor(listing(rival, marked(6)), Claim("k", 6))
    assert (verdict.winner, verdict.other_spec) == (5, True)
    same = survivor(listing(marked(5, JobState.Queued), marked(6)), Claim("k", 6))
    assert (same.winner, same.other_spec) == (5, False)


def test_the_job_a_change_replaces_is_never_a_rival() -> None:
    verdict = survivor(listing(marked(3, JobState.Running), marked(7)), Claim("k", 7, 3))
    assert verdict.winner == 7


def test_a_cancelled_rival_is_no_rival() -> None:
    listed = listing(marked(5, JobState.Canceled, "hpcspec: extra job"), marked(6))
    assert survivor(listed, Claim("k", 6)).winner == 6


def test_our_job_cancelled_by_someone_else_with_no_rival_is_undecided_not_a_win() -> None:
    with pytest.raises(RaceUndecided):
        survivor(listing(marked(6, JobState.Canceled)), Claim("k", 6))


def test_a_listing_that_lacks_our_own_job_decides_nothing() -> None:
    """A listing made before the cluster lists our new job may lack lower rivals created
    before it too: ours must not win on it (docs/apply.md, the re-check covers a server that
    lists a new job late)."""
    for listed in (listing(), listing(marked(7))):
        with pytest.raises(HpcspecError) as unchecked:
            survivor(listed, Claim("k", 6))
        assert unchecked.value.code == "race-unchecked"


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.sampled_from(["pending", "marked"]), min_size=1, max_size=6), st.randoms())
def test_any_order_of_checks_leaves_exactly_one_alive_job_per_key(
    kinds: list[str], chance: object
) -> None:
    """Every applier checks (in any order, each on a listing of the jobs alive then) and
    cancels its job when it loses: exactly one job survives, the lowest."""
    jobs = {n: (pending if kind == "pending" else marked)(n) for n, kind in enumerate(kinds, 1)}
    order = list(jobs)
    chance.shuffle(order)  # type: ignore[attr-defined]
    for checker in order:
        listed = listing(*jobs.values())
        if not jobs[checker].state.is_alive:
            continue
        verdict = survivor(listed, Claim("k", checker))
        if verdict.winner != checker:
            jobs[checker] = replace(jobs[checker], state=JobState.Canceled)
    alive = [n for n, job in jobs.items() if job.state.is_alive]
    assert alive == [1]


def test_status_names_the_survivor_not_a_newer_cancelled_loser() -> None:
    """Issue 13 (4): once every job ended, the race loser is never current."""
    extra = identity.extra_job_message(5)
    loser = marked(6, JobState.Canceled, f"Canceled by user. Message:{extra}")
    winner = marked(5, JobState.Finished)
    assert choose_current([winner, loser])[0].id == 5
    alone = marked(6, JobState.Canceled, extra)
    assert choose_current([alone])[0].id == 6  # with no other job, it is all there is


def test_while_jobs_are_alive_the_lowest_is_current_and_the_rest_duplicates() -> None:
    jobs = [marked(n, s) for n, s in zip((4, 5, 6), itertools.repeat(JobState.Queued))]
    current, _, dupes = choose_current(jobs)
    assert current.id == 4 and [j.id for j in dupes] == [5, 6]


def test_a_lower_rival_that_already_ran_still_wins() -> None:
    """Seen under 15% faults: the rival's job was submitted and Finished before this slower
    applier checked; an alive-only rule would have submitted a second job."""
    listed = listing(marked(5, JobState.Finished), marked(6))
    assert survivor(listed, Claim("k", 6, floor=0)).winner == 5


def test_a_job_that_ended_before_the_plan_is_history_not_a_rival() -> None:
    listed = listing(marked(5, JobState.Finished), marked(6))
    assert survivor(listed, Claim("k", 6, floor=5)).winner == 6
    cancelled = listing(marked(5, JobState.Canceled), marked(6))
    assert survivor(cancelled, Claim("k", 6, floor=0)).winner == 6


def test_our_job_that_already_finished_before_the_recheck_still_wins() -> None:
    """A short job can end before its applier re-checks the race after submitting it."""
    assert survivor(listing(marked(6, JobState.Finished)), Claim("k", 6)).winner == 6
    assert survivor(listing(marked(6, JobState.Failed)), Claim("k", 6, floor=0)).winner == 6


def test_a_configuring_job_after_one_of_the_same_spec_that_ran_is_an_extra() -> None:
    """Seen under faults: an applier re-run after a failure found its own leftover Configuring
    job next to a rival's Finished one, took it as current and submitted it: a second run."""
    current, _, dupes = choose_current([marked(5, JobState.Finished), marked(6)])
    assert current.id == 5 and [j.id for j in dupes] == [6]


def _lagging_check(
    monkeypatch: pytest.MonkeyPatch, position: int, listed: Callable[..., StackJobs] = listing
) -> str:
    """The failure message of key `a` (job 7) whose race check, at `position` of its chain,
    lists the stack with `listed` (by default: one that does not show job 7 yet, as a listing
    that lags writes)."""
    from hpcspec.engine import race
    from hpcspec.engine.events import Recorder
    from hpcspec.engine.executor import _Executor, _Progress
    from hpcspec.engine.plan import Action
    from hpcspec.engine.steps import ApplyOptions, JobSteps, RecheckRace, SettleRace, Submit

    monkeypatch.setattr(race, "list_stack", lambda *_, **__: listed())
    run = _Executor(None, "web", ["a"], None, ApplyOptions(), None, Recorder(), {})  # type: ignore[arg-type]
    steps = (SettleRace("a"), Submit("a"), RecheckRace("a"))
    progress = _Progress(JobSteps("a", Action.SUBMIT, steps, live_id=7), 7, position=position)
    result = run._checked(progress, run._settle([progress]))
    assert result is not None and result.outcome is Outcome.FAILED
    return result.message


def test_a_race_check_that_cannot_decide_names_its_code_like_other_key_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/apply.md names `race-unchecked`: the key's result (its text line and the
    `job_applied` event's message) carries it, as a failed step's `[code]` is carried."""
    message = _lagging_check(monkeypatch, position=0)
    assert message.startswith("error: the cluster's job listing does not show job 7 yet")
    assert message.endswith("; run apply again [race-unchecked]"), message


def test_a_failed_recheck_says_its_advice_once_and_keeps_its_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = _lagging_check(monkeypatch, position=2)
    assert message.count("run apply again") == 1, message
    assert message.startswith("error: job 7 was submitted, but the cluster's job listing")
    assert message.endswith("; run apply again to settle it [race-unchecked]"), message


def test_a_failed_race_listing_keeps_the_listings_code_and_a_surprise_gets_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused() -> StackJobs:
        raise HpcspecError("cannot reach https://head/hpc: connection refused", code="offline")

    def surprise() -> StackJobs:
        raise KeyError("Id")

    message = _lagging_check(monkeypatch, 0, refused)
    assert message == (
        "error: the race check with other appliers failed: cannot reach https://head/hpc: "
        "connection refused [offline]"
    )
    message = _lagging_check(monkeypatch, 2, surprise)
    assert message.startswith("error: job 7 was submitted, but the race check with other ")
    assert message.endswith("KeyError: 'Id'; run apply again to settle it [race-check-failed]")


def test_a_submitted_job_after_one_of_the_same_spec_that_ran_is_a_new_run_and_current() -> None:
    """Red-team finding: `apply --rerun` (or a spec changed A -> B -> A) made job 6 while job 5
    of the same spec had Finished; status and --wait followed 5, and the next apply cancelled
    the new run as an extra. A race loser is never submitted (its check found the lower job),
    so a submitted job after one that ran is the key's; the one that ran is history."""
    for state in (JobState.Queued, JobState.Running, JobState.Finishing):
        current, history, dupes = choose_current([marked(5, JobState.Finished), marked(6, state)])
        assert current.id == 6 and [j.id for j in history] == [5] and dupes == []
    current, _, dupes = choose_current(
        [marked(5, JobState.Failed), marked(6, JobState.Running), marked(7)]
    )
    assert current.id == 6 and [j.id for j in dupes] == [7]
