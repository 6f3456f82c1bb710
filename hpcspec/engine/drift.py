"""Drift: user-owned fields someone changed on the cluster since the last apply (read-only).

For every job key whose current live job still carries the manifest's digest (so the last
apply wrote exactly this spec), read the job whole (its tasks' env and custom properties too,
two requests per task) and compare desired with live by `hand_edits` — the planner's own
`job_diffs`, and the job's `dependsOn` with its ParentJobIds (`parent_diffs`) — the one rule
the plan also uses for a Configuring job (`configuring.py`).
Only fields the manifest sets are compared — the server's defaults, scheduler-owned fields
(state, times, counters, allocated nodes, requeue count, task exit codes and output) and the
fields plan leaves to the cluster's admins (`ignoreChanges`, a defaulted Name) never count.
A job whose digest differs is not drift but a pending change: `hpcspec plan` shows it.

Read-only by construction: `detect_drift` takes only the reading protocol `WholeJobReader`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hpcspec.engine.diff import job_diffs, looks_secret, secret_names
from hpcspec.engine.discovery import choose_current, list_stack
from hpcspec.engine.identity import DIGEST_TAG, live_digest
from hpcspec.engine.plan import DiffSection, FieldDiff
from hpcspec.engine.protocols import WholeJobReader
from hpcspec.engine.standing import ignored as unmanaged
from hpcspec.hpcpack.definition import JobDefinition
from hpcspec.hpcpack.live import LiveJob, custom_value
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import DesiredJob, ResolvedStack


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
        if not desired.made_from(live_digest(live)):
            tags = reader.job_custom_properties(live.id)  # a server may spell names its way
            carried = custom_value(tags.items(), DIGEST_TAG)
            # An adopted job hpcspec could not tag carries no digest: its fields are compared.
            unstamped = carried is None and stack.adopted.get(key) == live.id
            if not desired.made_from(carried) and not unstamped:
                jobs.append(
                    JobDrift(key, live.id, state, skipped="the manifest changed: see hpcspec plan")
                )
                continue
        # Whole: a task's env and custom properties are fields the manifest sets too.
        whole = reader.read_whole_job(live.id).definition
        assert whole is not None
        diffs = [
            d
            for d in hand_edits(desired, whole, live.state, listed)
            if f"{key}.{d.name}".lower() not in ignored and f"*.{d.name}".lower() not in ignored
        ]
        jobs.append(JobDrift(key, live.id, state, tuple(diffs)))
    return DriftReport(stack.stack, tuple(jobs))


def hand_edits(
    desired: DesiredJob,
    whole: JobDefinition,
    state: JobState,
    jobs_of: Mapping[str, Sequence[LiveJob]],
) -> list[FieldDiff]:
    """The one comparison of a job read whole with its manifest entry (drift, and the plan of
    a Configuring job before apply submits it): every field the manifest sets, tasks' env and
    custom properties and `dependsOn` included, except those left to the cluster's admins
    (`ignoreChanges`, a defaulted Name). `jobs_of`: every listed job of the stack, by key."""
    compared = [
        *job_diffs(desired.definition, whole, state, task_extras=True),
        *parent_diffs(desired.depends_on, whole.parent_job_ids, jobs_of),
    ]
    return [d for d in compared if not unmanaged(desired, d)]


def whole_digest(whole: JobDefinition) -> str:
    """`sha256:<hex>` of a job read whole — properties, custom properties, env, parents and
    each task's fields, env and custom properties — as a saved plan records what it saw of a
    Configuring job (task edits do not move the job's ChangeTime). A value that came from a
    secret, or whose name looks secret, counts by its name only: no hash of a secret is ever
    saved."""
    secret = secret_names(whole)

    def env(pairs: Iterable[tuple[str, object]]) -> list[list[str]]:
        return sorted(
            [name, "(sensitive)" if looks_secret(name, secret) else str(value)]
            for name, value in pairs
        )

    view = {
        "properties": sorted([n, repr(v)] for n, v in whole.properties),
        "custom": sorted([n, v] for n, v in whole.custom_properties),
        "env": env(whole.env),
        "parents": sorted(whole.parent_job_ids),
        "tasks": [
            {
                "name": t.name,
                "commandLine": t.command_line,
                "workDirectory": t.work_directory,
                "dependsOn": list(t.depends_on),
                "sweep": repr(t.sweep),
                "properties": sorted([n, repr(v)] for n, v in t.properties),
                "custom": sorted([n, v] for n, v in t.custom_properties),
                "env": env(t.env),
            }
            for t in whole.tasks
        ],
    }
    text = json.dumps(view, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


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
