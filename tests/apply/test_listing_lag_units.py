"""Waiting for a listing that shows our own writes (engine/listing_lag.py): the bound rule,
the listings it costs, and the race check and the lookup by token that use it.

Pure: listings are built from `LiveJob` rows (as in test_race_rule.py), time is a fake clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from hpcspec.engine import exactly_once, identity, listing_lag, race, token_lookup
from hpcspec.engine.discovery import StackJobs
from hpcspec.engine.exactly_once import CreateRequest, find_by_token
from hpcspec.engine.identity import IdentityKind
from hpcspec.engine.listing_lag import CreateLog, Patience, create_log
from hpcspec.engine.race import Claim
from hpcspec.engine.steps import CreateMethod
from hpcspec.hpcpack.definition import JobDefinition
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile
from hpcspec.hpcpack.states import JobState, TaskState

DIGEST = "0123456789abcdef"


class Clock:
    """A fake clock its `sleep` moves; the pauses slept."""

    def __init__(self) -> None:
        self.now, self.slept = 0.0, list[float]()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


class Cluster:
    """A reader with a profile (the engine reads nothing else of it here)."""

    def __init__(self, profile: ClusterProfile | None = None) -> None:
        if profile is not None:
            self.profile = profile

    def job_custom_properties(self, job_id: int) -> dict[str, str]:
        """No job here carries tags yet (they are all pending)."""
        return {}


def pending(key: str, job_id: int, token: str = "") -> LiveJob:
    name = identity.pending_name("s", key, DIGEST, CreateMethod.XML, token or f"t{job_id}")
    return LiveJob(job_id, JobState.Configuring, name=name)


def listing(*jobs: tuple[str, LiveJob]) -> StackJobs:
    listed = StackJobs()
    for key, job in jobs:
        found = identity.read_identity(job.name, job.client_source)
        assert found is not None and found.kind is IdentityKind.PENDING
        listed.identities[job.id] = found
        listed.pending[key].append(job)
    return listed


@pytest.mark.parametrize(
    ("reader", "bound", "first"),
    [
        (Cluster(), 0.0, listing_lag.FIRST_PAUSE),  # a fake: its listing is the truth
        (Cluster(UNKNOWN), listing_lag.UNMEASURED, listing_lag.FIRST_PAUSE),
        (Cluster(ClusterProfile()), listing_lag.FLOOR, listing_lag.FIRST_PAUSE),  # measured 0
        (Cluster(ClusterProfile(listing_lag_ms=30)), listing_lag.FLOOR, listing_lag.FIRST_PAUSE),
        (Cluster(ClusterProfile(listing_lag_ms=300)), 1.2, 0.3),
        (Cluster(ClusterProfile(listing_lag_ms=5000)), 20.0, 5.0),
    ],
)
def test_the_bound_is_a_few_times_the_measured_lag_with_a_floor(
    reader: Cluster, bound: float, first: float
) -> None:
    patience = Patience.of(reader)
    assert (patience.bound, patience.first) == (pytest.approx(bound), pytest.approx(first))


def test_a_listing_that_never_shows_costs_a_few_listings_then_ends_at_the_bound() -> None:
    """The cost docs/apply.md states: measured 0 (bound 0.5 s), 5 listings in all."""
    clock = Clock()
    patience = Patience.of(Cluster(ClusterProfile()), clock=clock, sleep=clock.sleep)
    made = list(patience.listings(itertools.count().__next__))
    assert made == [0, 1, 2, 3, 4] and clock.slept == [0.05, 0.1, 0.2, 0.15]
    clock = Clock()
    unmeasured = Patience.of(Cluster(UNKNOWN), clock=clock, sleep=clock.sleep)
    assert len(list(unmeasured.listings(itertools.count().__next__))) == 7
    assert sum(clock.slept) == pytest.approx(listing_lag.UNMEASURED)


def _lists(monkeypatch: pytest.MonkeyPatch, module: object, *listings: StackJobs) -> list[int]:
    """`module.list_stack` answers `listings` in turn (the last one again after them)."""
    asked: list[int] = []
    answers: Iterator[StackJobs] = itertools.chain(listings, itertools.repeat(listings[-1]))

    def list_stack(*_: object, **__: object) -> StackJobs:
        asked.append(len(asked) + 1)
        return next(answers)

    monkeypatch.setattr(module, "list_stack", list_stack)
    return asked


def test_each_key_is_decided_on_the_first_listing_that_shows_its_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Job 7 (key b) is listed late; job 6 (key a) is listed at once, then missing again (a
    second replica further behind): a is decided on the first listing, b on the third, and
    the batch took three listings."""
    a, b = pending("a", 6), pending("b", 7)
    asked = _lists(monkeypatch, race, listing(("a", a)), listing(), listing(("a", a), ("b", b)))
    clock = Clock()
    patience = Patience(1.0, clock=clock, sleep=clock.sleep)
    settled = race.settle(Cluster(), "s", [Claim("a", 6), Claim("b", 7)], patience=patience)
    assert settled.failures == {}
    assert {k: v.winner for k, v in settled.verdicts.items()} == {"a": 6, "b": 7}
    assert (settled.listings, len(asked), clock.slept) == (3, 3, [0.05, 0.1])


