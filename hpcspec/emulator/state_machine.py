"""The job and task state machine: which state allows what, and every change of state.

The one place that knows HPC Pack's job and task state rules (`research/hpcpack-ground-truth.md`
§4, `msdocs/jobstate.md`, `msdocs/taskstate.md`); the operations (`scheduler.py`,
`task_operations.py`) and the clock (`clock.py`, `task_runner.py`) ask it what is allowed and
call it to change a row. It works on rows only (no store, no HTTP, no executor), so each rule
is a pure function. Every change stamps `ChangeTime` and `PreviousState` as the scheduler
store does.

Jobs: create → Configuring; submit → Submitted → Validating → Queued → Running → Finishing →
Finished | Failed; cancel → Canceling → Canceled (Configuring: Canceled at once); finish →
Finished; requeue (Failed, Canceled) → Queued. Tasks: Configuring → Submitted → Queued →
Running → Finished | Failed; cancel → Canceled (Failed while running); requeue → Queued or
Configuring.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from enum import Enum

from hpcspec.emulator import messages
from hpcspec.emulator.executors import Outcome, StartFailure
from hpcspec.emulator.properties import exit_code_ok, format_time
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.hpcpack.states import JobState, TaskState

# -- what each state allows ------------------------------------------------------------------
# Jobs the clock moves (they hold, or wait for, cores).
ACTIVE_JOB = (
    JobState.Submitted,
    JobState.Validating,
    JobState.ExternalValidation,
    JobState.Queued,
    JobState.Running,
    JobState.Finishing,
    JobState.Canceling,
)
HOLDING_CORES = (JobState.Running, JobState.Finishing, JobState.Canceling)
# cancel: JobEx.BeginCancel's allowed states (ground truth §4.1).
CANCELABLE_JOB = frozenset(
    {
        JobState.Configuring,
        JobState.Submitted,
        JobState.Validating,
        JobState.ExternalValidation,
        JobState.Queued,
        JobState.Running,
        JobState.Canceling,
        JobState.Finishing,
    }
)
# finish: documented for Queued/Running (msdocs/ischedulerjob-finish.md), and a job on its way out.
FINISHABLE_JOB = frozenset(
    {JobState.Queued, JobState.Running, JobState.Canceling, JobState.Finishing}
)
REQUEUEABLE_JOB = frozenset({JobState.Canceled, JobState.Failed})
# The state a task added to a job in this state starts in (the SDK's SubmitTask, §4.2);
# a job in any other state takes no new task.
TASK_STATE_WHEN_ADDED: dict[JobState, TaskState] = {
    JobState.Configuring: TaskState.Configuring,
    JobState.Submitted: TaskState.Submitted,
    JobState.Validating: TaskState.Submitted,
    JobState.Queued: TaskState.Queued,
    JobState.Running: TaskState.Queued,
}
# A requeued task of a job in one of these states is queued again; otherwise it is Configuring.
REQUEUE_TO_QUEUED = frozenset(
    {JobState.Submitted, JobState.Validating, JobState.Queued, JobState.Running}
)
# "move a failed, canceled, or queued task to the configuring state" (SPEC16 task requeue).
REQUEUEABLE_TASK = frozenset({TaskState.Failed, TaskState.Canceled, TaskState.Queued})
TERMINAL_TASK = frozenset({TaskState.Finished, TaskState.Failed, TaskState.Canceled})
# Which job states take custom property and environment writes is a cluster profile's fact
# (`ClusterProfile.custom_property_states`, `environment_states`); its defaults follow
# msdocs/updating-a-job.md: custom properties while Configuring, Queued or Running, environment
# variables (in neither the Queued nor the Running list) only while Configuring — the SDK's
# move of an ended job back to Configuring has no REST counterpart (ground truth §4.2).
# "You can update a task only when the task is in the Configuring state."
TASK_WRITABLE = frozenset({TaskState.Configuring})
RUNNING_TASK = frozenset({TaskState.Running, TaskState.Dispatching})


def task_is_running(task: TaskRow) -> bool:
    """A task (or subtask) that has a process: its executor must stop it when it ends."""
    return task.state in RUNNING_TASK and task.is_leaf


# -- changing state --------------------------------------------------------------------------
def stamp(props: dict[str, str], now: float) -> None:
    """Record a change at `now` (ChangeTime, and the exact time for `ChangeTimeFrom`)."""
    props["ChangeTime"] = format_time(now)
    props["_changed"] = repr(now)


def set_job_state(job: JobRow, state: JobState, now: float | None = None) -> None:
    """Move a job to `state`: PreviousState, StartTime, EndTime and ChangeTime follow."""
    now = time.time() if now is None else now
    if job.props.get("State") != state.name:
        job.props["PreviousState"] = job.props.get("State", "Configuring")
        job.props["State"] = state.name or ""
        job.props["_since"] = repr(now)
    if state is JobState.Running and not job.props.get("StartTime"):
        job.props["StartTime"] = format_time(now)
    if state.is_terminal:
        job.props["EndTime"] = format_time(now)
    stamp(job.props, now)


def set_task_state(task: TaskRow, state: TaskState, now: float | None = None) -> None:
    """Move a task to `state`: PreviousState, StartTime, EndTime and ChangeTime follow."""
    now = time.time() if now is None else now
    if task.props.get("State") != state.name:
        task.props["PreviousState"] = task.props.get("State", "Configuring")
        task.props["State"] = state.name or ""
    if state is TaskState.Running:
        task.props["StartTime"] = format_time(now)
        task.props["_started"] = repr(now)
        task.props["_ran"] = "1"
    if state in TERMINAL_TASK:
        task.props["EndTime"] = format_time(now)
    stamp(task.props, now)


def new_job(job_id: int, owner: str, now: float) -> JobRow:
    """A job as create leaves it: Configuring, owned by `owner`, no tasks yet."""
    props = {
        "Id": str(job_id),
        "Owner": owner,
        "UserName": owner,
        "State": "Configuring",
        "PreviousState": "Configuring",
        "CreateTime": format_time(now),
        "NextJobTaskId": "1",
        "_since": repr(now),
    }
    stamp(props, now)
    return JobRow(job_id, props)


def new_tasks(job: JobRow, task_ids: Iterable[int], now: float) -> list[TaskRow]:
    """Configuring tasks of `job`, created at `now` (what they share is built once)."""
    shared = {
        "InstanceId": "0",
        "ParentJobId": str(job.id),
        "State": "Configuring",
        "PreviousState": "Configuring",
        "CreateTime": format_time(now),
        "TaskOwner": job.owner,
    }
    stamp(shared, now)
    rows = []
    for task_id in task_ids:
        props = {
            "Id": str(job.id * 10000 + task_id),
            "TaskId": f"{job.id}.{task_id}",
            "JobTaskId": str(task_id),
            **shared,
        }
        rows.append(TaskRow(job.id, task_id, 0, props))
    return rows


def submitted_task_changes(now: float) -> dict[str, str]:
    """What submit changes in every Configuring task of the job (one UPDATE for all)."""
    prototype = TaskRow(0, 0, 0, {"State": TaskState.Configuring.name or ""})
    prototype.props["SubmitTime"] = format_time(now)
    set_task_state(prototype, TaskState.Submitted, now)
    return prototype.props


# -- ending tasks ----------------------------------------------------------------------------
def stop_for_job(task: TaskRow, running_to: TaskState, why: str, now: float) -> bool:
    """End a task because its job ends (cancel, finish, failure): a running task goes to
    `running_to` with `why`, a waiting one to Canceled. False when it had ended already."""
    if task.state in TERMINAL_TASK or task.state is TaskState.Configuring:
        return False
    if task_is_running(task):
        task.props["ErrorMessage"] = why
        set_task_state(task, running_to, now)
    else:
        set_task_state(task, TaskState.Canceled, now)
    task.props["_by_job"] = "1"  # not the user's own task cancel: a job requeue re-runs it
    return True


def cancel_task(task: TaskRow, message: str, now: float) -> None:
    """A user's task cancel: running → Failed, waiting → Canceled (ground truth §4.3)."""
    if task_is_running(task):
        text = messages.TASK_CANCELED_DURING_EXECUTION.template.format(message)
        task.props["ErrorMessage"] = text
        set_task_state(task, TaskState.Failed, now)
    else:
        task.props["ErrorMessage"] = messages.CANCELED_BY_USER.template.format(message)
        set_task_state(task, TaskState.Canceled, now)


