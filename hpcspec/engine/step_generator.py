"""Plan → steps: every rule about which steps a change takes, and in which order (pure).

Per job key, in order: cancel the key's duplicate live jobs; then by action —

- create / rerun / extend: create (job XML or REST; an extend's job holds the new points
  alone, `extension.py`), mark; if the manifest wants it submitted, settle the race with
  other appliers, submit, and check the race once more;
- replace: create-before-destroy — the create steps (created, marked, submitted, checked),
  then the live job is cancelled (with a message naming its heir), so a failed create leaves
  the old job alone; `onSpecChange: replace-cancel-first` keeps the old order (cancel, then
  create) for jobs that must never overlap;
- update: the update; a Configuring job the manifest wants submitted is then settled,
  submitted and checked again;
- submit: settle the race, submit, check again;
- requeue (retries): the failed and canceled tasks run again (`RequeueFailed`); cancel:
  cancel.

A key `moved:` from another first gets a rekey step (its new key recorded on the job).
A child replaced because its parent is (`dependents`) is an ordinary replace: its steps run in
the wave after its parent's, so its create carries the new parent's id, and its old job's
cancel is done once HPC Pack cancelled it first (`exactly_once.cancel_once`).

Refused (blocked) and unchanged keys get no steps: the executor reports them as they are.
A destroy plan cancels every live job of each key, duplicates included, as `hpcspec destroy`.
The plans of `hpcspec requeue` and `hpcspec cancel` become one step per key, or one per task
(`rescue_steps`).
"""

from __future__ import annotations

from hpcspec.engine.extension import extension_job
from hpcspec.engine.lifecycle import CancelReason
from hpcspec.engine.plan import Action, Change, Plan
from hpcspec.engine.steps import (
    ApplyOptions,
    Cancel,
    CancelDuplicate,
    CancelTask,
    Create,
    CreateMethod,
    CreateViaRest,
    CreateViaXml,
    JobSteps,
    Mark,
    RecheckRace,
    Rekey,
    Requeue,
    RequeueFailed,
    SettleRace,
    Step,
    Submit,
    Update,
)
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest.resolve import DesiredJob, DesiredState, ResolvedStack, SpecChangePolicy


def generate_steps(plan: Plan, stack: ResolvedStack, options: ApplyOptions) -> list[JobSteps]:
    """The steps of every change apply carries out, in the plan's order."""
    return [
        job_steps(change, stack.jobs.get(change.key), stack.stack, options)
        for change in plan.changes
        if change.is_change and not change.blocks
    ]


def destroy_steps(plan: Plan) -> list[JobSteps]:
    """A destroy plan's steps: each key's live jobs (duplicates first) cancelled."""
    out = []
    for change in plan.changes:
        assert change.live_id is not None, f"{change.key}: destroy cancels live jobs"
        ids = (*change.duplicates, change.live_id)
        steps = tuple(Cancel(change.key, job_id, CancelReason.DESTROYED) for job_id in ids)
        out.append(JobSteps(change.key, change.action, steps, live_id=change.live_id))
    return out


def rescue_steps(plan: Plan) -> list[JobSteps]:
    """The steps of a `hpcspec requeue` or `hpcspec cancel` plan: per key, its job's requeue
    (all of it, or its failed tasks only), or its cancel (the job, or each named task)."""
    out = []
    for change in plan.changes:
        if not change.is_change or change.blocks:
            continue
        key, live = change.key, change.live_id
        assert live is not None, f"{key}: {change.action.value} acts on the live job"
        steps: list[Step]
        if change.action is Action.REQUEUE:
            steps = [RequeueFailed(key, live) if change.failed_only else Requeue(key, live)]
        elif change.action is Action.CANCEL:
            steps = [CancelTask(key, live, task) for task in change.tasks]
            steps = steps or [Cancel(key, live, CancelReason.REQUESTED)]
        else:
            raise ValueError(f"{key}: {change.action.value} is neither a requeue nor a cancel")
        out.append(JobSteps(key, change.action, tuple(steps), live_id=live))
    return out


def job_steps(
    change: Change, desired: DesiredJob | None, stack: str, options: ApplyOptions
) -> JobSteps:
    """The ordered steps of one change."""
    key, live = change.key, change.live_id
    steps: list[Step] = [CancelDuplicate(key, job_id, live) for job_id in change.duplicates]
    if change.moved_from is not None and live is not None:
        configuring = change.live_state == JobState.Configuring.name
        steps.append(Rekey(key, live, stack, change.live_digest or "", configuring))
    match change.action:
        case Action.CREATE | Action.RERUN:
            steps += _create(_wanted(change, desired), stack, options, replacing=live)
        case Action.EXTEND:
            assert live is not None and change.extension is not None, f"{key}: what to extend"
            job = extension_job(_wanted(change, desired), change.extension, live)
            steps += _create(job, stack, options, replacing=live)
        case Action.REPLACE:
            assert live is not None, f"{key}: a replace needs the live job"
            job = _wanted(change, desired)
            cancel = Cancel(key, live, CancelReason.REPLACED)
            if job.on_spec_change is SpecChangePolicy.REPLACE_CANCEL_FIRST:
                steps += [cancel, *_create(job, stack, options, replacing=live)]
            else:  # create-before-destroy: a failed create leaves the old job alone
                steps += [*_create(job, stack, options, replacing=live), cancel]
        case Action.UPDATE:
            job = _wanted(change, desired)
            steps.append(Update(key, stack, job, change))
            if change.live_state == JobState.Configuring.name:
                steps += _submit(job, superseded=live)
        case Action.SUBMIT:
            steps += _submit(_wanted(change, desired), superseded=live)
        case Action.REQUEUE:
            assert live is not None, f"{key}: a requeue needs the live job"
            steps.append(RequeueFailed(key, live))  # retries: what `requeue --failed-only` does
        case Action.CANCEL:
            assert live is not None, f"{key}: a cancel needs the live job"
            why = CancelReason.REMOVED if desired is None else CancelReason.WANTED_CANCELED
            steps.append(Cancel(key, live, why))
        case Action.NO_OP:
            pass
    depends_on = desired.depends_on if desired is not None else ()
    return JobSteps(key, change.action, tuple(steps), live_id=live, depends_on=depends_on)


def _wanted(change: Change, desired: DesiredJob | None) -> DesiredJob:
    if desired is None:
        raise ValueError(f"{change.key}: {change.action.value} needs the job in the manifest")
    return desired


def _create(
    job: DesiredJob, stack: str, options: ApplyOptions, *, replacing: int | None
) -> list[Step]:
    kind: type[Create] = CreateViaXml if options.via is CreateMethod.XML else CreateViaRest
    steps: list[Step] = [
        kind(job.key, stack, job, options.source),
        Mark(job.key, stack, job, options.via),
    ]
    # The job a new one replaces (or reruns next to) is never its rival in the race.
    return steps + _submit(job, superseded=replacing)


def _submit(job: DesiredJob, *, superseded: int | None) -> list[Step]:
    if job.state is not DesiredState.SUBMITTED:
        return []
    return [
        SettleRace(job.key, superseded),
        Submit(job.key, job.definition.run_as),
        RecheckRace(job.key, superseded),
    ]
