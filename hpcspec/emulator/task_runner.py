"""Running one job's tasks for a tick: poll, fail fast, dispatch in dependency order, finish.

Rules from `research/hpcpack-ground-truth.md` §4: a task starts once every task named in its
DependsOn (and every task of a parent task group) has ended (`state_machine.readiness`);
FailOnTaskFailure or a task's FailJobOnFailure fails the job at once; otherwise the job ends
(via Finishing) Finished when all tasks Finished, else Failed; the job's RuntimeSeconds cancels
it; RunUntilCanceled keeps it running with nothing left to do.
"""

from __future__ import annotations

import json

from hpcspec.emulator import messages, state_machine
from hpcspec.emulator.allocation import allowed_nodes, place_task, task_placement
from hpcspec.emulator.job_validation import depends_on
from hpcspec.emulator.properties import parse_bool
from hpcspec.emulator.rows import JobRow, TaskKey, TaskRow
from hpcspec.emulator.scheduler import Scheduler
from hpcspec.emulator.sweeps import pending_instances, subtasks
from hpcspec.emulator.task_launch import Launcher
from hpcspec.hpcpack.profile import SweepExpansion
from hpcspec.hpcpack.states import TaskState


class TaskRunner:
    """One tick of one Running job; `advance()` does it and saves what changed."""

    def __init__(self, scheduler: Scheduler, launcher: Launcher, job: JobRow, now: float) -> None:
        self.scheduler = scheduler
        self.store = scheduler.store
        self.executor = scheduler.executor
        self.launcher = launcher
        self.job = job
        self.now = now
        self.tasks = self.store.tasks(job.id)
        self.leaves = [t for t in self.tasks if t.is_leaf]
        self.changed: dict[TaskKey, TaskRow] = {}
        self.lazy = scheduler.profile.sweep_expansion is SweepExpansion.LAZY
        # lazy sweeps: masters with instances not yet materialized → how many remain
        self.pending = {
            m.task_id: pending_instances(m)
            for m in self.tasks
            if m.is_master and self.lazy and not m.state.is_terminal
        }

    def advance(self) -> None:
        """Move the job's tasks as far as this tick allows."""
        job, now = self.job, self.now
        runtime = int(job.props.get("RuntimeSeconds", "0") or 0)
        if runtime and now - job.number("_started_job", job.number("_since")) >= runtime:
            why = messages.JOB_RUNTIME_EXPIRED.template
            self.scheduler.stop_tasks(job, now, TaskState.Failed, why)
            state_machine.expire_job(job, now)
            self.store.save_job(job)
            return
        job.props.setdefault("_started_job", repr(now))
        culprit = self._poll()
        if culprit is not None:
            self._save()
            why = messages.TASKS_JOB_CANCELED.template
            self.scheduler.stop_tasks(job, now, TaskState.Canceled, why)
            state_machine.fail_job(job, culprit, now)
            self.store.save_job(job)
            return
        self._dispatch()
        self._masters()
        self._save()
        self._maybe_finish()

    def _save(self) -> None:
        self.store.save_tasks(self.changed.values())
        self.changed.clear()

    def _poll(self) -> str | None:
        """Collect ended runs; the TaskId that fails the job at once, if any."""
        fail_fast = parse_bool(self.job.props.get("FailOnTaskFailure", "False"))
        for task in self.leaves:
            if task.state is not TaskState.Running:
                continue
            if not self.executor.running(task.key):  # restarted emulator: resume the run
                run = self.launcher.task_run(self.job, task, task_placement(task))
                self.executor.start(run)
                continue
            outcome = self.executor.poll(task.key)
            if outcome is None:
                continue
            state_machine.finish_run(self.job, task, outcome, self.now)
            self.changed[task.key] = task
            own = parse_bool(task.props.get("FailJobOnFailure", "False"))
            ended = TaskState.parse(task.props["State"])  # finish_run changed it
            if ended is TaskState.Failed and (fail_fast or own):
                return task.props.get("TaskId", "")
        return None

    def _prerequisites(self) -> dict[int, list[TaskRow]]:
        """For each JobTaskId: the leaf tasks it must wait for (DependsOn names, groups)."""
        tops = [t for t in self.tasks if t.instance_id == 0]
        by_name: dict[str, set[int]] = {}
        by_group: dict[str, set[int]] = {}
        for top in tops:
            by_name.setdefault(top.props.get("Name", "").lower(), set()).add(top.task_id)
            by_group.setdefault(top.props.get("GroupId", "0"), set()).add(top.task_id)
        edges: list[list[int]] = json.loads(self.job.props.get("_group_deps", "[]"))
        out: dict[int, list[TaskRow]] = {}
        for top in tops:
            ids: set[int] = set()
            for name in depends_on(top):
                ids |= by_name.get(name.lower(), set())
            group = top.props.get("GroupId", "0")
            for parent, child in edges:
                if str(child) == group:
                    ids |= by_group.get(str(parent), set())
            out[top.task_id] = [t for t in self.leaves if t.task_id in ids]
            # a lazy sweep with instances still to come has not ended: its master stands in
            out[top.task_id] += [
                t for t in tops if t.task_id in ids and self.pending.get(t.task_id)
            ]
        return out

    def _dispatch(self) -> None:
        alloc: dict[str, int] = json.loads(self.job.props.get("_alloc") or "{}")
        used = dict.fromkeys(alloc, 0)
        for task in self.leaves:
            if task.state is TaskState.Running:
                for node, cores in task_placement(task).items():
                    if node in used:
                        used[node] += cores
        prerequisites = self._prerequisites()
        whole = self.job.props.get("UnitType", "Core") != "Core"
        fail_dependents = parse_bool(self.job.props.get("FailDependentTasks", "False"))
        cluster = self.scheduler.cluster
        if self.pending:
            free = sum(alloc.values()) - sum(used.values())
            self._materialize(prerequisites, fail_dependents, free)
        for task in self.leaves:
            if task.state is not TaskState.Queued:
                continue
            before = prerequisites.get(task.task_id, [])
            verdict = state_machine.readiness(before, fail_dependents)
            if verdict is state_machine.Readiness.WAIT:
                continue
            if verdict is state_machine.Readiness.BLOCKED:
                culprit = state_machine.first_unfinished(before) or task
                state_machine.block_dependent(task, culprit, self.now)
                self.changed[task.key] = task
                continue
            placement = place_task(task, allowed_nodes(cluster, task, alloc), used, whole)
            if placement is None:
                continue
            for node, cores in placement.items():
                used[node] += cores
            task.props["_placement"] = json.dumps(placement)
            task.props["AllocatedNodes"] = ",".join(placement)
            task.props["TotalCoreCount"] = str(sum(placement.values()))
            state_machine.set_task_state(task, TaskState.Running, self.now)
            self.executor.start(self.launcher.task_run(self.job, task, placement))
            self.changed[task.key] = task

    def _materialize(
        self, prerequisites: dict[int, list[TaskRow]], fail_dependents: bool, free: int
    ) -> None:
        """Lazy sweeps: create the next subtasks of ready masters, as many as cores are free."""
        for master in (t for t in self.tasks if t.is_master and self.pending.get(t.task_id)):
            if master.state not in (TaskState.Queued, TaskState.Running) or free <= 0:
                continue
            before = prerequisites.get(master.task_id, [])
            verdict = state_machine.readiness(before, fail_dependents)
            if verdict is state_machine.Readiness.WAIT:
                continue
            if verdict is state_machine.Readiness.BLOCKED:
                culprit = state_machine.first_unfinished(before) or master
                state_machine.block_dependent(master, culprit, self.now)
                self.pending[master.task_id] = 0
                self.changed[master.key] = master
                continue
            need = max(int(master.props.get("MinCores", "1") or 1), 1)
            count = min(self.pending[master.task_id], max(free // need, 1))
            made = int(master.props.get("_materialized", "0") or 0)
            rows = subtasks(master, range(made + 1, made + count + 1), TaskState.Queued, self.now)
            master.props["_materialized"] = str(made + count)
            self.pending[master.task_id] -= count
            free -= count * need
            self.changed[master.key] = master
            self.leaves += rows
            for row in rows:
                self.changed[row.key] = row

    def _masters(self) -> None:
        for master in (t for t in self.tasks if t.is_master):
            subs = [self.changed.get(t.key, t) for t in self.leaves if t.task_id == master.task_id]
            if not subs:
                continue
            state = state_machine.master_state(subs)
            if self.pending.get(master.task_id):  # more instances to come
                state = TaskState.Running
            if state is not master.state:
                state_machine.set_task_state(master, state, self.now)
                self.changed[master.key] = master

    def _maybe_finish(self) -> None:
        job = self.job
        live = [t for t in self.leaves if not t.state.is_terminal] + [
            t for t in self.tasks if t.is_master and self.pending.get(t.task_id)
        ]
        if not live and not parse_bool(job.props.get("RunUntilCanceled", "False")):
            state_machine.start_finishing(job, self.leaves, self.now)
        self.store.save_job(job)