def finish_task(task: TaskRow, message: str, now: float) -> None:
    """A user's task finish: Finished, the message kept in ErrorMessage (§4.3)."""
    task.props["ErrorMessage"] = messages.TASK_FINISHED_DURING_EXECUTION.template.format(message)
    set_task_state(task, TaskState.Finished, now)


START_FAILURES = {
    StartFailure.WORK_DIRECTORY: messages.WORKING_DIRECTORY_NOT_FOUND,
    StartFailure.STDIN: messages.FAILED_TO_OPEN_STANDARD_INPUT,
    StartFailure.STDOUT: messages.FAILED_TO_OPEN_STANDARD_OUTPUT,
    StartFailure.STDERR: messages.FAILED_TO_OPEN_STANDARD_ERROR,
}


def finish_run(job: JobRow, task: TaskRow, outcome: Outcome, now: float) -> None:
    """A run that ended → ExitCode, Output, Finished or Failed.

    Exit codes per `msdocs/ischedulertask-validexitcodes.md` (the task's list overrides the
    job's; default 0); messages are `derived/error-codes.json`'s Execution_* entries.
    """
    task.props["Output"] = outcome.output
    task.props["ExitCode"] = str(outcome.exit_code)
    if outcome.start_failed is not None:
        nodes = task.props.get("AllocatedNodes", "")
        message = START_FAILURES[outcome.start_failed]
        task.props["ErrorMessage"] = message.template.format(nodes)
        set_task_state(task, TaskState.Failed, now)
        return
    if outcome.timed_out:
        task.props["ErrorMessage"] = messages.TASK_RUNTIME_EXPIRED.template
        set_task_state(task, TaskState.Failed, now)
        return
    valid = task.props.get("TaskValidExitCodes") or job.props.get("JobValidExitCodes") or "0"
    if exit_code_ok(valid, outcome.exit_code):
        set_task_state(task, TaskState.Finished, now)
    else:
        text = messages.TASK_EXECUTION_FAILURE.template.format(outcome.exit_code)
        task.props["ErrorMessage"] = text
        set_task_state(task, TaskState.Failed, now)