def test_a_job_never_listed_within_the_bound_is_unchecked_and_says_how_long_it_waited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _lists(monkeypatch, race, listing(("a", pending("a", 6))))
    clock = Clock()
    patience = Patience(0.5, clock=clock, sleep=clock.sleep)
    settled = race.settle(Cluster(), "s", [Claim("a", 6), Claim("b", 7)], patience=patience)
    assert settled.verdicts["a"].winner == 6 and settled.listings == 5
    error = settled.failures["b"]
    assert error.code == "race-unchecked" and clock.now == pytest.approx(0.5)
    assert "does not show job 7 yet after 5 listings over 0.5 s" in error.message


def test_a_lower_rival_listed_with_our_job_wins_even_if_an_earlier_listing_lacked_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rule is never decided on a listing without our job: the first one (neither shown)
    would have let ours win."""
    rival, ours = pending("a", 5), pending("a", 6)
    _lists(monkeypatch, race, listing(), listing(("a", rival), ("a", ours)))
    monkeypatch.setattr(exactly_once, "cancel_once", lambda *_, **__: None)
    clock = Clock()
    patience = Patience(1.0, clock=clock, sleep=clock.sleep)
    settled = race.settle(Cluster(), "s", [Claim("a", 6)], patience=patience)
    assert settled.verdicts["a"].winner == 5


def _request() -> CreateRequest:
    return CreateRequest("s", "a", DIGEST, JobDefinition(properties=(("Name", "a"),)))


def test_the_lookup_by_token_lists_again_until_the_lost_create_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours = pending("a", 9, token="tok")
    asked = _lists(monkeypatch, token_lookup, listing(), listing(), listing(("a", ours)))
    clock = Clock()
    patience = Patience(2.0, clock=clock, sleep=clock.sleep)
    assert find_by_token(Cluster(), _request(), "tok", patience, since=0.0) == 9
    assert len(asked) == 3


def test_the_lookup_concludes_absence_once_a_job_created_later_is_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Job 12's create was sent after the unclear answer (moment 1.0): a listing that shows
    it shows any job that create made, so its absence is proven without waiting the bound.
    Job 11's create was sent before: no witness."""
    cluster = Cluster(UNKNOWN)
    log = create_log(cluster)
    log.record(0.5, 11)
    log.record(1.5, 12)
    other = listing(("b", pending("b", 11)))
    later = listing(("b", pending("b", 11)), ("c", pending("c", 12)))
    asked = _lists(monkeypatch, token_lookup, other, later)
    clock = Clock()
    patience = Patience.of(cluster, clock=clock, sleep=clock.sleep)
    assert find_by_token(cluster, _request(), "tok", patience, since=1.0) is None
    assert len(asked) == 2 and clock.now < listing_lag.UNMEASURED


def test_without_a_witness_absence_is_concluded_only_at_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _lists(monkeypatch, token_lookup, listing())
    clock = Clock()
    patience = Patience(0.5, clock=clock, sleep=clock.sleep)
    assert find_by_token(Cluster(), _request(), "tok", patience, since=0.0) is None
    assert len(asked) == 5 and clock.now == pytest.approx(0.5)


def test_a_create_log_keeps_the_latest_creates_and_names_those_sent_after_a_moment() -> None:
    log = CreateLog()
    for n in range(listing_lag.KEPT + 5):
        log.record(float(n), n)
    assert log.sent_after(listing_lag.KEPT + 2.5) == {listing_lag.KEPT + 3, listing_lag.KEPT + 4}
    assert 0 not in log.sent_after(-1.0)
    assert create_log(Cluster()) is not create_log(Cluster())


