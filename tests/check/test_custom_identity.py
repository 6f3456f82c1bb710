"""Identity from custom properties where ClientSource is not kept (`engine/custom_identity.py`):
the marker each job's tags make, and the cache that spares reading other stacks' jobs again."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from hpcspec.engine.custom_identity import (
    client_source_kept,
    client_source_known,
    listing_owner,
    marked,
    unmeasured,
)
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.identity import client_source_marker, lock_name, pending_name
from hpcspec.engine.steps import CreateMethod
from hpcspec.hpcpack.live import JobColumns, LiveJob
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile
from hpcspec.hpcpack.states import JobState


class Reader:
    """A cluster that stamps ClientSource: jobs and their custom properties, reads counted."""

    def __init__(self, jobs: Mapping[int, tuple[JobState, dict[str, str]]]) -> None:
        self.jobs = jobs
        self.profile = ClusterProfile(client_source_kept=False)
        self.user = "HPC\\alice"
        self.identity_cache: dict[str, list[str]] = {}
        self.reads: list[int] = []
        self.owners: list[str | None] = []

    def list_jobs(self, *, columns: Any = None, owner: str | None = None, **_: Any) -> Any:
        self.owners.append(owner)
        rows = [LiveJob(i, state, client_source="HPC") for i, (state, _) in self.jobs.items()]

        class Listing(list[LiveJob]):
            rows = len(self.jobs)

        return Listing(rows)

    def job_custom_properties(self, job_id: int) -> Mapping[str, str]:
        self.reads.append(job_id)
        return self.jobs[job_id][1]


def _tags(stack: str, key: str, digest: str = "d1") -> dict[str, str]:
    return {"hpcspec.stack": stack, "hpcspec.key": key, "hpcspec.digest": digest}


def test_the_marker_comes_from_the_tags_and_other_jobs_are_read_once() -> None:
    reader = Reader(
        {
            1: (JobState.Finished, _tags("web", "a")),
            2: (JobState.Queued, _tags("other", "b")),
            3: (JobState.Finished, {"user": "x"}),  # not hpcspec's
            4: (JobState.Configuring, {}),  # maybe being tagged right now: not cached
            5: (
                JobState.Configuring,
                {"hpcspec.stack": "web", "hpcspec.key": "c", "hpcspec.token": "t9"},
            ),
        }
    )
    found = {job.id: job.client_source for job in marked(reader, reader.list_jobs(), "web")}
    assert found == {
        1: client_source_marker("web", "a", "d1"),
        5: client_source_marker("web", "c", "pending-t9"),  # a create still going on
    }
    assert reader.identity_cache == {"1": ["web", "a"], "2": ["other", "b"], "3": [],
                                     "5": ["web", "c"]}  # fmt: skip
    reader.reads.clear()
    list(marked(reader, reader.list_jobs(), "web"))
    assert sorted(reader.reads) == [1, 4, 5]  # this stack's (for their digest) and the untagged


def test_discovery_lists_the_users_jobs_and_keys_them_by_their_tags() -> None:
    reader = Reader({7: (JobState.Queued, _tags("web", "a", "d2")), 8: (JobState.Queued, {})})
    listed = list_stack(reader, "web", ["a"])  # type: ignore[arg-type]
    assert [job.id for job in listed.by_key["a"]] == [7]
    assert listed.by_key["a"][0].custom("hpcspec.digest") == "d2"
    assert reader.owners == ["HPC\\alice"]


def test_a_reader_without_a_profile_keeps_client_source() -> None:
    assert client_source_kept(object())  # type: ignore[arg-type]
    assert listing_owner(object(), "HPC\\bob") == "HPC\\bob"  # type: ignore[arg-type]


class Unprofiled(Reader):
    """A reader with no profile (nothing measured) that lists as the client does: by owner,
    and keeping rows by ClientSource or Name prefix when asked."""

    def __init__(self, rows: list[LiveJob], tags: Mapping[int, dict[str, str]]) -> None:
        super().__init__({job.id: (job.state, dict(tags.get(job.id, {}))) for job in rows})
        self.profile = UNKNOWN
        self.rows = rows
        self.prefixes: list[tuple[str, str]] = []

    def list_jobs(
        self,
        *,
        columns: Any = None,
        owner: str | None = None,
        client_source_prefix: str = "",
        name_prefix: str = "",
        **_: Any,
    ) -> Any:
        self.owners.append(owner)
        self.prefixes.append((client_source_prefix, name_prefix))
        rows = [
            job
            for job in self.rows
            if (owner is None or job.owner == owner)
            and (
                job.client_source.startswith(client_source_prefix)
                or (name_prefix and job.name.startswith(name_prefix))
            )
        ]

        class Listing(list[LiveJob]):
            rows = len(self.rows)

        return Listing(rows)

    def learn(self, note: str, **facts: object) -> None:
        self.profile = self.profile.learned(**facts)


def test_a_listed_marker_lists_the_stack_by_marker_and_costs_no_read_but_is_not_learned() -> None:
    ours = LiveJob(1, JobState.Queued, client_source=client_source_marker("web", "a", "d1"))
    other = LiveJob(2, JobState.Queued, client_source=client_source_marker("api", "b", "d1"))
    foreign = LiveJob(3, JobState.Queued, client_source="HPC Job Manager", owner="HPC\\alice")
    reader = Unprofiled([ours, other, foreign], {})
    assert not client_source_known(reader)  # type: ignore[arg-type]
    found = list_stack(reader, "web", ["a"])  # type: ignore[arg-type]
    assert [job.id for job in found.by_key["a"]] == [1]
    assert reader.reads == [] and len(reader.owners) == 1  # one listing, no read
    # A job marked before the server began to replace ClientSource keeps its marker: only the
    # read-back of a marker write decides.
    assert not client_source_known(reader)  # type: ignore[arg-type]


def test_without_a_listed_marker_the_owners_jobs_are_read_by_their_tags() -> None:
    alice, bob = "HPC\\alice", "HPC\\bob"
    pending = pending_name("web", "c", "d2", CreateMethod.XML, "t1")
    rows = [
        LiveJob(1, JobState.Queued, client_source="HPC", owner=alice),  # ours, stamped
        LiveJob(2, JobState.Queued, client_source="HPC", owner=alice),  # not hpcspec's
        LiveJob(3, JobState.Queued, client_source="HPC", owner=bob),  # someone else's
        LiveJob(4, JobState.Configuring, name=pending, owner=alice),  # a create going on
        LiveJob(5, JobState.Configuring, name=lock_name("web", "t2", "h", 1), owner=bob),
    ]
    reader = Unprofiled(rows, {1: _tags("web", "a"), 3: _tags("web", "b")})
    jobs, _ = unmeasured(reader, "web", owner=None, columns=JobColumns.STATUS)  # type: ignore[arg-type]
    found = list(jobs)
    # A Name still names a pending job or a lock, whoever owns it (bob's lock holds the stack).
    assert [job.id for job in found] == [1, 4, 5]
    assert found[0].client_source == client_source_marker("web", "a", "d1")
    assert sorted(reader.reads) == [1, 2]  # the listing owner's jobs only
    assert reader.owners == [None, alice]  # every hpcspec job first; then the owner's
    assert not client_source_known(reader)  # type: ignore[arg-type]  # a guess is not learned


class LearnedMeanwhile(Unprofiled):
    """A client whose first marker write's read-back, in another thread, learns that the
    cluster replaces ClientSource right after a listing's thread asked whether it keeps it."""

    @property  # type: ignore[override]
    def profile(self) -> ClusterProfile:
        asked = self._profile
        if not asked.knows("client_source_kept"):  # the read-back answers now
            self._profile = asked.learned(client_source_kept=False, client_source_stamp="HPC")
        return asked

    @profile.setter
    def profile(self, value: ClusterProfile) -> None:
        self._profile = value


