"""The scheduler's job operations (no HTTP): create, set, submit, cancel, finish, requeue,
custom properties and environment variables; who may do them.

Each operation is one store transaction. What a state allows and how a row changes is
`state_machine.py`; property values are checked by `job_settings.py`. Task operations are
`task_operations.py`; the clock-driven part (validation, scheduling, running tasks) is
`clock.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hpcspec.emulator import errors, messages, state_machine
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.executors import Executor
from hpcspec.emulator.job_settings import JobSettings, apply_job_props, stamp_client_source
from hpcspec.emulator.properties import format_time
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.emulator.store import Store
from hpcspec.emulator.sweeps import expand_sweep
from hpcspec.emulator.time_format import TimeFormat
from hpcspec.emulator.views import job_view, task_counters
from hpcspec.hpcpack import catalogue
from hpcspec.hpcpack.profile import (
    DEFAULT_DATETIME_FORMAT,
    ClusterProfile,
    StampedAt,
    SweepExpansion,
)
from hpcspec.hpcpack.states import JobState, TaskState

Pairs = Sequence[tuple[str, str]]
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
    """Job operations over the store; every change is one store transaction."""

    def __init__(
        self,
        store: Store,
        cluster: ClusterSpec,
        executor: Executor,
        timings: Timings,
        profile: ClusterProfile | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.cluster = cluster
        self.executor = executor
        self.timings = timings
        self.profile = profile or ClusterProfile()
        self.clock = clock
        custom_format = self.profile.datetime_format != DEFAULT_DATETIME_FORMAT
        self.times = TimeFormat(self.profile.datetime_format) if custom_format else None

    @property
    def eager_sweeps(self) -> bool:
        """Whether sweeps are expanded whole when their job is queued (else as they run)."""
        return self.profile.sweep_expansion is SweepExpansion.EAGER

    def settings(self, now: float) -> JobSettings:
        """What checking a job's properties needs to know about this cluster."""
        return JobSettings(self.cluster, self.profile, self.times, now)

    # -- reading ---------------------------------------------------------------------------
    def job(self, job_id: int) -> JobRow:
        """The job, or 404 Operation_InvalidJobId."""
        job = self.store.job(job_id)
        if job is None:
            raise errors.not_found(messages.INVALID_JOB_ID)
        return job

    def task(self, job_id: int, task_id: int, instance_id: int | None = None) -> TaskRow:
        """A task (instance None: the task itself) or a sweep subtask (instance ≥ 1)."""
        self.job(job_id)
        task = self.store.task(job_id, task_id, instance_id or 0)
        if task is None or (instance_id is not None and instance_id < 1):
            raise errors.not_found(messages.INVALID_TASK_ID)
        return task

    def job_view(self, job: JobRow) -> dict[str, str]:
        """Every readable property of a job, its task counters included."""
        return job_view(job, task_counters(self.store.task_state_counts(job.id)))

    def owned(self, caller: Caller, job_id: int) -> JobRow:
        """The job, if the caller may change it (its owner or an administrator)."""
        job = self.job(job_id)
        if not caller.admin and job.owner.lower() != caller.name.lower():
            raise errors.forbidden(f"{caller.name} does not own job {job_id}.")
        return job

    # -- jobs ------------------------------------------------------------------------------
    def create_job(self, caller: Caller, props: Pairs) -> int:
        """A new Configuring job owned by the caller; returns its id."""
        now = self.clock()
        with self.store.transaction():
            job = state_machine.new_job(self.store.next_id("job"), caller.name, now)
            apply_job_props(job, props, True, self.settings(now))
            self.store.save_job(job)
        return job.id

    def set_job(self, caller: Caller, job_id: int, props: Pairs) -> None:
        """PUT /jobs/{id}: change properties the job's state allows."""
        with self.store.transaction():
            job = self.owned(caller, job_id)
            now = self.clock()
            apply_job_props(job, props, False, self.settings(now))
            state_machine.stamp(job.props, now)
            self.store.save_job(job)

    def submit(self, caller: Caller, job_id: int, props: Pairs) -> None:
        """Configuring → Submitted, with every Configuring task."""
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            if job.state is not JobState.Configuring:
                raise errors.conflict(messages.ONLY_CONFIG_JOBS_CAN_BE_SUBMITTED)
            apply_job_props(job, props, False, self.settings(now))
            stamp_client_source(job, self.profile, StampedAt.SUBMIT)
            job.props["SubmitTime"] = format_time(now)
            state_machine.set_job_state(job, JobState.Submitted, now)
            changes = state_machine.submitted_task_changes(now)
            self.store.update_tasks(job_id, TaskState.Configuring, changes)
            self.store.save_job(job)

    def cancel_job(self, caller: Caller, job_id: int, message: str, forced: bool) -> None:
        """Cancel a job: running tasks fail, waiting ones are canceled."""
        check_message(message)
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            if job.state not in state_machine.CANCELABLE_JOB:
                raise errors.conflict(messages.INVALID_CANCEL_JOB_STATE, job.state.name)
            if job.state is not JobState.Configuring:
                self.stop_tasks(job, now, TaskState.Failed, messages.TASKS_JOB_CANCELED.template)
            state_machine.cancel_job(job, message, forced, now)
            self.store.save_job(job)

    def finish_job(self, caller: Caller, job_id: int, message: str) -> None:
        """Finish a job now: running tasks are canceled, the job is Finished."""
        check_message(message)
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            state = job.state
            if state not in state_machine.FINISHABLE_JOB:
                raise errors.conflict(
                    messages.INVALID_OPERATION,
                    f" jobs in the {state.name} state cannot be finished.",
                )
            self.stop_tasks(job, now, TaskState.Canceled, messages.TASKS_JOB_CANCELED.template)
            state_machine.set_job_state(job, JobState.Finished, now)
            self.store.save_job(job)

    def requeue_job(self, caller: Caller, job_id: int) -> None:
        """A Failed or Canceled job back to Queued; its unfinished tasks run again."""
        now = self.clock()
        with self.store.transaction():
            job = self.owned(caller, job_id)
            state = job.state
            if state not in state_machine.REQUEUEABLE_JOB:
                raise errors.conflict(
                    messages.INVALID_OPERATION,
                    f" jobs in the {state.name} state cannot be requeued; "
                    "only Failed or Canceled jobs can.",
                )
            tasks = self.store.tasks(job_id)
            masters = {t.task_id for t in tasks if t.is_master}
            expanded = {t.task_id for t in tasks if t.instance_id > 0}
            changed = []
            for task in tasks:
                if state_machine.reruns_on_job_requeue(task, task.task_id in expanded):
                    state_machine.queue_again(task, now)
                    changed.append(task)
            for master in (t for t in tasks if t.task_id in masters - expanded):
                if self.eager_sweeps:
                    changed.extend(expand_sweep(master, TaskState.Queued, now))
            self.store.save_tasks(changed)
            state_machine.requeue_job(job, now)
            self.store.save_job(job)

    def stop_tasks(self, job: JobRow, now: float, running_to: TaskState, why: str) -> None:
        """End every live task of a job: running ones → `running_to`, waiting ones → Canceled."""
        changed = []
        for task in self.store.tasks(job.id):
            running = state_machine.task_is_running(task)
            if state_machine.stop_for_job(task, running_to, why, now):
                if running:
                    self.executor.stop(task.key)
                changed.append(task)
        self.store.save_tasks(changed)

    # -- custom properties and environment -------------------------------------------------
    def set_custom(self, caller: Caller, job_id: int, task_id: int | None, props: Pairs) -> None:
        """Set custom properties of a job or task (an empty value is kept)."""
        for name, value in props:
            if not name.strip():
                raise errors.bad_request(messages.PROPERTY_NAME_CANNOT_BE_EMPTY)
            if len(name) > catalogue.MAX_CUSTOM_PROPERTY_NAME:
                raise errors.bad_request(messages.CUSTOM_PROPERTY_NAME_TOO_LONG, name, 80)
            if len(value) > catalogue.MAX_CUSTOM_PROPERTY_VALUE:
                raise errors.bad_request(messages.CUSTOM_PROPERTY_VALUE_TOO_LONG, value, 1024)
        self._set_pairs(caller, job_id, task_id, props, "custom")

    def set_env(self, caller: Caller, job_id: int, task_id: int | None, props: Pairs) -> None:
        """Set environment variables of a job or task (an empty value removes one)."""
        for name, value in props:
            check_environment_variable(name, value)
        self._set_pairs(caller, job_id, task_id, props, "env")

    def _set_pairs(
        self, caller: Caller, job_id: int, task_id: int | None, props: Pairs, which: str
    ) -> None:
        profile = self.profile  # msdocs/updating-a-job.md by default (state_machine)
        writable = (
            profile.custom_property_states if which == "custom" else profile.environment_states
        )
        with self.store.transaction():
            job = self.owned(caller, job_id)
            target: JobRow | TaskRow = job if task_id is None else self.task(job_id, task_id)
            if isinstance(target, TaskRow):
                if target.state not in state_machine.TASK_WRITABLE:
                    raise errors.conflict(
                        messages.TRY_TO_MODIFY_INVALID_STATE_TASK, target.state.name
                    )
            elif job.state not in writable:
                raise errors.conflict(messages.TRY_TO_MODIFY_INVALID_STATE_JOB, job.state.name)
            table: dict[str, str] = getattr(target, which)
            for name, value in props:
                existing = next((k for k in table if k.lower() == name.lower()), None)
                if existing is not None:
                    del table[existing]
                if value != "" or which == "custom":
                    table[name] = value
            state_machine.stamp(target.props, self.clock())
            if isinstance(target, TaskRow):
                self.store.save_task(target)
            else:
                self.store.save_job(target)


