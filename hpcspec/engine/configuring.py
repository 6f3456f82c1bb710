"""The plan of a Configuring job read whole (`discovery.read_whole`): a job apply would
submit as it is, so what was edited on it by hand since the last apply is planned, never
submitted silently.

The comparison is drift's (`drift.hand_edits`: every field the manifest sets, tasks' env and
custom properties included); a difference is planned as a Configuring job's changes are — an
update in place, or a replace for a removed (added by hand) task or a job-XML-only field —
and the change records a digest of what it saw (`drift.whole_digest`), which a saved plan
compares again before apply acts (`plan_binding.check_saved`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.drift import hand_edits, whole_digest
from hpcspec.engine.plan import Action, Change, DiffSection, FieldDiff, Reason, ReasonCode
from hpcspec.engine.standing import change_for
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import DesiredJob, DesiredState


def stack_jobs(live: LiveStack) -> dict[str, tuple[LiveJob, ...]]:
    """Every listed job of the stack by key (its parents' owners, `drift.parent_diffs`)."""
    keys = {*live.current, *live.history, *live.duplicates, *live.orphans}
    return {
        key: tuple(j for j in (live.current.get(key), live.orphans.get(key)) if j is not None)
        + live.history.get(key, ())
        + live.duplicates.get(key, ())
        for key in keys
    }


def seen_whole(change: Change, job: LiveJob | None) -> Change:
    """A change of a job read whole records what the plan saw of it (`drift.whole_digest`)."""
    if job is None or job.definition is None or change.live_id != job.id:
        return change
    return replace(change, live_content=whole_digest(job.definition))


def hand_edited(
    desired: DesiredJob, job: LiveJob, whole: Mapping[str, Sequence[LiveJob]] | None
) -> Change | None:
    """The change for a Configuring job read whole whose digest says it is current but that
    was edited by hand since (None: it was not, or was not read whole); `whole`: the stack's
    jobs by key (its parents' owners)."""
    if whole is None or job.definition is None or job.state is not JobState.Configuring:
        return None
    edits = tuple(hand_edits(desired, job.definition, job.state, whole))
    if not edits:
        return None
    why = Reason(
        ReasonCode.DRIFT,
        f"job {job.id} was edited on the cluster since the last apply: "
        + ", ".join(sorted({d.name for d in edits})),
    )
    return configuring(desired, job, edits, why)


def configuring(
    desired: DesiredJob, job: LiveJob, diffs: tuple[FieldDiff, ...], spec: Reason
) -> Change:
    """A Configuring job that differs from the manifest takes every change in place, but for
    a removed task, other parents, another task order or a job-XML-only field: a new job
    replaces it."""
    removed = [
        d for d in diffs if d.section is DiffSection.TASK and d.after is None and "/" not in d.name
    ]
    xml_only = sorted({d.name for d in diffs if not d.allowed_now})
    replaced_because: Reason | None = None
    if removed:
        replaced_because = Reason(
            ReasonCode.TASK_REMOVED,
            f"HPC Pack cannot remove a task ({removed[0].name}): a new job replaces this "
            "unsubmitted one",
        )
    elif any(d.section is DiffSection.JOB and d.name == "dependsOn" for d in diffs):
        # Its parents are set when a job is created (apply knows their ids then).
        replaced_because = Reason(
            ReasonCode.NOT_SETTABLE,
            "its parent jobs differ from dependsOn: a new job, created with the manifest's "
            "parents, replaces this unsubmitted one",
        )
    elif any(d.section is DiffSection.JOB and d.name == "taskOrder" for d in diffs):
        replaced_because = Reason(
            ReasonCode.NOT_SETTABLE,
            "HPC Pack cannot reorder a job's tasks: a new job, with the manifest's order, "
            "replaces this unsubmitted one",
        )
    elif xml_only:  # only job XML carries them (catalogue `rest`): a new job replaces it
        replaced_because = Reason(
            ReasonCode.NOT_SETTABLE,
            f"the REST API cannot change {', '.join(xml_only)} (job XML only): a new job "
            "replaces this unsubmitted one",
        )
    if replaced_because is not None:
        return change_for(desired, job, Action.REPLACE, spec, replaced_because, diffs=diffs)
    then = " and submit it" if desired.state is DesiredState.SUBMITTED else ""
    return change_for(
        desired,
        job,
        Action.UPDATE,
        spec,
        Reason(ReasonCode.CONFIGURING, f"job {job.id} is still Configuring: update it{then}"),
        diffs=diffs,
    )
