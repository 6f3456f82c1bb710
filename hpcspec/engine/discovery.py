"""Discovery: the live jobs of a stack, per key — current, history and duplicates (DESIGN.md §2).

One paged job listing with the `ClientSource` marker is enough to find every job of the stack
and to see which are unchanged (the marker carries the digest). Only jobs whose marker digest
differs from the desired one cost more: their custom properties (the `hpcspec.digest` tag is
the truth when the marker could not be updated), then — if the spec really changed — their
details (job, env, tasks without sweep expansion), a few jobs at a time. Orphans cost one
custom-property read each (to learn their key).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from hpcspec.engine.identity import DIGEST_TAG, KEY_TAG, key_hash, parse_marker, stack_hash
from hpcspec.engine.planner import LiveStack
from hpcspec.hpcpack import readback
from hpcspec.hpcpack.codec import PropertyMap
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

DETAIL_READERS = 4  # changed jobs whose details are read at once (the client is thread-safe)
COUNTERS = {
    "Configuring": "ConfiguringTaskCount",
    "Queued": "QueuedTaskCount",
    "Running": "RunningTaskCount",
    "Finished": "FinishedTaskCount",
    "Failed": "FailedTaskCount",
    "Canceled": "CanceledTaskCount",
}
LIST_PROPERTIES = (
    "Id",
    "Name",
    "State",
    "Owner",
    "ClientSource",
    "ChangeTime",
    "SubmitTime",
    "StartTime",
    "EndTime",
    "RequeueCount",
    "ErrorMessage",
    "TaskCount",
    *COUNTERS.values(),
)
# Enough to tell whose job a row is and whether it is alive (racing appliers): no times, so no
# date-format read, and no task counters for the server to count.
IDENTITY_PROPERTIES = ("Id", "Name", "State", "Owner", "ClientSource")
TASK_PROPERTIES = (
    "JobTaskId",
    "Name",
    "State",
    "CommandLine",
    "WorkDirectory",
    "DependsOn",
    "Type",
    "StartValue",
    "EndValue",
    "IncrementValue",
    "ExitCode",
    "InstanceId",
    "ErrorMessage",
    "Output",
    "MinCores",
    "MaxCores",
    "MinNodes",
    "MaxNodes",
    "MinSockets",
    "MaxSockets",
    "RuntimeSeconds",
    "RequiredNodes",
    "RequestedNodeGroup",
    "IsExclusive",
    "IsRerunnable",
    "StdOutFilePath",
    "StdInFilePath",
    "StdErrFilePath",
    "FailJobOnFailure",
    "FailJobOnFailureCount",
    "TaskValidExitCodes",
    "UserBlob",
)


class JobReader(Protocol):
    """The read side of the cluster that discovery needs (the REST client provides it)."""

    def iter_jobs(
        self, *, properties: Sequence[str], owner: str | None = None, rows_per_read: int = 1000
    ) -> Iterator[Mapping[str, str]]: ...
    def job_properties(self, job_id: int) -> Mapping[str, str]: ...
    def job_custom_properties(self, job_id: int) -> Mapping[str, str]: ...
    def job_env(self, job_id: int) -> Mapping[str, str]: ...
    def iter_tasks(
        self, job_id: int, *, properties: Sequence[str], expand_parametric: bool
    ) -> Iterator[Mapping[str, str]]: ...
    def parse_time(self, text: str) -> datetime | None: ...


@dataclass
class StackJobs:
    """Every listed job of one stack, by key (orphans keyed by their custom `hpcspec.key`)."""

    by_key: dict[str, list[LiveJob]] = field(default_factory=lambda: defaultdict(list))
    rows: int = 0  # listing rows read (every job the caller can see, not just the stack's)


def list_stack(
    reader: JobReader,
    stack: str,
    keys: Sequence[str],
    *,
    owner: str | None = None,
    properties: Sequence[str] = LIST_PROPERTIES,
) -> StackJobs:
    """One listing; rows are matched to keys by the marker's hashes."""
    wanted = stack_hash(stack)
    by_hash = {key_hash(stack, key): key for key in keys}
    found = StackJobs()
    for row in reader.iter_jobs(properties=properties, owner=owner):
        found.rows += 1
        marker = parse_marker(row_value(row, "ClientSource"))
        if marker is None or marker.stack_hash != wanted:
            continue
        job = _listed(reader, row)
        key = by_hash.get(marker.key_hash)
        if key is None:  # an orphan: its key is only in its custom properties
            custom = dict(reader.job_custom_properties(job.id))
            job = replace(job, custom_properties=tuple(sorted(custom.items())))
            key = job.custom(KEY_TAG) or f"<unknown:{job.id}>"
        found.by_key[key].append(job)
    return found


