"""Discovery: the live jobs of a stack, per key — current, history and duplicates (DESIGN.md §2).

One paged job listing with the `ClientSource` marker is enough to find every job of the stack
and to see which are unchanged (the marker carries the digest); on a cluster that does not keep
ClientSource, `list_stack` rebuilds each marker from custom properties (`custom_identity.py`).
Only jobs whose marker digest differs from the desired one cost more: their custom properties
(the `hpcspec.digest` tag is the truth when the marker could not be updated), then — if the
spec really changed — their details (job, env, tasks without sweep expansion), a few jobs at a
time. Orphans cost one custom-property read each (to learn their key).

Drift is read in the same listing: the job properties the manifest manages are asked for as
extra columns (`properties`), so an unchanged stack still costs the listing pages alone.
`moved: {old: new}` makes rows of the old key's marker the new key's; such a current job
costs one custom-property read, to learn whether its `hpcspec.key` already says the new key.
A job `hpcspec forget` tagged is skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from hpcspec.engine.custom_identity import client_source_kept, listing_owner, marked
from hpcspec.engine.identity import (
    DIGEST_TAG,
    FORGOTTEN_TAG,
    KEY_TAG,
    key_hash,
    live_digest,
    parse_marker,
    stack_hash,
    stack_marker_prefix,
)
from hpcspec.engine.lifecycle import cancelled_by_hpcspec
from hpcspec.engine.protocols import ClusterReader, JobColumns
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.errors import NotFound
from hpcspec.hpcpack.live import LiveJob

DETAIL_READERS = 4  # changed jobs whose details are read at once (the client is thread-safe)
ORPHAN_READERS = 8  # orphans whose custom properties are read at once


@dataclass(frozen=True)
class LiveStack:
    """What discovery found for one stack, per job key."""

    current: Mapping[str, LiveJob] = field(default_factory=dict)
    history: Mapping[str, tuple[LiveJob, ...]] = field(default_factory=dict)
    duplicates: Mapping[str, tuple[LiveJob, ...]] = field(default_factory=dict)
    orphans: Mapping[str, LiveJob] = field(default_factory=dict)  # in the stack, not the manifest
    adopted: frozenset[int] = frozenset()  # current jobs the manifest's `adopt:` names
    moved_from: Mapping[str, str] = field(default_factory=dict)  # key → old key, not yet recorded

    def current_ids(self) -> dict[str, int]:
        """The id of each key's current job (the parents of jobs apply creates)."""
        return {key: job.id for key, job in self.current.items()}


@dataclass
class StackJobs:
    """Every listed job of one stack, by key (orphans keyed by their custom `hpcspec.key`)."""

    by_key: dict[str, list[LiveJob]] = field(default_factory=lambda: defaultdict(list))
    rows: int = 0  # listing rows read (every job the caller can see, not just the stack's)
    moved: dict[int, str] = field(default_factory=dict)  # job id → the old key it was found by


def list_stack(
    reader: ClusterReader,
    stack: str,
    keys: Sequence[str],
    *,
    owner: str | None = None,
    columns: JobColumns = JobColumns.STATUS,
    adopted: Mapping[str, int] | None = None,
    properties: Sequence[str] = (),
    moved: Mapping[str, str] | None = None,
    known: dict[int, tuple[tuple[str, str], ...]] | None = None,
) -> StackJobs:
    """One listing; rows are matched to keys by the marker's hashes (`moved` old → new key:
    an old key's rows belong to the new key); `properties` are read as extra columns. A key
    the listing found no job for gets its `adopted` job (the manifest's `adopt:`), read by id.
    An orphan's key is only in its custom properties: one read each, `ORPHAN_READERS` at a
    time, kept in `known` (job id → custom properties) for callers that list again
    (`status --watch`)."""
    wanted = stack_hash(stack)
    by_hash = {key_hash(stack, key): key for key in keys}
    aliases = {key_hash(stack, old): (old, new) for old, new in (moved or {}).items()}
    found = StackJobs()
    jobs: Iterable[LiveJob]
    if client_source_kept(reader):
        prefix = stack_marker_prefix(stack)
        jobs = listing = reader.list_jobs(
            columns=columns, owner=owner, client_source_prefix=prefix, properties=properties
        )
    else:  # the marker is rebuilt from each job's custom properties (`custom_identity.py`)
        owned = listing_owner(reader, owner)
        listing = reader.list_jobs(columns=columns, owner=owned, properties=properties)
        jobs = marked(reader, listing, stack)
    rows: list[tuple[str | None, LiveJob]] = []
    for job in jobs:
        marker = parse_marker(job.client_source)
        if marker is None or marker.stack_hash != wanted:
            continue
        key = by_hash.get(marker.key_hash)
        if key is None and marker.key_hash in aliases:
            old, key = aliases[marker.key_hash]
            found.moved[job.id] = old
        rows.append((key, job))
    known = {} if known is None else known
    unread = [
        job.id
        for key, job in rows
        if key is None and job.custom_properties is None and job.id not in known
    ]
    if unread:

        def read(job_id: int) -> tuple[tuple[str, str], ...]:
            return tuple(sorted(dict(reader.job_custom_properties(job_id)).items()))

        with ThreadPoolExecutor(max_workers=min(ORPHAN_READERS, len(unread))) as pool:
            known.update(zip(unread, pool.map(read, unread), strict=True))
    for key, job in rows:
        if key is None:
            if job.custom_properties is None:
                job = replace(job, custom_properties=known[job.id])
            if job.custom(FORGOTTEN_TAG):  # `hpcspec forget`: no longer the stack's
                continue
            key = job.custom(KEY_TAG) or f"<unknown:{job.id}>"
            if key in (moved or {}):
                found.moved[job.id] = key
                key = (moved or {})[key]
        found.by_key[key].append(job)
    found.rows = listing.rows
    for key, job_id in (adopted or {}).items():
        if key not in found.by_key:
            found.by_key[key].append(adopted_job(reader, stack, key, job_id, columns))
    return found


