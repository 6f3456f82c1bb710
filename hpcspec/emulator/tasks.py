"""Task operations (no HTTP): add, set, cancel, finish, requeue — for tasks and sweep subtasks.

Rules from `research/hpcpack-ground-truth.md` §3.2-§3.3 and §4.3: tasks change only while the
job is Configuring (`modify_rules.can_modify_tasks`); cancelling a running task fails it;
requeue needs IsRerunnable; Basic tasks keep Start/End/Increment at 0/0/1.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.emulator import errors
from hpcspec.emulator import lifecycle as L
from hpcspec.emulator import properties as P
from hpcspec.emulator.scheduler import MAX_MESSAGE, Caller, Pairs, Scheduler
from hpcspec.emulator.store import JobRow, TaskRow
from hpcspec.hpcpack import catalogue, modify_rules
from hpcspec.hpcpack.states import JobState, TaskState

_ADD_AS: dict[JobState, TaskState] = {
    JobState.Configuring: TaskState.Configuring,
    JobState.Submitted: TaskState.Submitted,
    JobState.Validating: TaskState.Submitted,
    JobState.Queued: TaskState.Queued,
    JobState.Running: TaskState.Queued,
}
_LIVE_JOB = frozenset({JobState.Submitted, JobState.Validating, JobState.Queued, JobState.Running})
MAX_SWEEP_TASKS = catalogue.MAX_SWEEP_TASKS_PER_JOB


def add_task(s: Scheduler, caller: Caller, job_id: int, props: Pairs) -> int:
    """A new task; its id is the job's next JobTaskId (1, 2, 3, …)."""
    return add_tasks(s, caller, job_id, [props])[0]


def add_tasks(s: Scheduler, caller: Caller, job_id: int, many: Sequence[Pairs]) -> list[int]:
    """New tasks in one transaction (a job file's tasks): the job is read and written once."""
    now = s.clock()
    with s.store.transaction():
        job = s.owned(caller, job_id)
        state = _ADD_AS.get(job.state)
        if state is None:
            raise errors.conflict(errors.TRY_TO_MODIFY_INVALID_STATE_JOB, job.state.name)
        masters: set[int] | None = None
        rows: list[TaskRow] = []
        ids: list[int] = []
        first = int(job.props.get("NextJobTaskId", "1"))
        fresh = L.new_tasks(job, range(first, first + len(many)), now)
        for props, task in zip(many, fresh, strict=True):
            task_id = task.task_id
            apply_task_props(task, props)
            if task.is_master:
                if masters is None:
                    masters = {t.task_id for t in s.store.tasks(job.id) if t.is_master}
                masters.add(task_id)
                if len(masters) > MAX_SWEEP_TASKS:
                    raise errors.conflict(errors.TOO_MANY_SWEEP_TASKS)
            if state is not TaskState.Configuring:  # a new task is Configuring already
                task.props["SubmitTime"] = P.format_time(now)
                L.set_task_state(task, state, now)
            rows.append(task)
            if task.is_master and state is TaskState.Queued:
                rows += L.expand_sweep(task, TaskState.Queued, now)
            ids.append(task_id)
        job.props["NextJobTaskId"] = str(first + len(many))
        L.stamp(job.props, now)
        s.store.save_tasks(rows)
        s.store.save_job(job)
    return ids


def set_task(
    s: Scheduler, caller: Caller, job_id: int, task_id: int, instance: int | None, props: Pairs
) -> None:
    with s.store.transaction():
        job = s.owned(caller, job_id)
        task = s.task(job_id, task_id, instance)
        if not modify_rules.can_modify_tasks(job.state):
            raise errors.conflict(errors.TRY_TO_MODIFY_INVALID_STATE_TASK, task.state.name)
        apply_task_props(task, props)
        _check_sweep_limit(s, job, task)
        L.stamp(task.props, s.clock())
        s.store.save_task(task)


def apply_task_props(task: TaskRow, props: Pairs) -> None:
    for raw_name, raw_value in props:
        name = P.canonical(P.TASK_TYPES, raw_name)
        if name is None:
            raise errors.bad_request(errors.NO_TABLE_DEFINED_FOR_PROPERTY, raw_name)
        if name not in P.TASK_SETTABLE:
            raise errors.bad_request(errors.PROPERTY_IS_READ_ONLY, name)
        value = P.parse_value(P.TASK_TYPES[name], name, raw_value)
        if name == "Name" and "," in value:
            raise errors.bad_request(errors.TASK_NAME_CONTAINS_INVALID_CHARS, value)
        if name == "TaskValidExitCodes" and value:
            P.check_exit_codes(value)
        if name == "CommandLine" and len(value) > catalogue.MAX_COMMAND_LINE:
            raise errors.bad_request(errors.PROPERTY_VALUE_TOO_LARGE, name, 1024)
        task.props[name] = value
    check_task_type(task.props)