# Operation_EnvironmentVarNameTooLong / ValueTooLong give no numbers (derived/error-codes.json);
# these are Windows' own: 32,767 characters for a variable, names kept to 255 (docs/emulator.md).
ENV_NAME_LIMIT = 256  # "must be smaller than 256 characters"
ENV_VALUE_LIMIT = 32767


def check_environment_variable(name: str, value: str) -> None:
    """A settable environment variable: a name without `=`, not CCP_*, and lengths in range."""
    if not name.strip() or "=" in name or "\0" in name:
        raise errors.bad_request(messages.INVALID_ENVIRONMENT_VAR_NAME)
    if name.upper().startswith("CCP_"):
        raise errors.bad_request(messages.PRESERVED_ENVIRONMENT_VARIABLES)
    if len(name) >= ENV_NAME_LIMIT:
        raise errors.bad_request(messages.ENVIRONMENT_VAR_NAME_TOO_LONG, ENV_NAME_LIMIT)
    if len(value) >= ENV_VALUE_LIMIT:
        raise errors.bad_request(messages.ENVIRONMENT_VAR_VALUE_TOO_LONG, ENV_VALUE_LIMIT)
    if "\0" in value:
        raise errors.bad_request(messages.INVALID_ENVIRONMENT_VAR_VALUE)


def check_message(message: str) -> None:
    """A cancel or finish message is at most 128 characters (Operation_CancelMessageIsTooLong)."""
    if len(message) > MAX_MESSAGE:
        raise errors.bad_request(messages.CANCEL_MESSAGE_TOO_LONG)
