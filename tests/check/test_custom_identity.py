"""Identity from custom properties where ClientSource is not kept (`engine/custom_identity.py`):
the marker each job's tags make, and the cache that spares reading other stacks' jobs again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpcspec.engine.custom_identity import client_source_kept, listing_owner, marked
from hpcspec.engine.discovery import list_stack
from hpcspec.engine.identity import client_source_marker
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.profile import ClusterProfile
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
