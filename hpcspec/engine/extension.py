"""`onSpecChange: extend`: whether a changed spec only adds points, and the job of those points.

Called by the planner for a key whose live job ended (docs/logs-and-rescue.md, "Extend"). An
ended job accepts no new tasks (HPC Pack's modify-by-state rules: tasks are added only while
a job is Configuring, `reference/hpcpack/derived/job-modify-rules.json`), so the new points
run in a NEW job of the same key: it holds only the sweep values past the covered end and
the tasks (matrix rows) the covered job lacked, and it is stamped with the FULL spec's digest,
so it becomes the key's one current job and the next plan is a no-op. It also records what
the key now covers (`hpcspec.covers`: every task and its sweep range), so a later extension
is checked against everything run so far, not against the new points alone.

Pure: a change is an extension only when the desired spec, cut back to the covered shape,
has exactly the covered job's digest — so nothing else (a command, a property, task env
that discovery does not read back) changed — and no dependency crosses between covered and
new tasks. Anything else falls back to a rerun, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import replace

from hpcspec.engine.identity import live_digest
from hpcspec.engine.plan import Action, Change, Extension, FieldDiff, Reason, ReasonCode
from hpcspec.engine.standing import change_for
from hpcspec.hpcpack.definition import Sweep, TaskDefinition, pairs
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.hpcpack.sweep import instance_count
from hpcspec.manifest.fingerprint import spec_digests
from hpcspec.manifest.resolve import DesiredJob

COVERS_TAG = "hpcspec.covers"  # JSON [[task, [start, end, increment] | null], ...]
EXTENDS_TAG = "hpcspec.extends"  # the id of the job this one extends

Shape = tuple[tuple[str, Sweep | None], ...]  # every task a key's jobs ran, with its range


def covered_shape(job: LiveJob) -> Shape | None:
    """What the key's jobs have run: an extension job's recorded `hpcspec.covers`, else the
    job's own tasks (None when its details were not read or the record is unreadable)."""
    recorded = job.custom(COVERS_TAG)
    if recorded:
        try:
            return tuple(
                (str(name), Sweep(*map(int, sweep)) if sweep else None)
                for name, sweep in json.loads(recorded)
            )
        except (ValueError, TypeError):
            return None
    if job.definition is None:
        return None
    return tuple((t.name, t.sweep) for t in job.definition.tasks)


def shape_text(tasks: tuple[TaskDefinition, ...]) -> str:
    """The `hpcspec.covers` value of a spec's tasks."""
    return json.dumps(
        [
            [t.name, [t.sweep.start, t.sweep.end, t.sweep.increment] if t.sweep else None]
            for t in tasks
        ],
        separators=(",", ":"),
    )


def find_extension(desired: DesiredJob, job: LiveJob) -> Extension | str:
    """The new points of `desired` over what `job` covers, or why the change is not only
    that (the planner then reruns)."""
    if job.state is not JobState.Finished:
        return f"job {job.id} is {job.state.name}: extending it would hide its unfinished points"
    shape = covered_shape(job)
    if shape is None:
        return f"what job {job.id} covers could not be read"
    covered = {name.lower(): sweep for name, sweep in shape}
    cut: list[TaskDefinition] = []
    starts: list[tuple[str, int | None]] = []
    new = 0
    for task in desired.definition.tasks:
        name = task.name.lower()
        if name not in covered:
            starts.append((task.name, None))
            new += task.sweep.count if task.sweep else 1
            continue
        old = covered[name]
        if task.sweep is None or old is None or task.sweep == old:
            cut.append(task)
            continue
        if (task.sweep.start, task.sweep.increment) != (old.start, old.increment):
            return f"the sweep of {task.name} changed its start or step, not only its end"
        if task.sweep.end < old.end:
            return f"the sweep of {task.name} shrank ({old.end} → {task.sweep.end})"
        # The value after the last one that ran: `end` need not be a value (1..20 step 3: 19).
        first = old.start + old.count * old.increment
        cut.append(replace(task, sweep=old))
        gained = instance_count(first, task.sweep.end, task.sweep.increment)
        if gained:
            starts.append((task.name, first))
            new += gained
    if len(cut) != len(shape):
        return "a task was removed"
    if not starts:
        return "no point was added"
    before = replace(desired.definition, tasks=tuple(cut))
    if live_digest(job) not in spec_digests(before, desired.depends_on):
        return "more than sweep ends and new tasks changed"
    crossing = _crossing_dependency(desired.definition.tasks, {n.lower() for n, _ in starts})
    if crossing:
        return crossing
    total = sum(t.sweep.count if t.sweep else 1 for t in desired.definition.tasks)
    return Extension(points=new, total=total, starts=tuple(starts))


def _crossing_dependency(tasks: tuple[TaskDefinition, ...], extended: set[str]) -> str:
    """A dependency between a task that runs again and one that does not: the new job could
    not hold it (a task depends only on tasks of its own job)."""
    for task in tasks:
        for parent in task.depends_on:
            inside, parent_inside = task.name.lower() in extended, parent.lower() in extended
            if inside != parent_inside:
                return f"task {task.name} depends on {parent}: the new points would need it rerun"
    return ""


def extension_job(desired: DesiredJob, extension: Extension, extends: int) -> DesiredJob:
    """The job apply creates: the new points alone, the full spec's digest, and what the key
    covers from now on."""
    starts = {name.lower(): start for name, start in extension.starts}
    tasks = []
    for task in desired.definition.tasks:
        name = task.name.lower()
        if name not in starts:
            continue
        start = starts[name]
        if start is not None and task.sweep is not None:
            task = replace(task, sweep=replace(task.sweep, start=start))
        tasks.append(task)
    tags = {COVERS_TAG: shape_text(desired.definition.tasks), EXTENDS_TAG: str(extends)}
    custom = pairs({**dict(desired.definition.custom_properties), **tags})
    definition = replace(desired.definition, tasks=tuple(tasks), custom_properties=custom)
    return replace(desired, definition=definition)


def extend_or_rerun(
    desired: DesiredJob,
    job: LiveJob,
    diffs: tuple[FieldDiff, ...],
    spec: Reason,
    ended: Reason,
) -> Change:
    """The change `onSpecChange: extend` makes of an ended job's changed spec: an EXTEND of
    the new points, or a RERUN saying why it is not one."""
    found = find_extension(desired, job)
    if isinstance(found, Extension):
        why = Reason(
            ReasonCode.EXTENSION,
            f"onSpecChange: extend: only the {found.points} new point(s) run, in a new job; "
            f"job {job.id} keeps the {found.total - found.points} it ran",
        )
        change = change_for(desired, job, Action.EXTEND, spec, ended, why, diffs=diffs)
        return replace(change, extension=found)
    why = Reason(
        ReasonCode.NOT_AN_EXTENSION,
        f"onSpecChange: extend reruns every point: {found}",
    )
    return change_for(desired, job, Action.RERUN, spec, ended, why, diffs=diffs)
