"""Running one job's tasks for a tick: poll, fail fast, dispatch in dependency order, finish.

Rules from `research/hpcpack-ground-truth.md` §4: a task starts once every task named in its
DependsOn (and every task of a parent task group) has Finished; FailOnTaskFailure or a task's
FailJobOnFailure fails the job at once; otherwise the job ends (via Finishing) Finished when all
tasks Finished, else Failed; the job's RuntimeSeconds cancels it; RunUntilCanceled keeps it
running with nothing left to do.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from hpcspec.emulator import errors
from hpcspec.emulator import lifecycle as L
from hpcspec.emulator import properties as P
from hpcspec.emulator.outcome import apply_outcome
from hpcspec.emulator.store import JobRow, TaskRow
from hpcspec.emulator.validation import depends_on
from hpcspec.hpcpack.states import JobState, TaskState

if TYPE_CHECKING:
    from hpcspec.emulator.dispatch import Dispatcher


class TaskRunner:
    def __init__(self, dispatcher: Dispatcher, job: JobRow, now: float) -> None:
        self.d = dispatcher
        self.s = dispatcher.s
        self.job = job
        self.now = now
        self.tasks = self.s.store.tasks(job.id)
        self.leaves = [t for t in self.tasks if t.is_leaf]
        self.changed: dict[tuple[int, int, int], TaskRow] = {}

    def advance(self) -> None:
        job, now = self.job, self.now
        runtime = int(job.props.get("RuntimeSeconds", "0") or 0)
        if runtime and now - job.number("_started_job", job.number("_since")) >= runtime:
            job.props["ErrorMessage"] = errors.JOB_RUNTIME_EXPIRED.template
            self.s.stop_tasks(job, now, TaskState.Failed, errors.JOB_RUNTIME_EXPIRED.template)
            L.set_job_state(job, JobState.Canceled, now)
            self.s.store.save_job(job)
            return
        job.props.setdefault("_started_job", repr(now))
        culprit = self._poll()
        if culprit is not None:
            self._save()
            job.props["ErrorMessage"] = errors.TASK_FAILURE.template.format(culprit)
            self.s.stop_tasks(job, now, TaskState.Canceled, errors.TASKS_JOB_CANCELED.template)
            L.set_job_state(job, JobState.Failed, now)
            self.s.store.save_job(job)
            return
        self._dispatch()
        self._masters()
        self._save()
        self._maybe_finish()

    def _save(self) -> None:
        self.s.store.save_tasks(self.changed.values())
        self.changed.clear()

    def _poll(self) -> str | None:
        """Collect ended runs; the TaskId that fails the job at once, if any."""
        fail_fast = P.parse_bool(self.job.props.get("FailOnTaskFailure", "False"))
        executor = self.s.executor
        for task in self.leaves:
            if task.state is not TaskState.Running:
                continue
            if not executor.running(task.key):  # restarted emulator: resume the run
                executor.start(self.d.task_run(self.job, task, _placement(task)))
                continue
            outcome = executor.poll(task.key)
            if outcome is None:
                continue
            apply_outcome(self.job, task, outcome, self.now)
            self.changed[task.key] = task
            own = P.parse_bool(task.props.get("FailJobOnFailure", "False"))
            if task.props["State"] == "Failed" and (fail_fast or own):
                return task.props.get("TaskId", "")
        return None

    def _prerequisites(self) -> dict[int, list[TaskRow]]:
        """For each JobTaskId: the leaf tasks it must wait for (DependsOn names, groups)."""
        tops = [t for t in self.tasks if t.instance_id == 0]
        by_name: dict[str, set[int]] = {}
        for top in tops:
            by_name.setdefault(top.props.get("Name", "").lower(), set()).add(top.task_id)
        by_group: dict[str, set[int]] = {}
        for top in tops:
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
        return out

    def _dispatch(self) -> None:
        alloc: dict[str, int] = json.loads(self.job.props.get("_alloc") or "{}")
        used = dict.fromkeys(alloc, 0)
        for task in self.leaves:
            if task.state is TaskState.Running:
                for node, cores in _placement(task).items():
                    if node in used:
                        used[node] += cores
        prereqs = self._prerequisites()
        whole = self.job.props.get("UnitType", "Core") != "Core"
        fail_dependents = P.parse_bool(self.job.props.get("FailDependentTasks", "False"))
        for task in self.leaves:
            if task.state is not TaskState.Queued:
                continue
            before = prereqs.get(task.task_id, [])
            if any(not p.state.is_terminal for p in before):
                continue
            if any(p.state is not TaskState.Finished for p in before):
                blocked = TaskState.Failed if fail_dependents else TaskState.Canceled
                L.set_task_state(task, blocked, self.now)
                self.changed[task.key] = task
                continue
            placement = _place(task, self._allowed(task, alloc), used, whole)
            if placement is None:
                continue
            for node, cores in placement.items():
                used[node] += cores
            task.props["_placement"] = json.dumps(placement)
            task.props["AllocatedNodes"] = ",".join(placement)
            task.props["TotalCoreCount"] = str(sum(placement.values()))
            L.set_task_state(task, TaskState.Running, self.now)
            self.s.executor.start(self.d.task_run(self.job, task, placement))
            self.changed[task.key] = task

    def _allowed(self, task: TaskRow, alloc: dict[str, int]) -> dict[str, int]:
        """The job's nodes this task may use: its RequiredNodes and RequestedNodeGroup."""
        required = {n.strip().lower() for n in task.props.get("RequiredNodes", "").split(",")}
        required.discard("")
        group = task.props.get("RequestedNodeGroup", "").strip()
        members = None
        if group:
            cluster = self.s.cluster
            members = {n.name.lower() for n in cluster.members(cluster.group(group) or group)}
        return {
            node: cores
            for node, cores in alloc.items()
            if (not required or node.lower() in required)
            and (members is None or node.lower() in members)
        }

    def _masters(self) -> None:
        for master in (t for t in self.tasks if t.is_master):
            subs = [self.changed.get(t.key, t) for t in self.leaves if t.task_id == master.task_id]
            if not subs:
                continue
            state = L.master_state(subs)
            if state is not master.state:
                L.set_task_state(master, state, self.now)
                self.changed[master.key] = master

    def _maybe_finish(self) -> None:
        job = self.job
        live = [t for t in self.leaves if not t.state.is_terminal]
        if live or P.parse_bool(job.props.get("RunUntilCanceled", "False")):
            self.s.store.save_job(job)
            return
        failed = next((t for t in self.leaves if t.state is not TaskState.Finished), None)
        if failed is not None:
            job.props["_outcome"] = "Failed"
            job.props["ErrorMessage"] = errors.TASK_FAILURE.template.format(failed.props["TaskId"])
        else:
            job.props["_outcome"] = "Finished"
        L.set_job_state(job, JobState.Finishing, self.now)
        self.s.store.save_job(job)


def _placement(task: TaskRow) -> dict[str, int]:
    """The cores a running task holds on each node."""
    placed: dict[str, int] = json.loads(task.props.get("_placement") or "{}")
    return placed


def _place(
    task: TaskRow, alloc: dict[str, int], used: dict[str, int], whole: bool
) -> dict[str, int] | None:
    """Cores for a task within its job's allocation: MinCores across nodes, or a whole node."""
    if whole:  # Node or Socket units: whole nodes (one socket per emulated node)
        unit = "MinNodes" if "MinNodes" in task.props or "MinSockets" not in task.props else ""
        wanted = max(int(task.props.get(unit or "MinSockets", "1") or 1), 1)
        idle = [n for n in alloc if used[n] == 0][:wanted]
        return {n: alloc[n] for n in idle} if len(idle) == wanted else None
    need = max(int(task.props.get("MinCores", "1") or 1), 1)
    placement: dict[str, int] = {}
    for node in alloc:
        free = alloc[node] - used[node]
        if free > 0 and need > 0:
            take = min(free, need)
            placement[node] = take
            need -= take
    return placement if need == 0 else None