def adopted_job(
    reader: ClusterReader, stack: str, key: str, job_id: int, columns: JobColumns
) -> LiveJob:
    """The job `adopt:` names for `key`; an error naming the entry when it is gone."""
    try:
        return reader.listed_job(job_id, columns)
    except NotFound:
        raise HpcspecError(
            f"adopt: job {job_id} of key {key!r} (stack {stack!r}) does not exist",
            code="adopted-job-missing",
            hint="remove the entry from adopt: (apply then creates the job)",
        ) from None


def discover(
    reader: ClusterReader,
    stack: str,
    desired_digests: Mapping[str, str],
    *,
    owner: str | None = None,
    adopted: Mapping[str, int] | None = None,
    properties: Sequence[str] = (),
    moved: Mapping[str, str] | None = None,
) -> LiveStack:
    """The live stack, with details read only for jobs whose spec may have changed (and that
    hpcspec did not cancel itself: such a key is created anew, whatever its old spec)."""
    listed = list_stack(
        reader,
        stack,
        list(desired_digests),
        owner=owner,
        adopted=adopted,
        properties=properties,
        moved=moved,
    )
    current: dict[str, LiveJob] = {}
    history: dict[str, tuple[LiveJob, ...]] = {}
    duplicates: dict[str, tuple[LiveJob, ...]] = {}
    orphans: dict[str, LiveJob] = {}
    for key, jobs in listed.by_key.items():
        chosen, older, extra = choose_current(jobs)
        if key not in desired_digests:
            orphans[key] = chosen
            continue
        current[key] = chosen
        history[key] = tuple(older)
        duplicates[key] = tuple(extra)
    moved_from = {
        key: listed.moved[job.id]
        for key, job in current.items()
        if job.id in listed.moved and not _records_key(reader, job, key)
    }
    stale = [
        k
        for k, job in current.items()
        if live_digest(job) != desired_digests[k] and not _recreated(job)
    ]
    if stale:  # each changed job's reads wait on the network: overlap them
        with ThreadPoolExecutor(max_workers=min(DETAIL_READERS, len(stale))) as pool:
            pending = [(current[k], desired_digests[k]) for k in stale]
            read = list(pool.map(lambda pair: with_details(reader, *pair), pending))
        current.update(zip(stale, read, strict=True))
    named = set((adopted or {}).values())
    return LiveStack(
        current=current,
        history=history,
        duplicates=duplicates,
        orphans=orphans,
        adopted=frozenset(j.id for j in current.values() if j.id in named),
        moved_from=moved_from,
    )


def _recreated(job: LiveJob) -> bool:
    """hpcspec cancelled the job and the next apply creates its key anew: its details are
    never needed."""
    gone = cancelled_by_hpcspec(job)
    return gone is not None and gone.recreates


def _records_key(reader: ClusterReader, job: LiveJob, key: str) -> bool:
    """Whether a job found through `moved:` already carries its new key (one request)."""
    if job.custom_properties is None:
        job = replace(job, custom_properties=tuple(reader.job_custom_properties(job.id).items()))
    return job.custom(KEY_TAG) == key


def choose_current(jobs: Sequence[LiveJob]) -> tuple[LiveJob, list[LiveJob], list[LiveJob]]:
    """(current, history, duplicates) for the jobs of one key.

    While jobs have not ended (Configuring or active), the lowest id among those with the
    newest such job's digest is current — of two racing creators the lower id wins — and
    every other alive job is a duplicate for apply to cancel. Otherwise the newest job is
    current and the rest history.
    """
    ordered = sorted(jobs, key=lambda j: j.id)
    unended = [j for j in ordered if not j.state.is_terminal]
    if not unended:
        return ordered[-1], ordered[:-1], []
    newest_digest = live_digest(unended[-1])
    current = next(j for j in unended if live_digest(j) == newest_digest)
    dupes = [j for j in unended if j is not current and j.state.is_alive]
    history = [j for j in ordered if j is not current and j not in dupes]
    return current, history, dupes


def with_details(reader: ClusterReader, job: LiveJob, desired_digest: str) -> LiveJob:
    """Read what the planner needs to decide about `job` — nothing when its marker matches."""
    if live_digest(job) == desired_digest:
        return job
    custom = dict(reader.job_custom_properties(job.id))
    job = replace(job, custom_properties=tuple(sorted(custom.items())))
    if job.custom(DIGEST_TAG) == desired_digest:
        return job  # the marker was stale (ClientSource cannot change after submit)
    return reader.read_details(job)
