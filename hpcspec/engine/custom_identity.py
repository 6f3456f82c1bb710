"""Identity where the cluster does not keep `ClientSource` (issue 15 part 2; DESIGN.md §2).

Discovery (`discovery.list_stack`, the one identity-reading function) normally recognises a
stack's jobs by the `ClientSource` marker in one listing. Some clusters replace ClientSource
with their own value (`hpcspec cluster check` finds it and the cluster's profile records
`client_source_kept: false`; without a profile the client finds out by reading back its
first marker write and its first submitted job, `hpcpack/client/client_source.py`, and until
then discovery lists without guessing: `unmeasured`). There,
discovery lists the jobs of the current owner and reads each job's custom properties
(`hpcspec.stack`, `hpcspec.key`, `hpcspec.digest`, which every job hpcspec creates carries),
and puts the marker they make into the job's `client_source`, so everything after discovery
reads it as if the cluster had kept it.

Cost: one custom-property read per listed job the first time. A job's stack and key never
change, so the client's `identity_cache` (job id → [stack, key], or [] for a job that is not
hpcspec's; saved per cluster by the CLI) spares the read of every job of another stack or of
no stack after that; jobs of this stack are read each time, for their current digest. A job
still Configuring without tags is not cached: hpcspec may be tagging it right now.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from hpcspec.engine.identity import (
    DIGEST_TAG,
    KEY_TAG,
    PREFIX,
    STACK_TAG,
    TOKEN_TAG,
    client_source_marker,
    parse_name,
    stack_prefix,
)
from hpcspec.engine.protocols import ClusterReader, JobColumns, JobListing
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState


def client_source_fact(reader: ClusterReader) -> bool | None:
    """Whether the cluster keeps the ClientSource hpcspec writes, from one look at the
    reader's profile: True or False as measured (or written by hand, or learned), None while
    nothing says. A marker this client's own write read back is not enough: the server may
    replace it at submit, and a listing by marker would then miss the rivals' submitted jobs
    (`unmeasured` finds them). A reader without a profile, such as a test's fake, is taken to
    keep it. A client whose marker write or submit is still finding it out is waited for
    first (`settle_client_source`), so a listing that follows them lists the jobs they
    marked."""
    settle = getattr(reader, "settle_client_source", None)
    if settle is not None:
        settle()
    profile = getattr(reader, "profile", None)
    knows = getattr(profile, "knows", None)
    if knows is not None and not knows("client_source_kept"):
        return None
    return bool(getattr(profile, "client_source_kept", True))


def client_source_kept(reader: ClusterReader) -> bool:
    """Whether the cluster keeps the ClientSource hpcspec writes (the profile's default,
    kept, while nothing says: `client_source_fact`)."""
    return client_source_fact(reader) is not False


def client_source_known(reader: ClusterReader) -> bool:
    """Whether the reader's profile says how the cluster treats ClientSource, or its own
    first marker write has been read back (`client_source_verdict`; a reader without a
    profile is taken to know), without waiting for a read in flight: the executor runs a
    job XML create's mark beside its race check only then (before, the mark runs first)."""
    verdict = getattr(reader, "client_source_verdict", None)
    if verdict is not None:
        return verdict() is not None
    knows = getattr(getattr(reader, "profile", None), "knows", None)
    return True if knows is None else bool(knows("client_source_kept"))


def unmeasured(
    reader: ClusterReader,
    stack: str,
    *,
    owner: str | None,
    columns: JobColumns,
    properties: Sequence[str] = (),
) -> tuple[Iterable[LiveJob], JobListing]:
    """The jobs of `stack`, and the listing that found them, where nothing says yet whether the
    cluster keeps ClientSource (no profile, no marker written by this client): a guess either
    way could miss them (a plan to create them again, a destroy with nothing to do). One
    listing keeps every job with an hpcspec marker, of any stack, and the stack's named jobs.
    A marker on a submitted job suggests that the cluster keeps what clients write (a cluster
    that replaces it replaces every one it is sent; one that replaces it at submit has left
    markers on Configuring jobs only), and the stack's jobs are then the ones its marker or
    Name names; but it is not learned: a job marked before the server began to replace it (an
    upgrade) keeps its marker, and a saved "kept" would skip the client's read-backs of its
    first marker write and submit, which are what decide. Without one, the cluster may be
    replacing markers: the owner's jobs are listed again and read as where it does
    (`marked`), and the stack's named and marked jobs of the first listing are kept, whoever
    owns them; nothing is learned either."""
    prefix = stack_prefix(stack)
    listing = reader.list_jobs(
        columns=columns,
        owner=owner,
        client_source_prefix=f"{PREFIX}:",
        name_prefix=prefix,
        properties=properties,
    )
    owner_name = listing_owner(reader, owner)
    owned_future: Future[Listed] | None = None
    if _writing(reader):
        # An apply that has written markers but not yet seen one past a submit (a first
        # apply's race checks): the first listing shows no marker on a submitted job of its
        # own, so the second is almost surely needed; listed meanwhile, on a thread of their
        # own, the two cost one round trip instead of two.
        meanwhile = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hpcspec-owned")
        owned_future = meanwhile.submit(_listed, reader, columns, owner_name, properties)
        meanwhile.shutdown(wait=False)
    jobs = list(listing)
    if any(_kept_past_submit(job) for job in jobs):
        if owned_future is not None:
            owned_future.cancel()  # one listing spent for nothing, if it was already sent
        return [
            j for j in jobs if j.client_source.startswith(prefix) or j.name.startswith(prefix)
        ], listing
    # A Name says who a job is (pending, lock) however the cluster treats ClientSource, and so
    # does a marker that is there (a Configuring job's, say): another user's lock, pending
    # create or unsubmitted job is the stack's too (the listing by owner cannot see it).
    named = [
        job
        for job in jobs
        if parse_name(job.name) is not None or job.client_source.startswith(prefix)
    ]
    owned = (
        owned_future.result()
        if owned_future is not None
        else _listed(reader, columns, owner_name, properties)
    )
    # A job whose marker is there needs no read of its tags: the marker names its stack, and
    # the stack's are kept from this listing too. The two listings may run in either order
    # (`_writing`): a job marked in the one made first can have lost its marker to a submit
    # by the time the other is made (a cluster that replaces it at submit), and then only
    # the first one shows it as the stack's.
    unmarked = (job for job in owned if not job.client_source.startswith(f"{PREFIX}:"))
    found = list(named_or_marked(reader, unmarked, stack))
    found += [job for job in owned if job.client_source.startswith(prefix)]
    seen = {job.id for job in found}
    jobs = sorted([*found, *(j for j in named if j.id not in seen)], key=lambda j: j.id)
    return jobs, Listed(jobs, listing.rows + owned.rows)  # the rows both listings read