_BASIC_FIXED = {"StartValue": "0", "EndValue": "0", "IncrementValue": "1"}


def check_task_type(props: dict[str, str]) -> None:
    """Basic tasks keep StartValue/EndValue 0, IncrementValue 1 (TaskTypeHelper, §3.3)."""
    if props.get("Type", "Basic") != "Basic":
        return
    for name, value in _BASIC_FIXED.items():
        if props.get(name, value) != value:
            raise errors.bad_request(errors.INVALID_PROP_FOR_TASK_TYPE, name, "Basic")


def _check_sweep_limit(s: Scheduler, job: JobRow, task: TaskRow) -> None:
    if not task.is_master:
        return
    others = {t.task_id for t in s.store.tasks(job.id) if t.is_master and t.task_id != task.task_id}
    if len(others) + 1 > MAX_SWEEP_TASKS:
        raise errors.conflict(errors.TOO_MANY_SWEEP_TASKS)


def _targets(s: Scheduler, task: TaskRow) -> list[TaskRow]:
    """The task itself, or for a sweep master: the master and its subtasks."""
    if not task.is_master:
        return [task]
    return [t for t in s.store.tasks(task.job_id) if t.task_id == task.task_id]


def cancel_task(
    s: Scheduler, caller: Caller, ids: tuple[int, int, int | None], message: str, forced: bool
) -> None:
    _check_message(message)
    now = s.clock()
    with s.store.transaction():
        job = s.owned(caller, ids[0])
        task = s.task(*ids)
        if task.state in L.TERMINAL_TASK:
            raise errors.conflict(errors.INVALID_CANCEL_TASK_STATE, task.state.name)
        changed = []
        for row in _targets(s, task):
            state = row.state
            if state in L.TERMINAL_TASK:
                continue
            if state in (TaskState.Running, TaskState.Dispatching) and row.is_leaf:
                s.executor.stop(row.key)
                row.props["ErrorMessage"] = errors.TASK_CANCELED_DURING_EXECUTION.template.format(
                    message
                )
                L.set_task_state(row, TaskState.Failed, now)
            else:
                row.props["ErrorMessage"] = errors.CANCELED_BY_USER.template.format(message)
                L.set_task_state(row, TaskState.Canceled, now)
            changed.append(row)
        s.store.save_tasks(changed)
        L.stamp(job.props, now)
        s.store.save_job(job)


def finish_task(
    s: Scheduler, caller: Caller, ids: tuple[int, int, int | None], message: str
) -> None:
    _check_message(message)
    now = s.clock()
    with s.store.transaction():
        job = s.owned(caller, ids[0])
        task = s.task(*ids)
        if task.state in L.TERMINAL_TASK:
            raise errors.conflict(
                errors.INVALID_OPERATION,
                f" tasks in the {task.state.name} state cannot be finished.",
            )
        changed = []
        for row in _targets(s, task):
            if row.state in L.TERMINAL_TASK:
                continue
            if row.is_leaf:
                s.executor.stop(row.key)
            text = errors.TASK_FINISHED_DURING_EXECUTION.template.format(message)
            row.props["ErrorMessage"] = text
            L.set_task_state(row, TaskState.Finished, now)
            changed.append(row)
        s.store.save_tasks(changed)
        L.stamp(job.props, now)
        s.store.save_job(job)


def requeue_task(s: Scheduler, caller: Caller, ids: tuple[int, int, int | None]) -> None:
    now = s.clock()
    with s.store.transaction():
        job = s.owned(caller, ids[0])
        task = s.task(*ids)
        allowed = (TaskState.Failed, TaskState.Canceled, TaskState.Queued)
        if task.state not in allowed:
            raise errors.conflict(errors.ONLY_FAILED_CANCELED_TASKS_CAN_BE_CONFIGURED)
        if not P.parse_bool(task.props.get("IsRerunnable", "True")):
            raise errors.conflict(errors.TRY_TO_REQUEUE_NON_RERUNNABLE_TASK)
        target = TaskState.Queued if job.state in _LIVE_JOB else TaskState.Configuring
        changed = []
        for row in _targets(s, task):
            if row is not task and row.state not in allowed:
                continue
            row.props["RequeueCount"] = str(int(row.props.get("RequeueCount", "0")) + 1)
            row.props.pop("ErrorMessage", None)
            L.set_task_state(row, target, now)
            changed.append(row)
        s.store.save_tasks(changed)
        L.stamp(job.props, now)
        s.store.save_job(job)


def _check_message(message: str) -> None:
    if len(message) > MAX_MESSAGE:
        raise errors.bad_request(errors.CANCEL_MESSAGE_TOO_LONG)
