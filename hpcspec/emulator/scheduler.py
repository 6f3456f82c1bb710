"""The scheduler's operations on jobs and tasks (no HTTP): create, set, submit, cancel, finish,
requeue, add task, custom properties and environment variables.

Which changes are allowed in which state is `hpcspec.hpcpack.modify_rules`
(`derived/job-modify-rules.json`); transitions and side effects follow
`research/hpcpack-ground-truth.md` §4. The clock-driven part (validation, scheduling, running
tasks) is `dispatch.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hpcspec.emulator import errors
from hpcspec.emulator import lifecycle as L
from hpcspec.emulator import properties as P
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.executors import Executor
from hpcspec.emulator.store import JobRow, Store, TaskRow
from hpcspec.hpcpack import catalogue, modify_rules, values
from hpcspec.hpcpack.states import JobState, TaskState

Pairs = Sequence[tuple[str, str]]
CANCELABLE = frozenset(
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
FINISHABLE = frozenset({JobState.Queued, JobState.Running, JobState.Canceling, JobState.Finishing})
REQUEUEABLE = frozenset({JobState.Canceled, JobState.Failed})
MAX_MESSAGE = 128  # Operation_CancelMessageIsTooLong


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: `DOMAIN\\user`, and whether they are an HPC administrator."""

    name: str
    admin: bool


@dataclass(frozen=True)
class Timings:
    """How long the emulated scheduler dwells in each transient state (seconds)."""

    tick: float = 0.2
    submitted: float = 0.0
    validating: float = 0.0
    finishing: float = 0.0
    cancel_grace: float = 0.0
    simulate: float = 1.0