def _writing(reader: ClusterReader) -> bool:
    """Whether this client's own marker write read back intact while the fact is unknown
    (`client_source_verdict`: kept at write, not yet past a submit)."""
    verdict = getattr(reader, "client_source_verdict", None)
    return verdict is not None and verdict() is True


def _listed(
    reader: ClusterReader, columns: JobColumns, owner: str | None, properties: Sequence[str]
) -> Listed:
    """Every job of `owner`, read to the end (`unmeasured`'s second listing)."""
    listing = reader.list_jobs(columns=columns, owner=owner, properties=properties)
    return Listed(list(listing), listing.rows)


@dataclass
class Listed:
    """Jobs already listed, and the rows their listings read (a `JobListing`)."""

    jobs: list[LiveJob]
    rows: int

    def __iter__(self) -> Iterator[LiveJob]:
        return iter(self.jobs)


def _kept_past_submit(job: LiveJob) -> bool:
    """A listed job whose hpcspec marker survived its submit: the marker of a job never
    submitted (Configuring, or cancelled while it was) does not say it would have (some
    servers keep it until the submit and replace it then)."""
    return job.client_source.startswith(f"{PREFIX}:") and job.state.surely_submitted


def named_or_marked(
    reader: ClusterReader, listing: Iterable[LiveJob], stack: str
) -> Iterator[LiveJob]:
    """Where ClientSource is not kept: jobs whose Name says who they are (pending, locks) as
    they are; every other job with its marker rebuilt from custom properties."""
    for job in listing:
        if parse_name(job.name) is not None:
            yield job
        else:
            yield from marked(reader, (job,), stack)


def listing_owner(reader: ClusterReader, owner: str | None) -> str | None:
    """Whose jobs the fallback lists: `owner` if given, else the user hpcspec acts as."""
    return owner or getattr(reader, "user", None)


def tagged(reader: ClusterReader, job_id: int, stack: str, key: str) -> None:
    """Record that job `job_id` now carries the identity tags of `stack`/`key` (`hpcspec
    adopt` wrote them): the listing before the write may have cached it as not hpcspec's,
    and a cache must never decide what a fresh read would not."""
    cache: MutableMapping[str, list[str]] | None = getattr(reader, "identity_cache", None)
    if cache is not None and str(job_id) in cache:
        cache[str(job_id)] = [stack, key]


def marked(reader: ClusterReader, jobs: Iterable[LiveJob], stack: str) -> Iterator[LiveJob]:
    """The listed jobs of `stack`, each with its custom properties read and the marker they
    make in `client_source`; jobs of other stacks and jobs that are not hpcspec's are skipped."""
    cache: MutableMapping[str, list[str]] | None = getattr(reader, "identity_cache", None)
    for job in jobs:
        known = cache.get(str(job.id)) if cache is not None else None
        if known is not None and (not known or known[0] != stack):
            continue  # another stack's job, or not hpcspec's: no read
        custom = dict(reader.job_custom_properties(job.id))
        tags = {k.lower(): v for k, v in custom.items()}
        stack_tag, key_tag = tags.get(STACK_TAG, ""), tags.get(KEY_TAG, "")
        if cache is not None and (stack_tag or job.state is not JobState.Configuring):
            cache[str(job.id)] = [stack_tag, key_tag] if stack_tag else []
        if stack_tag != stack or not key_tag:
            continue
        # A job whose create has not finished has no digest tag yet: pending, as its kept
        # marker would be (`exactly_once.pending_marker`).
        digest = tags.get(DIGEST_TAG) or f"pending-{tags.get(TOKEN_TAG, '')}"
        marker = client_source_marker(stack, key_tag, digest)
        yield replace(job, client_source=marker, custom_properties=tuple(sorted(custom.items())))
