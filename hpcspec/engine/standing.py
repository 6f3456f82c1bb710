"""How a key stands when its spec did not change, or it has no live job (DESIGN.md §3).

The planner's rows of the lifecycle table that are about the job's life, not its spec: no
live job, or one hpcspec cancelled on purpose (`lifecycle.cancelled_by_hpcspec`) → create
(but a job `hpcspec cancel KEY` stopped stays so, unmet, until `--rerun KEY`);
Configuring → submit; Failed → requeue while retries are left, else unmet; Canceled outside
hpcspec → unmet, with the command that re-runs it; drift in the managed properties (read in
the job listing) → an update where the state allows, unmet where it does not; a spec changed
only in `ignoreChanges` fields → the live values stay. Also `change_for`, the one way a
`Change` is built from a desired and a live job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hpcspec.engine.diff import drift_diffs, job_diffs
from hpcspec.engine.identity import live_digest
from hpcspec.engine.lifecycle import CancelledByHpcspec, cancelled_by_hpcspec
from hpcspec.engine.plan import (
    Action,
    Change,
    DiffSection,
    FieldDiff,
    Reason,
    ReasonCode,
    Unmet,
)
from hpcspec.engine.rescue import counted_reruns
from hpcspec.hpcpack.definition import JobDefinition
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState, TaskState
from hpcspec.manifest.fingerprint import spec_digests
from hpcspec.manifest.resolve import DesiredJob, DesiredState


def absent(desired: DesiredJob, job: LiveJob | None, gone: CancelledByHpcspec | None) -> Change:
    """No live job for the key, or only one hpcspec cancelled on purpose: create it."""
    why = (
        f"job {job.id} was {gone.describe()}"
        if job is not None and gone is not None
        else "no live job for this key"
    )
    if desired.state is DesiredState.CANCELED:
        return change_for(
            desired,
            job,
            Action.NO_OP,
            Reason(ReasonCode.WANTED_CANCELED, f"state: canceled; {why}"),
        )
    # Everything the new job will have, as diffs from nothing, for reviewers.
    created = (
        *job_diffs(desired.definition, JobDefinition(), JobState.Configuring, task_extras=True),
        *job_settings(desired),
    )
    code = ReasonCode.NEW if gone is None else ReasonCode.DESTROYED
    return change_for(desired, job, Action.CREATE, Reason(code, why), diffs=created)


def job_settings(desired: DesiredJob) -> list[FieldDiff]:
    """What a new job carries besides its HPC Pack spec: run-as user, job dependencies,
    retries, a state other than submitted (for reviewers of a create)."""
    out = []
    if desired.definition.run_as is not None:
        user = desired.definition.run_as.user_name
        out.append(FieldDiff(DiffSection.RUN_AS, "userName", None, user))
    if desired.depends_on:
        out.append(FieldDiff(DiffSection.JOB, "dependsOn", None, ", ".join(desired.depends_on)))
    if desired.retries:
        out.append(FieldDiff(DiffSection.JOB, "retries", None, str(desired.retries), literal=True))
    if desired.state is not DesiredState.SUBMITTED:
        out.append(FieldDiff(DiffSection.JOB, "state", None, desired.state.value, literal=True))
    return out


def ignored(desired: DesiredJob, diff: FieldDiff) -> bool:
    return diff.section is DiffSection.PROPERTY and diff.name in desired.unmanaged


def only_ignored(desired: DesiredJob, job: LiveJob, diffs: list[FieldDiff]) -> Change:
    """The spec changed only in fields plan leaves alone (`ignoreChanges`, a defaulted Name):
    the live values stay; while the job can still be edited, its digest is brought up to date
    so the next plan reads nothing more."""
    names = {d.name for d in diffs}
    parts = []
    if names - desired.ignore_changes:  # the defaulted Name: a `moved:` key's old default
        parts.append("the default Name (a job is named after its key at creation, then left)")
    if names & desired.ignore_changes:
        parts.append(f"ignoreChanges fields ({', '.join(sorted(names & desired.ignore_changes))})")
    why = Reason(
        ReasonCode.IGNORED_FIELDS,
        f"the spec changed only in {' and '.join(parts)}: the live values stay",
    )
    if job.state.is_terminal:  # as if unchanged: a job cancelled or failed is still unmet
        change = unchanged(desired, job)
        return replace(change, reasons=(why, *change.reasons))
    return change_for(desired, job, Action.UPDATE, why)


def parents_moved(desired: DesiredJob, job: LiveJob, moved: Mapping[str, str]) -> Change | None:
    """The spec changed only in the keys of its parents, renamed by `moved:` (their jobs are
    the same): nothing to do but, while the job can be edited, bring its digest up to date —
    as for the moved job itself. None when anything else changed."""
    renamed = {new: old for old, new in moved.items()}
    if not any(p in renamed for p in desired.depends_on):
        return None
    before = spec_digests(desired.definition, tuple(renamed.get(p, p) for p in desired.depends_on))
    if live_digest(job) not in before:
        return None
    pairs = ", ".join(f"{renamed[p]} → {p}" for p in desired.depends_on if p in renamed)
    why = (
        f"only its parents' keys changed, by moved: ({pairs}); job {job.id} waits on the same jobs"
    )
    if job.state.is_terminal:  # its digest can no longer be written: judged as unchanged
        change = unchanged(desired, job)
        keep = Reason(ReasonCode.PARENTS_MOVED, f"{why}; keep the moved: entry")
        return replace(change, reasons=(keep, *change.reasons))
    return change_for(desired, job, Action.UPDATE, Reason(ReasonCode.PARENTS_MOVED, why))


def unchanged(desired: DesiredJob, job: LiveJob) -> Change:
    drift = (
        drift_diffs(desired.definition, job.listed, job.state, desired.unmanaged)
        if job.listed is not None
        else []
    )
    if drift and not (job.state.is_canceled or job.state is JobState.Failed):
        return drifted(desired, job, drift)
    if job.state is JobState.Configuring and desired.state is DesiredState.SUBMITTED:
        return change_for(
            desired,
            job,
            Action.SUBMIT,
            Reason(ReasonCode.NOT_SUBMITTED, f"job {job.id} is Configuring; state: submitted"),
        )
    requested = cancelled_by_hpcspec(job) if job.state.is_canceled else None
    if requested is not None:  # `hpcspec cancel KEY`: stays cancelled until --rerun
        change = change_for(
            desired,
            job,
            Action.NO_OP,
            Reason(
                ReasonCode.CANCELED_BY_REQUEST,
                f"job {job.id} was {requested.describe()}; --rerun {desired.key} runs it again",
            ),
        )
        return replace(change, unmet=Unmet.CANCELED)
    if job.state.is_canceled:
        said = f" ({job.error_message})" if job.error_message else ""
        change = change_for(
            desired,
            job,
            Action.NO_OP,
            Reason(
                ReasonCode.CANCELED_OUTSIDE,
                f"job {job.id} was canceled outside hpcspec{said}; --rerun {desired.key} "
                "runs it again",
            ),
        )
        return replace(change, unmet=Unmet.CANCELED_OUTSIDE)
    if job.state is JobState.Failed:
        if job.requeue_count < desired.retries:
            change = change_for(
                desired,
                job,
                Action.REQUEUE,
                Reason(
                    ReasonCode.RETRY,
                    f"job {job.id} Failed; requeue {job.requeue_count + 1} of "
                    f"{desired.retries} (retries)",
                ),
            )
            return replace(change, failed_only=counted_reruns(job))
        change = change_for(
            desired,
            job,
            Action.NO_OP,
            Reason(
                ReasonCode.RETRIES_EXHAUSTED,
                f"job {job.id} Failed after {job.requeue_count} requeue(s) "
                f"(retries: {desired.retries}); --rerun {desired.key} runs it again",
            ),
        )
        return replace(change, unmet=Unmet.FAILED)
    return change_for(
        desired,
        job,
        Action.NO_OP,
        Reason(ReasonCode.UNCHANGED, f"job {job.id} is {job.state.name} and matches the spec"),
    )


def drifted(desired: DesiredJob, job: LiveJob, drift: list[FieldDiff]) -> Change:
    """Managed fields someone changed on the cluster: restored where the state allows."""
    fixable = tuple(d for d in drift if d.allowed_now and not job.state.is_terminal)
    stuck = [d for d in drift if d not in fixable]
    reasons = [
        Reason(ReasonCode.DRIFT, f"drift: {d.name} {d.before or 'absent'} → {d.after}")
        for d in drift
    ]
    if stuck:
        names = ", ".join(d.name for d in stuck)
        where = "has ended" if job.state.is_terminal else f"is {job.state.name}"
        reasons.append(
            Reason(
                ReasonCode.NOT_SETTABLE,
                f"job {job.id} {where}: HPC Pack does not let {names} change now; "
                f"--rerun {desired.key} starts a new job with the manifest's values "
                "(or list them in ignoreChanges)",
            )
        )
    if fixable and job.state is JobState.Configuring and desired.state is DesiredState.SUBMITTED:
        reasons.append(Reason(ReasonCode.NOT_SUBMITTED, f"job {job.id} is Configuring: submit it"))
    action = Action.UPDATE if fixable else Action.NO_OP
    change = change_for(desired, job, action, *reasons, diffs=(*fixable, *stuck))
    return replace(change, unmet=Unmet.DRIFTED) if stuck else change


def seen_change_time(job: LiveJob) -> str | None:
    """The job's ChangeTime as a plan records it (a saved plan compares it again)."""
    return job.change_time.isoformat() if job.change_time else None


def change_for(
    desired: DesiredJob,
    job: LiveJob | None,
    action: Action,
    *reasons: Reason,
    diffs: tuple[FieldDiff, ...] = (),
) -> Change:
    return Change(
        key=desired.key,
        action=action,
        reasons=reasons,
        diffs=diffs,
        live_id=job.id if job else None,
        live_state=job.state.name if job else None,
        live_change_time=seen_change_time(job) if job else None,
        live_digest=live_digest(job) if job else None,
        desired_digest=desired.digest,
        running_tasks=len(job.tasks_in(TaskState.Running, TaskState.Dispatching)) if job else 0,
    )
