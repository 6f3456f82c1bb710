"""Drift: user-owned fields someone changed on the cluster since the last apply (read-only).

For every job key whose current live job still carries the manifest's digest (so the last
apply wrote exactly this spec), read the job whole (its tasks' env and custom properties too,
two requests per task) and compare desired with live using the planner's own `job_diffs`,
and the job's `dependsOn` with its ParentJobIds (`parent_diffs`).
Only fields the manifest sets are compared — the server's defaults, scheduler-owned fields
(state, times, counters, allocated nodes, requeue count, task exit codes and output) and the
fields plan leaves to the cluster's admins (`ignoreChanges`, a defaulted Name) never count.
A job whose digest differs is not drift but a pending change: `hpcspec plan` shows it.

Read-only by construction: `detect_drift` takes only the reading protocol `WholeJobReader`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hpcspec.engine.diff import job_diffs
from hpcspec.engine.discovery import choose_current, list_stack
from hpcspec.engine.identity import DIGEST_TAG, live_digest
from hpcspec.engine.plan import DiffSection, FieldDiff
from hpcspec.engine.protocols import WholeJobReader
from hpcspec.engine.standing import ignored as unmanaged
from hpcspec.hpcpack.live import LiveJob
from hpcspec.manifest.resolve import ResolvedStack


@dataclass(frozen=True)
class JobDrift:
    """One job key: its live job and the user-owned fields that differ (live vs desired)."""

    key: str
    job_id: int | None
    state: str
    diffs: tuple[FieldDiff, ...] = ()
    skipped: str = ""  # why it was not compared (no live job, spec changed since)

    @property
    def drifted(self) -> bool:
        return bool(self.diffs)


@dataclass(frozen=True)
class DriftReport:
    stack: str
    jobs: tuple[JobDrift, ...]

    @property
    def drifted(self) -> bool:
        return any(j.drifted for j in self.jobs)


def detect_drift(
    reader: WholeJobReader, stack: ResolvedStack, *, ignore: Iterable[str] = ()
) -> DriftReport:
    """Compare each job key's live job with the spec it was applied from.

    `ignore` holds `KEY.FIELD` (or `*.FIELD`) names of known drift to leave out this run.
    """
    ignored = {i.lower() for i in ignore}
    listed = list_stack(
        reader, stack.stack, list(stack.jobs), adopted=stack.adopted, moved=stack.moved
    ).by_key
    jobs: list[JobDrift] = []
    for key, desired in stack.jobs.items():
        found = listed.get(key)
        if not found:
            jobs.append(JobDrift(key, None, "absent", skipped="no live job"))
            continue
        live = choose_current(found)[0]
        state = live.state.name or ""
        if live_digest(live) != desired.digest:
            carried = dict(reader.job_custom_properties(live.id)).get(DIGEST_TAG)
            # An adopted job hpcspec could not tag carries no digest: its fields are compared.
            unstamped = carried is None and stack.adopted.get(key) == live.id
            if carried != desired.digest and not unstamped:
                jobs.append(
                    JobDrift(key, live.id, state, skipped="the manifest changed: see hpcspec plan")
                )
                continue
        # Whole: a task's env and custom properties are fields the manifest sets too.
        whole = reader.read_whole_job(live.id).definition
        assert whole is not None
        compared = [
            *job_diffs(desired.definition, whole, live.state, task_extras=True),
            *parent_diffs(desired.depends_on, whole.parent_job_ids, listed),
        ]
        diffs = [
            d
            for d in compared
            if not unmanaged(desired, d)  # left to the cluster's admins, as in plan
            and f"{key}.{d.name}".lower() not in ignored
            and f"*.{d.name}".lower() not in ignored
        ]
        jobs.append(JobDrift(key, live.id, state, tuple(diffs)))
    return DriftReport(stack.stack, tuple(jobs))


def parent_diffs(
    depends_on: Sequence[str], parent_ids: Sequence[int], listed: Mapping[str, Sequence[LiveJob]]
) -> list[FieldDiff]:
    """`dependsOn` as the job's ParentJobIds hold it, each parent named by the key whose job
    it is (any of the key's jobs: a parent that ran again keeps its child's old id), others as
    `job N`; a difference when the keys differ from the manifest's."""
    owners = {job.id: key for key, jobs in listed.items() for job in jobs}
    live = sorted({owners.get(i, f"job {i}") for i in parent_ids})
    wanted = sorted(set(depends_on))
    if live == wanted:
        return []
    shown = ", ".join(live) or None
    return [
        FieldDiff(DiffSection.JOB, "dependsOn", shown, ", ".join(wanted) or None, allowed_now=False)
    ]
