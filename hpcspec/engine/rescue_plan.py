"""`hpcspec requeue` and `hpcspec cancel`: one key's rescue planned, then run by the executor.

    requeue  one listing → the key's current job (as status chooses it) → with --failed-only,
             one listing of its Failed and Canceled tasks → a plan of one REQUEUE change
    cancel   one listing → the key's current job → for KEY/TASK, one task listing → a plan
             of one CANCEL change (the job, or the named tasks)
    both     Planned event → confirm → `step_generator.rescue_steps` → `executor.execute`

What runs again and why is `rescue.py`'s; the plan says it before anything is sent:
`requeue (failed tasks only: 3 of 120)`, `cancel task run[3]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from hpcspec.engine.dependents import children_of, waiting_below
from hpcspec.engine.discovery import choose_current, list_stack
from hpcspec.engine.events import Observer
from hpcspec.engine.journal import stack_journal
from hpcspec.engine.pipeline import ApplyReport, Confirm, run_plan
from hpcspec.engine.plan import (
    Action,
    Change,
    FailedOnly,
    Plan,
    Reason,
    ReasonCode,
    TaskRef,
)
from hpcspec.engine.protocols import ClusterWriter
from hpcspec.engine.rescue import ENDED_REQUEUEABLE, RESCUED_STATES, RUNNING_REQUEUEABLE, reruns
from hpcspec.engine.standing import seen_change_time
from hpcspec.engine.step_generator import rescue_steps
from hpcspec.engine.steps import ApplyOptions
from hpcspec.engine.task_target import TaskTarget, check_key, no_such_task, task_label
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

# "the state of the task must be Configuring, Submitted, Queued, or Running"
# (msdocs/ischedulerjob-canceltask.md), and the states between them.
CANCELABLE_TASK = frozenset(
    {
        TaskState.Configuring,
        TaskState.Submitted,
        TaskState.Validating,
        TaskState.Queued,
        TaskState.Dispatching,
        TaskState.Running,
    }
)


def _current(
    listed: Mapping[str, Sequence[LiveJob]], stack: str, keys: Sequence[str], key: str
) -> LiveJob:
    check_key(stack, key, [*keys, *sorted(k for k in listed if k not in keys)])
    jobs = listed.get(key)
    if not jobs:
        raise HpcspecError(
            f"job key {key!r} of stack {stack!r} has no job on the cluster",
            code="no-live-job",
            hint="hpcspec apply creates it",
        )
    return choose_current(jobs)[0]


def current_job(
    reader: ClusterWriter,
    stack: str,
    keys: Sequence[str],
    key: str,
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
) -> LiveJob:
    """The key's current job (one listing; `adopted` and `moved`: the manifest's `adopt:` and
    `moved:`); an error when the key or its job is unknown."""
    listed = list_stack(reader, stack, list(keys), adopted=adopted, moved=moved).by_key
    return _current(listed, stack, keys, key)


def plan_requeue(
    reader: ClusterWriter,
    stack: str,
    keys: Sequence[str],
    key: str,
    *,
    failed_only: bool,
    cluster: str,
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
) -> Plan:
    """The requeue of one key's job: HPC Pack's job requeue, or its failed tasks only."""
    job = current_job(reader, stack, keys, key, adopted, moved)
    state = job.state
    if state is JobState.Finished:
        change = _change(key, job, Action.NO_OP, _reason_nothing(f"job {job.id} Finished"))
    elif failed_only and state in ENDED_REQUEUEABLE | RUNNING_REQUEUEABLE:
        change = _failed_only(key, job, reader.tasks_in(job.id, *RESCUED_STATES))
    elif not failed_only and state in ENDED_REQUEUEABLE:
        why = (
            f"job {job.id} is {state.name}: HPC Pack's job requeue keeps Finished tasks and "
            "tasks canceled before they ran, and runs the others again"
        )
        change = _change(key, job, Action.REQUEUE, Reason(ReasonCode.REQUESTED, why))
    else:
        hint = "wait until it has ended"
        if state in RUNNING_REQUEUEABLE:
            hint = "--failed-only runs its failed tasks again while it runs"
        raise HpcspecError(
            f"job {job.id} ({key}) is {state.name}: HPC Pack requeues only a Failed or "
            "Canceled job" + (", or a Queued or Running job's tasks" if failed_only else ""),
            code="not-requeueable",
            hint=hint,
        )
    return Plan(stack=stack, cluster=cluster, changes=(change,))


def _failed_only(key: str, job: LiveJob, failed: Sequence[LiveTask]) -> Change:
    again = reruns(job.state, failed)
    stuck = len(failed) - len(again)
    total = dict(job.task_counts).get("Total", 0)
    kept = f"; {stuck} not rerunnable (IsRerunnable: false) stay as they are" if stuck else ""
    if not again and job.state in RUNNING_REQUEUEABLE:
        return _change(
            key, job, Action.NO_OP, _reason_nothing(f"job {job.id} is {job.state.name}" + kept)
        )
    counts = {s: sum(1 for t in again if t.state is s) for s in RESCUED_STATES}
    where = "in place" if job.state in RUNNING_REQUEUEABLE else "then the job is requeued"
    why = (
        f"{counts[TaskState.Failed]} failed and {counts[TaskState.Canceled]} canceled "
        f"task(s) run again, {where}; finished tasks stay finished{kept}"
    )
    change = _change(key, job, Action.REQUEUE, Reason(ReasonCode.REQUESTED, why))
    return replace(change, failed_only=FailedOnly(len(again), total))


def plan_cancel(
    reader: ClusterWriter,
    stack: str,
    keys: Sequence[str],
    target: TaskTarget,
    *,
    cluster: str,
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
    dependents: Mapping[str, Sequence[str]] | None = None,
) -> Plan:
    """The cancel of one key's job, or of the tasks `target` names; `dependents`: each key's
    `dependsOn` (the manifest's), so the plan says which waiting jobs HPC Pack cancels too."""
    assert target.key is not None, "cancel names a job key"
    key = target.key
    listed = list_stack(reader, stack, list(keys), adopted=adopted, moved=moved).by_key
    job = _current(listed, stack, keys, key)
    if not job.state.is_alive:
        ended = f"job {job.id} is {job.state.name}: nothing to cancel"
        change = _change(key, job, Action.NO_OP, Reason(ReasonCode.ENDED, ended))
    elif target.task is None:
        why = f"job {job.id} is {job.state.name}: running tasks end Failed, waiting ones Canceled"
        change = _change(key, job, Action.CANCEL, Reason(ReasonCode.REQUESTED, why))
        current = {k: choose_current(jobs)[0] for k, jobs in listed.items() if jobs}
        waiting = waiting_below(key, children_of(dependents or {}), current)
        if waiting:  # HPC Pack cancels them too (`dependents.py`): said before it is confirmed
            also = ", ".join(f"{k} (job {current[k].id}, {current[k].state.name})" for k in waiting)
            note = Reason(
                ReasonCode.PARENT_CANCELED,
                f"HPC Pack also cancels the jobs that wait on it (dependsOn): {also}",
            )
            change = replace(change, reasons=(*change.reasons, note))
    else:
        tasks = reader.tasks_in(job.id)
        chosen = [t for t in tasks if target.selects(t)]
        if not chosen:
            no_such_task(key, job, target, tasks)
        change = _cancel_tasks(key, job, chosen, whole_sweeps=target.instance is None)
    return Plan(stack=stack, cluster=cluster, changes=(change,))


def _cancel_tasks(key: str, job: LiveJob, chosen: Sequence[LiveTask], whole_sweeps: bool) -> Change:
    """Cancel the chosen tasks still alive; a whole sweep by its master (one request)."""
    alive = [t for t in chosen if t.state in CANCELABLE_TASK]
    refs: list[TaskRef] = []
    for task in alive:
        if task.instance_id and whole_sweeps:
            if all(r.task_id != task.task_id for r in refs):
                refs.append(TaskRef(task.name, task.task_id))  # the master: every instance
        else:
            refs.append(TaskRef(task_label(task), task.task_id, task.instance_id))
    ended = len(chosen) - len(alive)
    done = f"; {ended} of the named tasks already ended" if ended else ""
    if not refs:
        why = f"every task named has ended{done}"
        return _change(key, job, Action.NO_OP, Reason(ReasonCode.ENDED, why))
    why = f"{len(alive)} task(s) of job {job.id}: running ones end Failed, waiting ones Canceled"
    change = _change(key, job, Action.CANCEL, Reason(ReasonCode.REQUESTED, why + done))
    return replace(change, tasks=tuple(refs))


def _reason_nothing(what: str) -> Reason:
    return Reason(ReasonCode.NOTHING_FAILED, f"{what}: no failed task to run again")


def _change(key: str, job: LiveJob, action: Action, *reasons: Reason) -> Change:
    return Change(
        key=key,
        action=action,
        reasons=reasons,
        live_id=job.id,
        live_state=job.state.name,
        live_change_time=seen_change_time(job),
    )


def run_rescue(
    cluster: ClusterWriter,
    plan: Plan,
    *,
    observer: Observer,
    confirm: Confirm,
    state_key: str,
    keys: Sequence[str] = (),
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
    journal_root: Path | None = None,
) -> ApplyReport:
    """Show the plan, confirm, check each job is still its key's (`still_the_job`), run the
    steps through the executor, report the verdict (`keys`, `adopted`, `moved`: as planned)."""

    def confirmed(plans: Sequence[Plan]) -> bool:
        if not confirm(plans):
            return False
        for change in plan.changes:
            if change.action is not Action.NO_OP:
                still_the_job(cluster, plan.stack, keys, change, adopted, moved)
        return True

    return run_plan(
        cluster,
        plan,
        rescue_steps(plan),
        stack_journal(state_key, plan.stack, journal_root),
        keys=[c.key for c in plan.changes],
        options=ApplyOptions(),
        observer=observer,
        confirm=confirmed,
    )


def still_the_job(
    reader: ClusterWriter,
    stack: str,
    keys: Sequence[str],
    change: Change,
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
) -> None:
    """Refuse a requeue or cancel whose job is no longer its key's current job (one more
    listing, after the confirmation): an apply replaced it since the plan, and requeuing the
    job it replaced would give the key two alive jobs. The command acts on the job its plan
    names or on nothing, never on a job it did not show."""
    now = current_job(reader, stack, keys, change.key, adopted, moved)
    if now.id == change.live_id:
        return
    what = change.action.value
    done = "requeued" if change.action is Action.REQUEUE else "cancelled"
    raise HpcspecError(
        f"job {change.live_id} is no longer {change.key}'s job: job {now.id} "
        f"({now.state.name}) took its place after this plan (an apply replaced it); "
        f"nothing done, job {change.live_id} not {done}",
        code="target-moved",
        hint=f"hpcspec status shows job {now.id}; run hpcspec {what} again to act on it",
    )
