"""Task operations (no HTTP): add, set, cancel, finish, requeue — for tasks and sweep subtasks.

Rules from `research/hpcpack-ground-truth.md` §3.2-§3.3 and §4.3: tasks change only while the
job is Configuring (`modify_rules.can_modify_tasks`); cancelling a running task fails it;
requeue needs IsRerunnable. What each state allows and how a row changes is `state_machine.py`;
property values are checked by `task_settings.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.emulator import errors, messages, state_machine
from hpcspec.emulator.properties import format_time, parse_bool
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.emulator.scheduler import Caller, Pairs, Scheduler, check_message
from hpcspec.emulator.sweeps import expand_sweep
from hpcspec.emulator.task_settings import apply_task_props
from hpcspec.hpcpack import catalogue, modify_rules
from hpcspec.hpcpack.states import TaskState

MAX_SWEEP_TASKS = catalogue.MAX_SWEEP_TASKS_PER_JOB
TaskIds = tuple[int, int, int | None]  # (job id, JobTaskId, InstanceId or None)


def add_task(scheduler: Scheduler, caller: Caller, job_id: int, props: Pairs) -> int:
    """A new task; its id is the job's next JobTaskId (1, 2, 3, …)."""
    return add_tasks(scheduler, caller, job_id, [props])[0]


def add_tasks(
    scheduler: Scheduler, caller: Caller, job_id: int, many: Sequence[Pairs]
) -> list[int]:
    """New tasks in one transaction (a job file's tasks): the job is read and written once."""
    now = scheduler.clock()
    store = scheduler.store
    with store.transaction():
        job = scheduler.owned(caller, job_id)
        state = state_machine.TASK_STATE_WHEN_ADDED.get(job.state)
        if state is None:
            raise errors.conflict(messages.TRY_TO_MODIFY_INVALID_STATE_JOB, job.state.name)
        masters: set[int] | None = None
        rows: list[TaskRow] = []
        ids: list[int] = []
        first = int(job.props.get("NextJobTaskId", "1"))
        fresh = state_machine.new_tasks(job, range(first, first + len(many)), now)
        for props, task in zip(many, fresh, strict=True):
            task_id = task.task_id
            apply_task_props(task, props)
            if task.is_master:
                if masters is None:
                    masters = {t.task_id for t in store.tasks(job.id) if t.is_master}
                masters.add(task_id)
                if len(masters) > MAX_SWEEP_TASKS:
                    raise errors.conflict(messages.TOO_MANY_SWEEP_TASKS)
            if state is not TaskState.Configuring:  # a new task is Configuring already
                task.props["SubmitTime"] = format_time(now)
                state_machine.set_task_state(task, state, now)
            rows.append(task)
            if task.is_master and state is TaskState.Queued and scheduler.eager_sweeps:
                rows += expand_sweep(task, TaskState.Queued, now)
            ids.append(task_id)
        job.props["NextJobTaskId"] = str(first + len(many))
        state_machine.stamp(job.props, now)
        store.save_tasks(rows)
        store.save_job(job)
    return ids


def set_task(scheduler: Scheduler, caller: Caller, ids: TaskIds, props: Pairs) -> None:
    """PUT a task: only while its job is Configuring."""
    with scheduler.store.transaction():
        job = scheduler.owned(caller, ids[0])
        task = scheduler.task(*ids)
        if not modify_rules.can_modify_tasks(job.state):
            raise errors.conflict(messages.TRY_TO_MODIFY_INVALID_STATE_TASK, task.state.name)
        apply_task_props(task, props)
        _check_sweep_limit(scheduler, job, task)
        state_machine.stamp(task.props, scheduler.clock())
        scheduler.store.save_task(task)


def _check_sweep_limit(scheduler: Scheduler, job: JobRow, task: TaskRow) -> None:
    if not task.is_master:
        return
    tasks = scheduler.store.tasks(job.id)
    others = {t.task_id for t in tasks if t.is_master and t.task_id != task.task_id}
    if len(others) + 1 > MAX_SWEEP_TASKS:
        raise errors.conflict(messages.TOO_MANY_SWEEP_TASKS)


def _targets(scheduler: Scheduler, task: TaskRow) -> list[TaskRow]:
    """The task itself, or for a sweep master: the master and its subtasks."""
    if not task.is_master:
        return [task]
    return [t for t in scheduler.store.tasks(task.job_id) if t.task_id == task.task_id]


def cancel_task(
    scheduler: Scheduler, caller: Caller, ids: TaskIds, message: str, forced: bool
) -> None:
    """Cancel a task (a sweep master: with its subtasks); running ones become Failed."""
    check_message(message)
    now = scheduler.clock()
    with scheduler.store.transaction():
        job = scheduler.owned(caller, ids[0])
        task = scheduler.task(*ids)
        if task.state in state_machine.TERMINAL_TASK:
            raise errors.conflict(messages.INVALID_CANCEL_TASK_STATE, task.state.name)
        changed = []
        for row in _targets(scheduler, task):
            if row.state in state_machine.TERMINAL_TASK:
                continue
            if state_machine.task_is_running(row):
                scheduler.executor.stop(row.key)
            state_machine.cancel_task(row, message, now)
            changed.append(row)
        scheduler.store.save_tasks(changed)
        state_machine.stamp(job.props, now)
        scheduler.store.save_job(job)


def finish_task(scheduler: Scheduler, caller: Caller, ids: TaskIds, message: str) -> None:
    """Finish a task (a sweep master: with its subtasks) now."""
    check_message(message)
    now = scheduler.clock()
    with scheduler.store.transaction():
        job = scheduler.owned(caller, ids[0])
        task = scheduler.task(*ids)
        if task.state in state_machine.TERMINAL_TASK:
            raise errors.conflict(
                messages.INVALID_OPERATION,
                f" tasks in the {task.state.name} state cannot be finished.",
            )
        changed = []
        for row in _targets(scheduler, task):
            if row.state in state_machine.TERMINAL_TASK:
                continue
            if row.is_leaf:
                scheduler.executor.stop(row.key)
            state_machine.finish_task(row, message, now)
            changed.append(row)
        scheduler.store.save_tasks(changed)
        state_machine.stamp(job.props, now)
        scheduler.store.save_job(job)


def requeue_task(scheduler: Scheduler, caller: Caller, ids: TaskIds) -> None:
    """Requeue a Failed, Canceled or Queued rerunnable task (a sweep master: its subtasks)."""
    now = scheduler.clock()
    with scheduler.store.transaction():
        job = scheduler.owned(caller, ids[0])
        task = scheduler.task(*ids)
        if task.state not in state_machine.REQUEUEABLE_TASK:
            raise errors.conflict(messages.ONLY_FAILED_CANCELED_TASKS_CAN_BE_CONFIGURED)
        if not parse_bool(task.props.get("IsRerunnable", "True")):
            raise errors.conflict(messages.TRY_TO_REQUEUE_NON_RERUNNABLE_TASK)
        changed = []
        for row in _targets(scheduler, task):
            if row is not task and row.state not in state_machine.REQUEUEABLE_TASK:
                continue
            state_machine.requeue_task(row, job.state, now)
            changed.append(row)
        scheduler.store.save_tasks(changed)
        state_machine.stamp(job.props, now)
        scheduler.store.save_job(job)