# -- requeue ---------------------------------------------------------------------------------
def reruns_on_job_requeue(task: TaskRow, expanded: bool) -> bool:
    """Whether a job requeue runs this task again (ground truth §4.1): Finished tasks and tasks
    the user canceled before they ran stay; everything else (Failed, canceled while running or
    by the job) runs again. `expanded`: for a sweep master, whether its subtasks exist."""
    if task.is_master and expanded:
        return task.state is not TaskState.Finished
    if task.state in (TaskState.Failed, TaskState.Configuring):
        return True
    stopped = bool(task.props.get("_ran") or task.props.get("_by_job"))
    return task.state is TaskState.Canceled and stopped


def requeue_job(job: JobRow, now: float) -> None:
    """A Failed or Canceled job back to Queued, counting the requeue."""
    job.props["RequeueCount"] = str(int(job.props.get("RequeueCount", "0")) + 1)
    for key in ("ErrorMessage", "EndTime", "_alloc", "_outcome", "_forced", "_started_job"):
        job.props.pop(key, None)
    set_job_state(job, JobState.Queued, now)


def queue_again(task: TaskRow, now: float) -> None:
    """A task a job requeue runs again: Queued, its last error forgotten."""
    task.props.pop("ErrorMessage", None)
    task.props.pop("_by_job", None)
    set_task_state(task, TaskState.Queued, now)


def requeue_task(task: TaskRow, job_state: JobState, now: float) -> None:
    """A user's task requeue: Queued in a live job, else Configuring (SPEC16 task requeue)."""
    target = TaskState.Queued if job_state in REQUEUE_TO_QUEUED else TaskState.Configuring
    task.props["RequeueCount"] = str(int(task.props.get("RequeueCount", "0")) + 1)
    task.props.pop("ErrorMessage", None)
    set_task_state(task, target, now)


# -- dependencies and the end of a job -------------------------------------------------------
class Readiness(Enum):
    """Whether a queued task may start, judged by its prerequisites."""

    WAIT = "wait"  # a prerequisite has not ended
    RUN = "run"
    BLOCKED = "blocked"  # a prerequisite did not finish and the job fails dependent tasks


