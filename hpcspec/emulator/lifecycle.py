"""State changes and read-back views shared by the scheduler's operations and its clock.

Transitions follow `research/hpcpack-ground-truth.md` §4 (job and task state machines) and §5
(sweep expansion); every change stamps ChangeTime and PreviousState like the scheduler store.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from hpcspec.emulator import properties as P
from hpcspec.emulator.store import JobRow, TaskRow
from hpcspec.hpcpack import sweep
from hpcspec.hpcpack.states import JobState, TaskState

TERMINAL_TASK = frozenset({TaskState.Finished, TaskState.Failed, TaskState.Canceled})


def stamp(props: dict[str, str], now: float) -> None:
    props["ChangeTime"] = P.format_time(now)
    props["_changed"] = repr(now)


def set_job_state(job: JobRow, state: JobState, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if job.props.get("State") != state.name:
        job.props["PreviousState"] = job.props.get("State", "Configuring")
        job.props["State"] = state.name or ""
        job.props["_since"] = repr(now)
    if state is JobState.Running and not job.props.get("StartTime"):
        job.props["StartTime"] = P.format_time(now)
    if state.is_terminal:
        job.props["EndTime"] = P.format_time(now)
    stamp(job.props, now)


def set_task_state(task: TaskRow, state: TaskState, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if task.props.get("State") != state.name:
        task.props["PreviousState"] = task.props.get("State", "Configuring")
        task.props["State"] = state.name or ""
    if state is TaskState.Running:
        task.props["StartTime"] = P.format_time(now)
        task.props["_started"] = repr(now)
        task.props["_ran"] = "1"
    if state in TERMINAL_TASK:
        task.props["EndTime"] = P.format_time(now)
    stamp(task.props, now)


def new_job(job_id: int, owner: str, now: float) -> JobRow:
    props = {
        "Id": str(job_id),
        "Owner": owner,
        "UserName": owner,
        "State": "Configuring",
        "PreviousState": "Configuring",
        "CreateTime": P.format_time(now),
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
        "CreateTime": P.format_time(now),
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


def expand_sweep(master: TaskRow, state: TaskState, now: float) -> list[TaskRow]:
    """The subtasks of a sweep master: ids 1..count, `*` substituted (§5, sweep vectors)."""
    start = int(master.props.get("StartValue", "0") or 0)
    end = int(master.props.get("EndValue", "0") or 0)
    step = int(master.props.get("IncrementValue", "1") or 1)
    out = []
    for instance in range(1, sweep.instance_count(start, end, step) + 1):
        value = sweep.instance_value(start, step, instance)
        props = {k: v for k, v in master.props.items() if not k.startswith("_")}
        for name in sweep.SUBSTITUTED_TASK_PROPERTIES:
            if props.get(name):
                props[name] = sweep.substitute(props[name], value)
        props.update(
            {
                "InstanceId": str(instance),
                "InstanceValue": str(value),
                "TaskId": f"{master.job_id}.{master.task_id}.{instance}",
                "Id": str(int(master.props["Id"]) * 1000 + instance),
            }
        )
        sub = TaskRow(master.job_id, master.task_id, instance, props, dict(master.custom))
        sub.env = dict(master.env)
        set_task_state(sub, state, now)
        out.append(sub)
    return out


def master_state(subtasks: list[TaskRow]) -> TaskState:
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


COUNTERS = {
    "Configuring": "ConfiguringTaskCount",
    "Submitted": "SubmittedTaskCount",
    "Validating": "ValidatingTaskCount",
    "Queued": "QueuedTaskCount",
    "Dispatching": "DispatchingTaskCount",
    "Running": "RunningTaskCount",
    "Finished": "FinishedTaskCount",
    "Failed": "FailedTaskCount",
    "Canceled": "CanceledTaskCount",
    "Canceling": "CancelingTaskCount",
    "Finishing": "FinishingTaskCount",
}


def task_counters(counts: dict[str, int]) -> dict[str, str]:
    """TaskCount and the per-state counters from the number of running-kind tasks by state."""
    out = {"TaskCount": str(sum(counts.values()))}
    out.update({name: str(counts.get(state, 0)) for state, name in COUNTERS.items()})
    return out


def job_view(job: JobRow, counters: dict[str, str]) -> dict[str, str]:
    """Every readable job property, in catalogue order, as wire strings."""
    props = job.props
    out: dict[str, str] = {}
    for name in P.JOB_TYPES:
        if name in P.WRITE_ONLY:
            continue
        out[name] = props.get(name, P.JOB_DEFAULTS.get(name, ""))
    expanded = int(out["ExpandedPriority"] or 2000)
    out["Priority"] = P.priority_name(expanded)
    out["HasRuntime"] = P.format_bool(int(out["RuntimeSeconds"] or 0) > 0)
    out.update(counters)
    return out


def task_view(task: TaskRow) -> dict[str, str]:
    """Every readable task property as wire strings."""
    props = task.props
    out = {name: props.get(name, P.TASK_DEFAULTS.get(name, "")) for name in P.TASK_TYPES}
    out["HasRuntime"] = P.format_bool(int(out["RuntimeSeconds"] or 0) > 0)
    out["HasCustomProperties"] = P.format_bool(bool(task.custom))
    if task.is_master:
        start, end = int(out["StartValue"] or 0), int(out["EndValue"] or 0)
        step = int(out["IncrementValue"] or 1)
        out["TotalSubTaskNumber"] = str(sweep.instance_count(start, end, step))
    return out