def discover(
    reader: JobReader, stack: str, desired_digests: Mapping[str, str], *, owner: str | None = None
) -> LiveStack:
    """The live stack, with details read only for jobs whose spec may have changed."""
    listed = list_stack(reader, stack, list(desired_digests), owner=owner)
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
    stale = [k for k, job in current.items() if _digest(job) != desired_digests[k]]
    if stale:  # each changed job's reads wait on the network: overlap them
        with ThreadPoolExecutor(max_workers=min(DETAIL_READERS, len(stale))) as pool:
            pending = [(current[k], desired_digests[k]) for k in stale]
            read = list(pool.map(lambda pair: with_details(reader, *pair), pending))
        current.update(zip(stale, read, strict=True))
    return LiveStack(current=current, history=history, duplicates=duplicates, orphans=orphans)


def choose_current(jobs: Sequence[LiveJob]) -> tuple[LiveJob, list[LiveJob], list[LiveJob]]:
    """(current, history, duplicates) for the jobs of one key.

    While jobs are alive (Configuring or active), the lowest id among those with the newest
    live job's digest is current — of two racing creators the lower id wins — and every other
    live job is a duplicate for apply to cancel. Otherwise the newest job is current and the
    rest history.
    """
    ordered = sorted(jobs, key=lambda j: j.id)
    alive = [j for j in ordered if j.state is JobState.Configuring or j.state.is_active]
    if not alive:
        return ordered[-1], ordered[:-1], []
    newest_digest = _digest(alive[-1])
    current = next(j for j in alive if _digest(j) == newest_digest)
    dupes = [j for j in alive if j is not current and j.state is not JobState.Canceling]
    history = [j for j in ordered if j is not current and j not in dupes]
    return current, history, dupes


def with_details(reader: JobReader, job: LiveJob, desired_digest: str) -> LiveJob:
    """Read what the planner needs to decide about `job` — nothing when its marker matches."""
    if _digest(job) == desired_digest:
        return job
    custom = dict(reader.job_custom_properties(job.id))
    job = replace(job, custom_properties=tuple(sorted(custom.items())))
    if job.custom(DIGEST_TAG) == desired_digest:
        return job  # the marker was stale (ClientSource cannot change after submit)
    return read_details(reader, job)


def read_details(reader: JobReader, job: LiveJob) -> LiveJob:
    """The job's properties, env and tasks (sweep masters only), as a JobDefinition."""
    values = reader.job_properties(job.id)
    env = reader.job_env(job.id)
    rows = list(reader.iter_tasks(job.id, properties=TASK_PROPERTIES, expand_parametric=False))
    custom = dict(job.custom_properties or reader.job_custom_properties(job.id).items())
    definition = readback.job_definition(
        values,
        custom=custom,
        env=env,
        tasks=[readback.task_definition(r) for r in rows],
        parse_time=reader.parse_time,
    )
    return replace(
        job,
        custom_properties=tuple(sorted(custom.items())),
        definition=definition,
        tasks=tuple(live_task(r) for r in rows),
    )


def live_task(row: Mapping[str, str]) -> LiveTask:
    """A task listing row → LiveTask."""
    exit_code = row_value(row, "ExitCode")
    return LiveTask(
        task_id=int(row_value(row, "JobTaskId") or 0),
        name=row_value(row, "Name"),
        state=TaskState.parse(row_value(row, "State") or "NA"),
        exit_code=int(exit_code) if exit_code.lstrip("-").isdigit() else None,
        output=row_value(row, "Output"),
        instance_id=int(row_value(row, "InstanceId") or 0),
        error_message=row_value(row, "ErrorMessage"),
    )


def _listed(reader: JobReader, row: Mapping[str, str]) -> LiveJob:
    return LiveJob(
        id=int(row_value(row, "Id")),
        state=JobState.parse(row_value(row, "State")),
        name=row_value(row, "Name"),
        owner=row_value(row, "Owner"),
        client_source=row_value(row, "ClientSource"),
        change_time=reader.parse_time(row_value(row, "ChangeTime")),
        submit_time=reader.parse_time(row_value(row, "SubmitTime")),
        start_time=reader.parse_time(row_value(row, "StartTime")),
        end_time=reader.parse_time(row_value(row, "EndTime")),
        requeue_count=int(row_value(row, "RequeueCount") or 0),
        error_message=row_value(row, "ErrorMessage"),
        task_counts=tuple(
            (state, int(row_value(row, name) or 0))
            for state, name in COUNTERS.items()
            if (row_value(row, name) or "0") != "0"
        )
        + (
            (("Total", int(row_value(row, "TaskCount") or 0)),)
            if row_value(row, "TaskCount")
            else ()
        ),
    )


def _digest(job: LiveJob) -> str | None:
    marker = parse_marker(job.client_source)
    return job.custom(DIGEST_TAG) or (marker.digest if marker else None)


def _total(row: Mapping[str, str]) -> tuple[tuple[str, int], ...]:
    total = row_value(row, "TaskCount")
    return (("Total", int(total)),) if total else ()


def row_value(row: Mapping[str, str], name: str) -> str:
    """A REST row's value by property name, case-insensitively ("" when absent)."""
    if name in row:
        return row[name] or ""
    if isinstance(row, PropertyMap):  # its `in` already ignored case: the name is absent
        return ""
    lowered = name.lower()
    return next((v or "" for k, v in row.items() if k.lower() == lowered), "")