def readiness(prerequisites: Sequence[TaskRow], fail_dependent_tasks: bool) -> Readiness:
    """May a task start, given the tasks it depends on (DependsOn names, task groups)?

    `msdocs/ischedulertask-dependson.md`: "Task B will not run until A finishes, fails, or is
    canceled" — a dependent task runs once every prerequisite has ended, however it ended;
    only when the job's `FailDependentTasks` is true does a prerequisite that failed or was
    canceled fail the dependent task instead.
    """
    if any(not p.state.is_terminal for p in prerequisites):
        return Readiness.WAIT
    if fail_dependent_tasks and any(p.state is not TaskState.Finished for p in prerequisites):
        return Readiness.BLOCKED
    return Readiness.RUN


def block_dependent(task: TaskRow, culprit: TaskRow, now: float) -> None:
    """FailDependentTasks: a task whose prerequisite failed or was canceled fails too."""
    task.props["ErrorMessage"] = messages.TASK_FAILURE.template.format(culprit.props["TaskId"])
    set_task_state(task, TaskState.Failed, now)


def master_state(subtasks: Sequence[TaskRow]) -> TaskState:
    """A sweep master's state from its subtasks' states."""
    states = {t.state for t in subtasks}
    if not states:
        return TaskState.Finished
    for live in (TaskState.Running, TaskState.Dispatching, TaskState.Queued):
        if live in states:
            return TaskState.Running if TaskState.Running in states else live
    if TaskState.Failed in states:
        return TaskState.Failed
    if TaskState.Canceled in states:
        return TaskState.Canceled
    return TaskState.Finished


def first_unfinished(leaves: Sequence[TaskRow]) -> TaskRow | None:
    """The task that makes an ended job Failed (a job is Finished only if all tasks are)."""
    return next((t for t in leaves if t.state is not TaskState.Finished), None)


def start_finishing(job: JobRow, leaves: Sequence[TaskRow], now: float) -> None:
    """Every task has ended: the job goes Finishing, then Finished or Failed (§4.1)."""
    failed = first_unfinished(leaves)
    if failed is not None:
        job.props["_outcome"] = "Failed"
        job.props["ErrorMessage"] = messages.TASK_FAILURE.template.format(failed.props["TaskId"])
    else:
        job.props["_outcome"] = "Finished"
    set_job_state(job, JobState.Finishing, now)


def end_of_finishing(job: JobRow) -> JobState:
    """The state a Finishing job ends in."""
    return JobState.parse(job.props.get("_outcome", "Finished"))


def fail_job(job: JobRow, culprit: str, now: float) -> None:
    """A task failure that fails the job at once (FailOnTaskFailure, FailJobOnFailure)."""
    job.props["ErrorMessage"] = messages.TASK_FAILURE.template.format(culprit)
    set_job_state(job, JobState.Failed, now)


def expire_job(job: JobRow, now: float) -> None:
    """The job's RuntimeSeconds ran out: Canceled."""
    job.props["ErrorMessage"] = messages.JOB_RUNTIME_EXPIRED.template
    set_job_state(job, JobState.Canceled, now)


def cancel_job(job: JobRow, message: str, forced: bool, now: float) -> None:
    """A user's cancel: Configuring → Canceled at once, otherwise Canceling (§4.1)."""
    job.props["ErrorMessage"] = messages.CANCELED_BY_USER.template.format(message)
    if job.state is JobState.Configuring:
        set_job_state(job, JobState.Canceled, now)
    else:
        job.props["_forced"] = "1" if forced else ""
        set_job_state(job, JobState.Canceling, now)


def cancel_for_parent(job: JobRow, now: float) -> None:
    """A parent job ended Failed or Canceled: the child is Canceled."""
    job.props["ErrorMessage"] = messages.PARENT_JOB_CANCELED.template
    set_job_state(job, JobState.Canceled, now)


def fail_validation(job: JobRow, tasks: Sequence[TaskRow], problem: str, now: float) -> None:
    """Validation refused the job: it and every task end Failed with the reason."""
    job.props["ErrorMessage"] = problem
    for task in tasks:
        task.props["ErrorMessage"] = messages.TASK_FAILED_ON_JOB_VALIDATION.template
        set_task_state(task, TaskState.Failed, now)
    set_job_state(job, JobState.Failed, now)
