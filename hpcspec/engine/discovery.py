"""Discovery: the live jobs of a stack, per key — current, history, duplicates, pending
(DESIGN.md §2).

One paged job listing finds every job of the stack: marked jobs by their `ClientSource`
marker, jobs still being created (or left behind by a killed apply) and stack locks by their
Name (`identity.py`). `identify` is the one place a listed row becomes an identity, so the race
rule, recovery and the lock only ever see its answer. On a cluster that does not keep
ClientSource, `list_stack` lists the user's jobs and rebuilds each marker from custom
properties (`custom_identity.py`); pending jobs and locks need no read there, their Name says
it. The marker carries the digest, so an unchanged stack is planned from the listing alone.
Only jobs whose marker digest differs cost more: their custom properties (the `hpcspec.digest`
tag is the truth when the marker could not be updated), then — if the spec really changed —
their details, a few jobs at a time. A Configuring job, which apply would submit as it is,
is read whole every time (`read_whole`: 4 requests plus 2 per task). Orphans cost one
custom-property read each (to learn their key).

Drift is read in the same listing: the job properties the manifest manages are asked for as
extra columns (`properties`), so an unchanged stack still costs the listing pages alone.
`moved: {old: new}` makes rows of the old key's marker the new key's; such a current job
costs one custom-property read, to learn whether its `hpcspec.key` already says the new key.
A job `hpcspec forget` tagged is skipped.

`choose_current` is the one rule for "which job is this key's": apply's race rule
(`race.survivor`), plan, status, `--wait`, drift and destroy all go through it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from hpcspec.engine.custom_identity import (
    client_source_fact,
    listing_owner,
    named_or_marked,
    unmeasured,
)
from hpcspec.engine.identity import (
    DIGEST_TAG,
    FORGOTTEN_TAG,
    KEY_TAG,
    IdentityKind,
    JobIdentity,
    claimed_elsewhere,
    is_extra,
    key_hash,
    listed_identity,
    live_digest,
    stack_hash,
    stack_prefix,
)
from hpcspec.engine.lifecycle import cancelled_by_hpcspec
from hpcspec.engine.protocols import ClusterReader, JobColumns
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.errors import NotFound
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState

RAN_STATES = frozenset({JobState.Finished, JobState.Failed})
CONFIGURING = JobState.Configuring
DETAIL_READERS = 4  # changed jobs whose details are read at once (the client is thread-safe)
ORPHAN_READERS = 8  # orphans whose custom properties are read at once


def identify(job: LiveJob) -> JobIdentity | None:
    """Whose job a listed job is (None: not hpcspec's). The one reader of listed identity
    (a submitted job whose mark was lost is marked by its Name: `listed_identity`)."""
    return listed_identity(job)


@dataclass(frozen=True)
class LiveStack:
    """What discovery found for one stack, per job key."""

    current: Mapping[str, LiveJob] = field(default_factory=dict)
    history: Mapping[str, tuple[LiveJob, ...]] = field(default_factory=dict)
    duplicates: Mapping[str, tuple[LiveJob, ...]] = field(default_factory=dict)
    orphans: Mapping[str, LiveJob] = field(default_factory=dict)  # in the stack, not the manifest
    adopted: frozenset[int] = frozenset()  # current jobs the manifest's `adopt:` names
    moved_from: Mapping[str, str] = field(default_factory=dict)  # key → old key, not yet recorded
    pending: Mapping[str, tuple[LiveJob, ...]] = field(default_factory=dict)  # being created
    whole: frozenset[int] = frozenset()  # current jobs read whole (`read_whole`: Configuring)

    def ended_floors(self) -> dict[str, int]:
        """Per key, the highest id of its jobs that had ended when discovery listed them:
        the history a plan accounted for. A job of the key that ran and has a higher id was
        created after the plan — a rival (`race.survivor`)."""
        floors: dict[str, int] = {}
        for key in {*self.current, *self.history}:
            jobs = [
                *self.history.get(key, ()),
                *([self.current[key]] if key in self.current else []),
            ]
            floors[key] = max((j.id for j in jobs if not j.state.is_alive), default=0)
        return floors

    def current_ids(self) -> dict[str, int]:
        """The id of each key's current job (the parents of jobs apply creates)."""
        return {key: job.id for key, job in self.current.items()}


@dataclass
class StackJobs:
    """Every listed job of one stack: marked jobs by key (orphans keyed by their custom
    `hpcspec.key`), pending jobs by key (an unknown key as `<key hash>`), lock jobs."""

    by_key: dict[str, list[LiveJob]] = field(default_factory=lambda: defaultdict(list))
    pending: dict[str, list[LiveJob]] = field(default_factory=lambda: defaultdict(list))
    locks: list[LiveJob] = field(default_factory=list)
    identities: dict[int, JobIdentity] = field(default_factory=dict)
    rows: int = 0  # listing rows read (every job the caller can see, not just the stack's)
    moved: dict[int, str] = field(default_factory=dict)  # job id → the old key it was found by

    def alive(self, key: str) -> list[LiveJob]:
        """The key's alive jobs, pending ones included, lowest id first: the race's field."""
        jobs = [*self.by_key.get(key, ()), *self.pending.get(key, ())]
        return sorted((j for j in jobs if j.state.is_alive), key=lambda j: j.id)

    def job(self, job_id: int) -> LiveJob | None:
        """A listed job of the stack (marked or pending) by its id."""
        for jobs in (*self.by_key.values(), *self.pending.values()):
            for job in jobs:
                if job.id == job_id:
                    return job
        return None


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
    read_orphans: bool = True,
) -> StackJobs:
    """One listing; rows are matched to keys by the hashes of their identity (`moved` old →
    new key: an old key's rows belong to the new key); `properties` are read as extra columns.
    A key the listing found no job for gets its `adopted` job (the manifest's `adopt:`), read
    by id. An orphan's key is only in its custom properties: one read each, `ORPHAN_READERS`
    at a time, kept in `known` (job id → custom properties) for callers that list again
    (`status --watch`); `read_orphans=False` skips them (the race check needs no orphan)."""
    wanted = stack_hash(stack)
    by_hash = {key_hash(stack, key): key for key in keys}
    aliases = {key_hash(stack, old): (old, new) for old, new in (moved or {}).items()}
    found = StackJobs()
    prefix = stack_prefix(stack)
    jobs: Iterable[LiveJob]
    kept = client_source_fact(reader)  # one look: a fact learned meanwhile is not mixed in
    if kept is None:  # no profile, no marker written yet
        jobs, listing = unmeasured(
            reader, stack, owner=owner, columns=columns, properties=properties
        )
    elif kept:
        jobs = listing = reader.list_jobs(
            columns=columns,
            owner=owner,
            client_source_prefix=prefix,
            name_prefix=prefix,
            properties=properties,
        )
    else:  # the marker is rebuilt from each job's custom properties (`custom_identity.py`)
        owned = listing_owner(reader, owner)
        listing = reader.list_jobs(columns=columns, owner=owned, properties=properties)
        jobs = named_or_marked(reader, listing, stack)
    rows: list[tuple[str | None, LiveJob]] = []
    for job in jobs:
        identity = identify(job)
        if identity is None or identity.stack_hash != wanted:
            continue
        found.identities[job.id] = identity
        if identity.kind is IdentityKind.LOCK:
            found.locks.append(job)
            continue
        key = by_hash.get(identity.key_hash)
        if key is None and identity.key_hash in aliases:
            old, key = aliases[identity.key_hash]
            found.moved[job.id] = old
        if identity.kind is IdentityKind.PENDING:
            found.pending[key or f"<{identity.key_hash}>"].append(job)
            continue
        rows.append((key, job))
    known = {} if known is None else known
    unread = [
        job.id
        for key, job in rows
        if key is None and job.custom_properties is None and job.id not in known
    ]
    unread = unread if read_orphans else []
    if unread:

        def read(job_id: int) -> tuple[tuple[str, str], ...]:
            return tuple(sorted(dict(reader.job_custom_properties(job_id)).items()))

        with ThreadPoolExecutor(max_workers=min(ORPHAN_READERS, len(unread))) as pool:
            known.update(zip(unread, pool.map(read, unread), strict=True))
    for key, job in rows:
        if key is None:
            if job.custom_properties is None and job.id in known:
                job = replace(job, custom_properties=known[job.id])
            if job.custom(FORGOTTEN_TAG):  # `hpcspec forget`: no longer the stack's
                continue
            key = job.custom(KEY_TAG) or f"<unknown:{job.id}>"
            if key in (moved or {}):
                found.moved[job.id] = key
                key = (moved or {})[key]
        found.by_key[key].append(job)
    found.rows = listing.rows
    add_adopted(reader, found, stack, adopted or {}, columns, moved or {})
    return found


