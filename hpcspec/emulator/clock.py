"""The scheduler's clock: validation, starting queued jobs on free cores, running tasks.

One `tick()` moves every active job as far as time allows (`research/hpcpack-ground-truth.md`
§4): Submitted → Validating → Queued (sweeps expanded, §5) → Running (cores from
`allocation.py`) → Finishing → Finished/Failed, and Canceling → Canceled; a Running job's tasks
advance in `task_runner.py`. The server calls `tick()` from a background thread.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from hpcspec.emulator import messages, state_machine
from hpcspec.emulator.allocation import allocate, count_usage
from hpcspec.emulator.job_validation import validate_job
from hpcspec.emulator.properties import parse_time
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.emulator.scheduler import Scheduler
from hpcspec.emulator.sweeps import expand_sweep
from hpcspec.emulator.task_launch import Launcher
from hpcspec.emulator.task_runner import TaskRunner
from hpcspec.hpcpack.states import JobState, TaskState


class SchedulerClock:
    """Advances jobs and tasks; `base_env` is the node environment the local executor sees."""

    def __init__(
        self, scheduler: Scheduler, work_root: str, base_env: Mapping[str, str] | None = None
    ) -> None:
        self.scheduler = scheduler
        self.store = scheduler.store
        env = dict(os.environ if base_env is None else base_env)
        self.launcher = Launcher(scheduler.cluster, env, work_root)

    def tick(self) -> None:
        """Move every active job one step, in one transaction."""
        with self.store.transaction():
            now = self.scheduler.clock()
            jobs = self.store.jobs_in(state_machine.ACTIVE_JOB)
            usage: dict[str, int] = {}
            exclusive: set[str] = set()
            for job in jobs:
                if job.state in state_machine.HOLDING_CORES:
                    count_usage(job, usage, exclusive)
            queued = [j for j in jobs if j.state is JobState.Queued]
            queued.sort(key=lambda j: (-int(j.props.get("ExpandedPriority", "2000")), j.id))
            for job in jobs:
                if job.state is not JobState.Queued:
                    self._step(job, now)
            for job in queued:
                if self._start(job, now, usage, exclusive):
                    count_usage(job, usage, exclusive)
                    TaskRunner(self.scheduler, self.launcher, job, now).advance()

    def _step(self, job: JobRow, now: float) -> None:
        state, since, timings = job.state, job.number("_since"), self.scheduler.timings
        if state is JobState.Submitted and now - since >= timings.submitted:
            state_machine.set_job_state(job, JobState.Validating, now)
            self.store.save_job(job)
        elif state is JobState.Validating and now - since >= timings.validating:
            self._validate(job, now)
        elif state is JobState.Running:
            TaskRunner(self.scheduler, self.launcher, job, now).advance()
        elif state is JobState.Finishing and now - since >= timings.finishing:
            state_machine.set_job_state(job, state_machine.end_of_finishing(job), now)
            self.store.save_job(job)
        elif state is JobState.Canceling and (
            job.props.get("_forced") or now - since >= timings.cancel_grace
        ):
            state_machine.set_job_state(job, JobState.Canceled, now)
            self.store.save_job(job)

    def _validate(self, job: JobRow, now: float) -> None:
        tasks = self.store.tasks(job.id)
        problem = validate_job(job, tasks, lambda i: self.store.job(i) is not None)
        changed: list[TaskRow] = []
        if problem:
            state_machine.fail_validation(job, tasks, problem, now)
            changed = tasks
        else:
            for task in tasks:
                if task.state in (TaskState.Submitted, TaskState.Validating):
                    state_machine.set_task_state(task, TaskState.Queued, now)
                    changed.append(task)
                    if task.is_master and self.scheduler.eager_sweeps:
                        changed += expand_sweep(task, TaskState.Queued, now)
            state_machine.set_job_state(job, JobState.Queued, now)
        self.store.save_tasks(changed)
        self.store.save_job(job)

    def _start(self, job: JobRow, now: float, usage: dict[str, int], exclusive: set[str]) -> bool:
        """Start a queued job if its hold, parents and free cores allow; True when started."""
        hold = job.props.get("HoldUntil", "")
        if hold and parse_time(hold) > now:
            return False
        parents = [int(p) for p in job.props.get("ParentJobIds", "").split(",") if p]
        for parent_id in parents:
            parent = self.store.job(parent_id)
            if parent is None or parent.state in (JobState.Failed, JobState.Canceled):
                why = messages.TASKS_JOB_CANCELED.template
                self.scheduler.stop_tasks(job, now, TaskState.Canceled, why)
                state_machine.cancel_for_parent(job, now)
                self.store.save_job(job)
                return False
            if parent.state is not JobState.Finished:
                return False
        tasks = self.store.tasks(job.id)
        lazy = not self.scheduler.eager_sweeps
        alloc = allocate(self.scheduler.cluster, job, tasks, usage, exclusive, lazy)
        if alloc is None:
            return False
        job.props["_alloc"] = json.dumps(alloc)
        job.props["AllocatedNodes"] = ",".join(alloc)
        state_machine.set_job_state(job, JobState.Running, now)
        self.store.save_job(job)
        return True