def test_where_no_lag_was_measured_the_lag_the_stack_lock_saw_makes_the_bound() -> None:
    """Every apply's lock measures what the probe does (its lock job's create to the first
    listing that shows it); a measured profile wins over it."""
    unmeasured, measured = Cluster(UNKNOWN), Cluster(ClusterProfile(listing_lag_ms=0))
    for cluster in (unmeasured, measured):
        create_log(cluster).observe(0.3)
        create_log(cluster).observe(0.0)  # the longest one seen counts
    assert Patience.of(unmeasured).bound == pytest.approx(1.2)
    assert Patience.of(measured).bound == listing_lag.FLOOR
    assert "measured at 300 ms" in Patience.of(unmeasured).describe()


def test_an_absence_at_the_bound_is_assumed_and_one_with_a_witness_proven(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster = Cluster(UNKNOWN)
    create_log(cluster).record(2.0, 12)
    _lists(monkeypatch, token_lookup, listing(), listing(("c", pending("c", 12))))
    clock = Clock()
    patience = Patience(0.5, clock=clock, sleep=clock.sleep)
    assumed = token_lookup.look_up(cluster, "s", "a", "tok", since=5.0, patience=patience)
    assert assumed == token_lookup.Lookup(None, proven=False)
    proven = token_lookup.look_up(cluster, "s", "a", "tok", since=1.0, patience=patience)
    assert proven == token_lookup.Lookup(None, proven=True)


def test_a_new_jobs_listing_finds_the_job_an_earlier_attempt_made_after_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Job 9 (token t1, its create's answer lost) is listed only with job 10, the create sent
    again: the first listing (neither shown) says nothing, the second names job 9."""
    earlier, newer = pending("a", 9, token="t1"), pending("a", 10, token="t2")
    asked = _lists(monkeypatch, token_lookup, listing(), listing(("a", earlier), ("a", newer)))
    clock = Clock()
    patience = Patience(1.0, clock=clock, sleep=clock.sleep)
    found = token_lookup.earlier_job(Cluster(), "s", "a", 10, {"t1"}, patience)
    assert found == (9, "t1") and len(asked) == 2
    _lists(monkeypatch, token_lookup, listing(("a", newer)))
    assert token_lookup.earlier_job(Cluster(), "s", "a", 10, {"t1"}, patience) is None
    _lists(monkeypatch, token_lookup, listing())
    assert token_lookup.earlier_job(Cluster(), "s", "a", 10, {"t1"}, patience) is None


class Tasks(Cluster):
    """A job's task listings, answered in turn (the last one again after them)."""

    def __init__(self, *listings: dict[str, int]) -> None:
        super().__init__(UNKNOWN)
        self.answers = itertools.chain(listings, itertools.repeat(listings[-1]))
        self.asked = 0

    def task_ids(self, job_id: int) -> dict[str, int]:
        self.asked += 1
        return next(self.answers)

    def list_tasks(self, job_id: int, *, expand_sweeps: bool) -> list[LiveTask]:
        ids = self.task_ids(job_id)
        named = [(task_id, name.rstrip("'")) for name, task_id in ids.items()]
        return [LiveTask(task_id, name, TaskState.Configuring) for task_id, name in named]


def test_a_lost_task_add_is_looked_up_until_listed_or_a_later_add_of_the_job_is() -> None:
    clock = Clock()
    patience = Patience(2.0, clock=clock, sleep=clock.sleep)
    late = Tasks({}, {}, {"t": 3})
    assert token_lookup.task_by_name(late, 7, "t", since=1.0, patience=patience).found == 3
    assert late.asked == 3
    witnessed = Tasks({}, {"u": 4})
    create_log(witnessed).record(1.5, (7, 4))  # task 4 of job 7 was added after the answer
    found = token_lookup.task_by_name(witnessed, 7, "t", since=1.0, patience=patience)
    assert found == token_lookup.Lookup(None, proven=True) and witnessed.asked == 2


def test_a_task_listed_twice_by_name_once_the_new_one_shows_is_named_twice() -> None:
    """Task 3 (the lost add) is listed only with task 5 (the add sent again)."""
    clock = Clock()
    patience = Patience(1.0, clock=clock, sleep=clock.sleep)
    assert token_lookup.named_twice(Tasks({}, {"t": 3, "t'": 5}), 7, "t", 5, patience)
    assert not token_lookup.named_twice(Tasks({"t": 5}), 7, "t", 5, patience)