class Scheduler:
    """Job and task operations over the store; every change is one store transaction."""

    def __init__(
        self,
        store: Store,
        cluster: ClusterSpec,
        executor: Executor,
        timings: Timings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.cluster = cluster
        self.executor = executor
        self.timings = timings
        self.clock = clock

    # -- reading ---------------------------------------------------------------------------
    def job(self, job_id: int) -> JobRow:
        job = self.store.job(job_id)
        if job is None:
            raise errors.not_found(errors.INVALID_JOB_ID)
        return job

    def task(self, job_id: int, task_id: int, instance_id: int | None = None) -> TaskRow:
        """A task (instance None: the task itself) or a sweep subtask (instance ≥ 1)."""
        self.job(job_id)
        task = self.store.task(job_id, task_id, instance_id or 0)
        if task is None or (instance_id is not None and instance_id < 1):
            raise errors.not_found(errors.INVALID_TASK_ID)
        return task

    def job_view(self, job: JobRow) -> dict[str, str]:
        return L.job_view(job, L.task_counters(self.store.task_state_counts(job.id)))

    # -- jobs ------------------------------------------------------------------------------
    def create_job(self, caller: Caller, props: Pairs) -> int:
        now = self.clock()
        with self.store.transaction():
            job = L.new_job(self.store.next_id("job"), caller.name, now)
            self._apply_job_props(job, props, creating=True)
            self.store.save_job(job)
        return job.id

    def set_job(self, caller: Caller, job_id: int, props: Pairs) -> None:
        with self.store.transaction():
            job = self.owned(caller, job_id)
            self._apply_job_props(job, props, creating=False)
            L.stamp(job.props, self.clock())
            self.store.save_job(job)

    def _apply_job_props(self, job: JobRow, props: Pairs, creating: bool) -> None:
        state = job.state
        given: set[str] = set()
        for raw_name, raw_value in props:
            name = P.canonical(P.JOB_TYPES, raw_name)
            if name is None:
                raise errors.bad_request(errors.NO_TABLE_DEFINED_FOR_PROPERTY, raw_name)
            if name not in P.JOB_SETTABLE:
                raise errors.bad_request(errors.PROPERTY_IS_READ_ONLY, name)
            if not creating and not modify_rules.can_set_job_property(name, state):
                raise errors.conflict(errors.SET_INVALID_PROP_UNDER_CERTAIN_STATE, name, state.name)
            given.add(name)
            self._set_job_value(job, name, raw_value)
        if creating:
            for bound in ("Min", "Max"):
                if f"AutoCalculate{bound}" not in given:
                    explicit = any(f"{bound}{u}" in given for u in ("Cores", "Nodes", "Sockets"))
                    job.props[f"AutoCalculate{bound}"] = P.format_bool(not explicit)

    def _set_job_value(self, job: JobRow, name: str, raw: str) -> None:
        if name in P.WRITE_ONLY:  # accepted, never stored: a secret is not saved to disk
            return
        if name == "Priority":
            text = raw.strip()
            try:
                bucket = P.parse_value("JobPriority", name, text)
                expanded = values.PRIORITY_BUCKETS[bucket]
            except errors.SchedulerError:
                try:
                    expanded = values.parse_priority(text)
                except ValueError as error:
                    raise errors.bad_request(
                        errors.INVALID_OPERATION, f" {error}", detail=""
                    ) from None
            job.props["ExpandedPriority"] = str(expanded)
            return
        value = P.parse_value(P.JOB_TYPES[name], name, raw)
        if name == "ExpandedPriority" and not 0 <= int(value) <= 4000:
            raise errors.bad_request(errors.INVALID_OPERATION, " ExpandedPriority is 0..4000.")
        if name in ("Name", "Project") and len(value) > catalogue.MAX_NAME_LENGTH:
            raise errors.bad_request(errors.PROPERTY_VALUE_TOO_LARGE, name, 80)
        if name == "JobValidExitCodes" and value:
            P.check_exit_codes(value)
        if name == "JobTemplate" and self.cluster.template(value) is None:
            raise errors.bad_request(errors.PROFILE_NOT_FOUND)
        if name == "ParentJobIds" and value:
            parts = [p.strip() for p in value.split(",")]
            if not all(p.isdigit() and int(p) >= 1 for p in parts):
                raise errors.bad_request(errors.INVALID_PARENT_JOB_IDS, value)
            value = ",".join(parts)
        if name == "NodeGroups":
            for group in filter(None, value.split(",")):
                if self.cluster.group(group) is None:
                    raise errors.bad_request(errors.UNKNOWN_NODE_GROUP, group)
        job.props[name] = value

    def submit(self, caller: Caller, job_id: int, props: Pairs) -> None:
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            if job.state is not JobState.Configuring:
                raise errors.conflict(errors.ONLY_CONFIG_JOBS_CAN_BE_SUBMITTED)
            self._apply_job_props(job, props, creating=False)
            job.props["SubmitTime"] = P.format_time(now)
            L.set_job_state(job, JobState.Submitted, now)
            # Every Configuring task changes the same way: one prototype, one UPDATE.
            change = TaskRow(job_id, 0, 0, {"State": TaskState.Configuring.name or ""})
            change.props["SubmitTime"] = P.format_time(now)
            L.set_task_state(change, TaskState.Submitted, now)
            self.store.update_tasks(job_id, TaskState.Configuring, change.props)
            self.store.save_job(job)

    def cancel_job(self, caller: Caller, job_id: int, message: str, forced: bool) -> None:
        _check_message(message)
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            state = job.state
            if state not in CANCELABLE:
                raise errors.conflict(errors.INVALID_CANCEL_JOB_STATE, state.name)
            job.props["ErrorMessage"] = errors.CANCELED_BY_USER.template.format(message)
            if state is JobState.Configuring:
                L.set_job_state(job, JobState.Canceled, now)
            else:
                self.stop_tasks(job, now, TaskState.Failed, errors.TASKS_JOB_CANCELED.template)
                job.props["_forced"] = "1" if forced else ""
                L.set_job_state(job, JobState.Canceling, now)
            self.store.save_job(job)

    def finish_job(self, caller: Caller, job_id: int, message: str) -> None:
        _check_message(message)
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            state = job.state
            if state not in FINISHABLE:
                raise errors.conflict(
                    errors.INVALID_OPERATION, f" jobs in the {state.name} state cannot be finished."
                )
            self.stop_tasks(job, now, TaskState.Canceled, errors.TASKS_JOB_CANCELED.template)
            L.set_job_state(job, JobState.Finished, now)
            self.store.save_job(job)

    def requeue_job(self, caller: Caller, job_id: int) -> None:
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            state = job.state
            if state not in REQUEUEABLE:
                raise errors.conflict(
                    errors.INVALID_OPERATION,
                    f" jobs in the {state.name} state cannot be requeued; "
                    "only Failed or Canceled jobs can.",
                )
            job.props["RequeueCount"] = str(int(job.props.get("RequeueCount", "0")) + 1)
            for key in ("ErrorMessage", "EndTime", "_alloc", "_outcome", "_forced", "_started_job"):
                job.props.pop(key, None)
            tasks = self.store.tasks(job_id)
            masters = {t.task_id for t in tasks if t.is_master}
            expanded = {t.task_id for t in tasks if t.instance_id > 0}
            changed = []
            for task in tasks:
                rerun = task.state in (TaskState.Failed, TaskState.Configuring) or (
                    task.state is TaskState.Canceled
                    and bool(task.props.get("_ran") or task.props.get("_by_job"))
                )
                if task.is_master and task.task_id in expanded:
                    rerun = task.state is not TaskState.Finished
                if rerun:
                    task.props.pop("ErrorMessage", None)
                    task.props.pop("_by_job", None)
                    L.set_task_state(task, TaskState.Queued, now)
                    changed.append(task)
            for master in (t for t in tasks if t.task_id in masters - expanded):
                changed.extend(L.expand_sweep(master, TaskState.Queued, now))
            self.store.save_tasks(changed)
            L.set_job_state(job, JobState.Queued, now)
            self.store.save_job(job)

    def stop_tasks(self, job: JobRow, now: float, running_to: TaskState, why: str) -> None:
        """End every live task of a job: running ones → `running_to`, waiting ones → Canceled."""
        changed = []
        for task in self.store.tasks(job.id):
            state = task.state
            if state in L.TERMINAL_TASK or state is TaskState.Configuring:
                continue
            if state in (TaskState.Running, TaskState.Dispatching) and task.is_leaf:
                self.executor.stop(task.key)
                task.props["ErrorMessage"] = why
                L.set_task_state(task, running_to, now)
            else:
                L.set_task_state(task, TaskState.Canceled, now)
            task.props["_by_job"] = "1"  # not the user's own task cancel: requeue re-runs it
            changed.append(task)
        self.store.save_tasks(changed)

    # -- custom properties and environment -------------------------------------------------
    def set_custom(self, caller: Caller, job_id: int, task_id: int | None, props: Pairs) -> None:
        for name, value in props:
            if not name.strip():
                raise errors.bad_request(errors.PROPERTY_NAME_CANNOT_BE_EMPTY)
            if len(name) > catalogue.MAX_CUSTOM_PROPERTY_NAME:
                raise errors.bad_request(errors.CUSTOM_PROPERTY_NAME_TOO_LONG, name, 80)
            if len(value) > catalogue.MAX_CUSTOM_PROPERTY_VALUE:
                raise errors.bad_request(errors.CUSTOM_PROPERTY_VALUE_TOO_LONG, value, 1024)
        self._set_pairs(caller, job_id, task_id, props, "custom")

    def set_env(self, caller: Caller, job_id: int, task_id: int | None, props: Pairs) -> None:
        for name, _ in props:
            if not name.strip() or "=" in name:
                raise errors.bad_request(errors.INVALID_ENVIRONMENT_VAR_NAME)
            if name.upper().startswith("CCP_"):
                raise errors.bad_request(errors.PRESERVED_ENVIRONMENT_VARIABLES)
        self._set_pairs(caller, job_id, task_id, props, "env")

    def _set_pairs(
        self, caller: Caller, job_id: int, task_id: int | None, props: Pairs, which: str
    ) -> None:
        with self.store.transaction():
            job = self.owned(caller, job_id)
            target: JobRow | TaskRow = job if task_id is None else self.task(job_id, task_id)
            table: dict[str, str] = getattr(target, which)
            for name, value in props:
                existing = next((k for k in table if k.lower() == name.lower()), None)
                if existing is not None:
                    del table[existing]
                if value != "" or which == "custom":
                    table[name] = value
            L.stamp(target.props, self.clock())
            if isinstance(target, TaskRow):
                self.store.save_task(target)
            else:
                self.store.save_job(target)

    # -- permissions -----------------------------------------------------------------------
    def owned(self, caller: Caller, job_id: int) -> JobRow:
        """The job, if the caller may change it (its owner or an administrator)."""
        job = self.job(job_id)
        if not caller.admin and job.owner.lower() != caller.name.lower():
            raise errors.forbidden(f"{caller.name} does not own job {job_id}.")
        return job


def _check_message(message: str) -> None:
    if len(message) > MAX_MESSAGE:
        raise errors.bad_request(errors.CANCEL_MESSAGE_TOO_LONG)