def test_a_listing_does_not_take_a_fact_learned_meanwhile_for_its_earlier_guess() -> None:
    ours = LiveJob(1, JobState.Queued, client_source="HPC", owner="HPC\\alice")  # stamped
    reader = LearnedMeanwhile([ours], {1: _tags("web", "a")})
    found = list_stack(reader, "web", ["a"])  # type: ignore[arg-type]
    assert [job.id for job in found.by_key["a"]] == [1]  # listed the cluster's way, by tags


class Writing(Unprofiled):
    """A first apply's client: its marker write read back intact, not yet past a submit.
    Each listing is read lazily, as the client's, and waits for the other one to start."""

    def __init__(self, rows: list[LiveJob]) -> None:
        super().__init__(rows, {})
        self.both = threading.Barrier(2, timeout=5)

    def client_source_verdict(self) -> bool | None:
        return True

    def list_jobs(self, **kwargs: Any) -> Any:
        listed = super().list_jobs(**kwargs)
        both = self.both

        class Lazy:
            rows = listed.rows

            def __iter__(self) -> Any:
                both.wait()  # BrokenBarrierError when the other listing never starts meanwhile
                return iter(listed)

        return Lazy()


def test_a_first_apply_lists_the_owners_jobs_beside_the_first_listing_not_after_it() -> None:
    """Without a profile, a first apply's race checks need both listings (no submitted job
    shows a marker yet): sent one after the other they cost two round trips in a row."""
    alice = "HPC\\alice"
    pending = pending_name("web", "c", "d2", CreateMethod.XML, "t1")
    reader = Writing([LiveJob(4, JobState.Configuring, name=pending, owner=alice)])
    jobs, _ = unmeasured(reader, "web", owner=None, columns=JobColumns.STATUS)  # type: ignore[arg-type]
    assert [job.id for job in jobs] == [4]
    assert set(reader.owners) == {None, alice} and len(reader.owners) == 2


def test_a_job_marked_in_the_owners_listing_counts_though_the_other_no_longer_shows_it() -> None:
    """The two listings of a first apply's race check run side by side, in either order: a
    rival's job marked when the owner's jobs were listed may have lost its marker to its
    submit (a cluster that replaces it at submit) by the time the other listing is made.
    Found under load: a key submitted twice by racing appliers."""
    alice = "HPC\\alice"
    rival = LiveJob(2, JobState.Configuring, client_source=client_source_marker("web", "a", "d1"))
    rival = LiveJob(2, JobState.Configuring, client_source=rival.client_source, owner=alice)

    class Moved(Writing):
        def list_jobs(self, **kwargs: Any) -> Any:
            # the owner's listing saw job 2 marked; the other one sees it submitted, unmarked
            self.rows = [rival] if kwargs.get("owner") else []
            return super().list_jobs(**kwargs)

    reader = Moved([])
    jobs, _ = unmeasured(reader, "web", owner=None, columns=JobColumns.STATUS)  # type: ignore[arg-type]
    assert [job.id for job in jobs] == [2]