def add_adopted(
    reader: ClusterReader,
    found: StackJobs,
    stack: str,
    adopted: Mapping[str, int],
    columns: JobColumns,
    moved: Mapping[str, str],
) -> None:
    """Each `adopt:` entry whose key the listing found no job for: its job, read by id, and
    its custom properties (a second read): an entry, written by hand or left after the job
    moved, that names a job another stack or key claims is refused, as `adopt` refuses it
    (`identity.claimed_elsewhere`) — plan would manage, destroy cancel, another's job."""
    for key, job_id in adopted.items():
        if key in found.by_key:
            continue
        job = adopted_job(reader, stack, key, job_id, columns)
        tags = reader.job_custom_properties(job_id)
        claim = claimed_elsewhere(stack, key, job, tags, moved)
        if claim is not None:
            raise HpcspecError(
                f"adopt: job {job_id} of key {key!r} (stack {stack!r}) belongs to another "
                f"hpcspec stack or key: {claim}",
                code="adopted-elsewhere",
                hint="one job is managed by one stack and key: remove the entry from adopt:",
            )
        found.by_key[key].append(job)


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
    desired_digests: Mapping[str, str | Collection[str]],
    *,
    owner: str | None = None,
    adopted: Mapping[str, int] | None = None,
    properties: Sequence[str] = (),
    moved: Mapping[str, str] | None = None,
) -> LiveStack:
    """The live stack, details read only for jobs whose spec may have changed (of the digests
    a key accepts: `DesiredJob.digests`) and that hpcspec did not cancel itself."""
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
        if (live_digest(job) not in _accepted(desired_digests[k]) or job.state is CONFIGURING)
        and not _recreated(job)
    ]
    if stale:  # each changed job's reads wait on the network: overlap them
        with ThreadPoolExecutor(max_workers=min(DETAIL_READERS, len(stale))) as pool:
            pending = [(current[k], desired_digests[k]) for k in stale]
            read = list(pool.map(lambda pair: with_details(reader, *pair), pending))
        current.update(zip(stale, read, strict=True))
    whole = frozenset(current[k].id for k in stale if current[k].state is CONFIGURING)
    named = set((adopted or {}).values())
    building = {
        key: tuple(j for j in jobs if j.state.is_alive) for key, jobs in listed.pending.items()
    }
    return LiveStack(
        current=current,
        history=history,
        duplicates=duplicates,
        orphans=orphans,
        adopted=frozenset(j.id for j in current.values() if j.id in named),
        moved_from=moved_from,
        pending={key: jobs for key, jobs in building.items() if jobs},
        whole=whole,
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
    """(current, history, duplicates) for the marked jobs of one key.

    While jobs have not ended (Configuring or active), the lowest id among those with the
    newest such job's digest is current — of racing creators of one spec the lower id wins,
    as apply's race rule (`race.survivor`) decides; after a create-before-destroy replace
    the new spec's job; a submitted job before a job of that spec that already ran (a new
    run) — and every other alive job is a duplicate for apply to cancel.
    Otherwise the newest job is current, passing over the extra jobs apply cancelled (race
    losers, duplicates: `identity.is_extra`) while the key has another job; the rest is
    history.
    """
    ordered = sorted(jobs, key=lambda j: j.id)
    unended = [j for j in ordered if not j.state.is_terminal]
    if unended:
        newest_digest = live_digest(unended[-1])
        # A job of that spec that already ran (Finished, Failed) counts too: a later
        # Configuring job of the same spec is then an extra, never submitted as the key's.
        # A later job that was submitted is a new run (`apply --rerun`, a spec changed
        # back): apply submits a job only once its race check found no lower rival alive or
        # run since its plan, so the one that ran had ended before; it is history.
        same = [j for j in ordered if live_digest(j) == newest_digest]
        current = next(j for j in same if not j.state.is_terminal or j.state in RAN_STATES)
        if current.state.is_terminal:
            runs = [j for j in same if not j.state.is_terminal and j.state is not CONFIGURING]
            current = runs[0] if runs else current
        dupes = [j for j in unended if j is not current and j.state.is_alive]
    else:
        real = [j for j in ordered if not is_extra(j)] or ordered
        current, dupes = real[-1], []
    history = [j for j in ordered if j is not current and j not in dupes]
    return current, history, dupes


def with_details(reader: ClusterReader, job: LiveJob, digests: str | Collection[str]) -> LiveJob:
    """Read what the planner needs to decide about `job` — nothing when its marker is one the
    key accepts, all of it when the job is Configuring (`read_whole`)."""
    if job.state is CONFIGURING:
        return read_whole(reader, job)
    accepted = _accepted(digests)
    if live_digest(job) in accepted:
        return job
    custom = dict(reader.job_custom_properties(job.id))
    job = replace(job, custom_properties=tuple(sorted(custom.items())))
    if job.custom(DIGEST_TAG) in accepted:
        return job  # the marker was stale (ClientSource cannot change after submit)
    return reader.read_details(job)


def _accepted(digests: str | Collection[str]) -> Collection[str]:
    return (digests,) if isinstance(digests, str) else digests


def read_whole(reader: ClusterReader, job: LiveJob) -> LiveJob:
    """A Configuring job as the listing showed it, with its definition read whole (tasks' env
    and custom properties and its parents included: 4 requests, plus 2 per task). apply
    submits such a job as it is, so the plan compares all of it with the manifest — a hand
    edit is planned, never submitted silently — and a saved plan records what it saw."""
    whole = reader.read_whole_job(job.id)
    return replace(job, custom_properties=whole.custom_properties, definition=whole.definition)
