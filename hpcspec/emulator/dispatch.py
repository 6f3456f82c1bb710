"""The scheduler's clock: validation, starting queued jobs on free cores, running tasks.

One `tick()` moves every active job as far as time allows (`research/hpcpack-ground-truth.md`
§4): Submitted → Validating → Queued (sweeps expanded, §5) → Running (cores allocated within
Min/Max, node groups, requested nodes, exclusivity) → Finishing → Finished/Failed, and
Canceling → Canceled. Tasks start when their DependsOn names and task-group parents have
finished. The server calls `tick()` from a background thread.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from hpcspec.emulator import errors
from hpcspec.emulator import lifecycle as L
from hpcspec.emulator import properties as P
from hpcspec.emulator.cluster import Node
from hpcspec.emulator.executors import TaskRun
from hpcspec.emulator.running import TaskRunner
from hpcspec.emulator.scheduler import Scheduler
from hpcspec.emulator.store import JobRow, TaskRow
from hpcspec.emulator.validation import validate_job
from hpcspec.hpcpack.states import JobState, TaskState

ACTIVE = (
    JobState.Submitted,
    JobState.Validating,
    JobState.ExternalValidation,
    JobState.Queued,
    JobState.Running,
    JobState.Finishing,
    JobState.Canceling,
)
_HOLDING = (JobState.Running, JobState.Finishing, JobState.Canceling)


class Dispatcher:
    """Advances jobs and tasks; `base_env` is the node environment the local executor sees."""

    def __init__(
        self, scheduler: Scheduler, work_root: str, base_env: Mapping[str, str] | None = None
    ) -> None:
        self.s = scheduler
        self.work_root = work_root
        self.base_env = dict(os.environ if base_env is None else base_env)

    def tick(self) -> None:
        store = self.s.store
        with store.transaction():
            now = self.s.clock()
            jobs = store.jobs_in(ACTIVE)
            usage: dict[str, int] = {}
            exclusive: set[str] = set()
            for job in jobs:
                if job.state in _HOLDING:
                    self._count(job, usage, exclusive)
            queued = [j for j in jobs if j.state is JobState.Queued]
            queued.sort(key=lambda j: (-int(j.props.get("ExpandedPriority", "2000")), j.id))
            for job in jobs:
                if job.state is not JobState.Queued:
                    self._step(job, now)
            for job in queued:
                if self._start(job, now, usage, exclusive):
                    self._count(job, usage, exclusive)
                    self._run(job, now)

    # -- per state -------------------------------------------------------------------------
    def _step(self, job: JobRow, now: float) -> None:
        state, since, t = job.state, job.number("_since"), self.s.timings
        if state is JobState.Submitted and now - since >= t.submitted:
            L.set_job_state(job, JobState.Validating, now)
            self.s.store.save_job(job)
        elif state is JobState.Validating and now - since >= t.validating:
            self._validate(job, now)
        elif state is JobState.Running:
            self._run(job, now)
        elif state is JobState.Finishing and now - since >= t.finishing:
            L.set_job_state(job, JobState.parse(job.props.get("_outcome", "Finished")), now)
            self.s.store.save_job(job)
        elif state is JobState.Canceling and (
            job.props.get("_forced") or now - since >= t.cancel_grace
        ):
            L.set_job_state(job, JobState.Canceled, now)
            self.s.store.save_job(job)

    def _validate(self, job: JobRow, now: float) -> None:
        tasks = self.s.store.tasks(job.id)
        problem = validate_job(job, tasks, lambda i: self.s.store.job(i) is not None)
        changed: list[TaskRow] = []
        if problem:
            job.props["ErrorMessage"] = problem
            for task in tasks:
                task.props["ErrorMessage"] = errors.TASK_FAILED_ON_JOB_VALIDATION.template
                L.set_task_state(task, TaskState.Failed, now)
                changed.append(task)
            L.set_job_state(job, JobState.Failed, now)
        else:
            for task in tasks:
                if task.state in (TaskState.Submitted, TaskState.Validating):
                    L.set_task_state(task, TaskState.Queued, now)
                    changed.append(task)
                    if task.is_master:
                        changed += L.expand_sweep(task, TaskState.Queued, now)
            L.set_job_state(job, JobState.Queued, now)
        self.s.store.save_tasks(changed)
        self.s.store.save_job(job)

    # -- starting jobs ---------------------------------------------------------------------
    def _start(self, job: JobRow, now: float, usage: dict[str, int], exclusive: set[str]) -> bool:
        hold = job.props.get("HoldUntil", "")
        if hold and P.parse_time(hold) > now:
            return False
        parents = [int(p) for p in job.props.get("ParentJobIds", "").split(",") if p]
        for parent_id in parents:
            parent = self.s.store.job(parent_id)
            if parent is None or parent.state in (JobState.Failed, JobState.Canceled):
                job.props["ErrorMessage"] = errors.PARENT_JOB_CANCELED.template
                self.s.stop_tasks(job, now, TaskState.Canceled, errors.TASKS_JOB_CANCELED.template)
                L.set_job_state(job, JobState.Canceled, now)
                self.s.store.save_job(job)
                return False
            if parent.state is not JobState.Finished:
                return False
        alloc = self._allocate(job, usage, exclusive)
        if alloc is None:
            return False
        job.props["_alloc"] = json.dumps(alloc)
        job.props["AllocatedNodes"] = ",".join(alloc)
        L.set_job_state(job, JobState.Running, now)
        self.s.store.save_job(job)
        return True

    def _count(self, job: JobRow, usage: dict[str, int], exclusive: set[str]) -> None:
        alloc: dict[str, int] = json.loads(job.props.get("_alloc") or "{}")
        for node, cores in alloc.items():
            usage[node] = usage.get(node, 0) + cores
            if P.parse_bool(job.props.get("IsExclusive", "False")):
                exclusive.add(node)

    def _candidates(self, job: JobRow) -> list[list[Node]]:
        """Candidate node lists: one list, or one per group for the Uniform operator."""
        cluster = self.s.cluster
        groups = [g for g in job.props.get("NodeGroups", "").split(",") if g]
        requested = {n.lower() for n in job.props.get("RequestedNodes", "").split(",") if n}
        if not groups:
            lists = [cluster.compute()]
        else:
            members = [cluster.members(cluster.group(g) or g) for g in groups]
            op = job.props.get("NodeGroupOp", "Intersect")
            if op == "Uniform":
                lists = members
            elif op == "Union":
                names = {n.name for m in members for n in m}
                lists = [[n for n in cluster.nodes() if n.name in names]]
            else:
                names = set.intersection(*({n.name for n in m} for m in members))
                lists = [[n for n in cluster.nodes() if n.name in names]]
        if requested:
            lists = [[n for n in nodes if n.name.lower() in requested] for nodes in lists]
        return lists

    def _allocate(
        self, job: JobRow, usage: dict[str, int], exclusive: set[str]
    ) -> dict[str, int] | None:
        low, high = self._bounds(job)
        whole = job.props.get("UnitType", "Core") != "Core"
        solo = P.parse_bool(job.props.get("IsExclusive", "False"))
        wanted = self._task_nodes(job)  # nodes its tasks ask for come first
        for nodes in self._candidates(job):
            alloc: dict[str, int] = {}
            units = 0
            for node in sorted(nodes, key=lambda n: n.name.lower() not in wanted):
                needed = node.name.lower() in wanted
                if units >= high and not needed:
                    break
                used = usage.get(node.name, 0)
                if node.name in exclusive or ((whole or solo) and used):
                    continue
                free = node.cores - used
                if free <= 0:
                    continue
                take = free if (whole or solo) else max(min(free, high - units), 1)
                alloc[node.name] = take
                units += 1 if whole else take
            if units >= low:
                return alloc
        return None

    def _task_nodes(self, job: JobRow) -> set[str]:
        """Lower-case names of the nodes the job's tasks require or request (by group)."""
        cluster = self.s.cluster
        out: set[str] = set()
        for task in self.s.store.tasks(job.id):
            out |= {n.strip().lower() for n in task.props.get("RequiredNodes", "").split(",")}
            group = task.props.get("RequestedNodeGroup", "").strip()
            if group:
                out |= {n.name.lower() for n in cluster.members(cluster.group(group) or group)}
        out.discard("")
        return out

    def _bounds(self, job: JobRow) -> tuple[int, int]:
        unit = {"Core": "Cores", "Socket": "Sockets", "Node": "Nodes"}.get(
            job.props.get("UnitType", "Core"), "Cores"
        )
        leaves = [t for t in self.s.store.tasks(job.id) if t.is_leaf]
        auto_min = P.parse_bool(job.props.get("AutoCalculateMin", "True"))
        auto_max = P.parse_bool(job.props.get("AutoCalculateMax", "True"))
        task_min = [int(t.props.get(f"Min{unit}", "1")) for t in leaves] or [1]
        low = max(task_min) if auto_min else int(job.props.get(f"Min{unit}", "1"))
        if auto_max:
            high = max(sum(int(t.props.get(f"Max{unit}", "1")) for t in leaves), low)
        else:
            high = int(job.props.get(f"Max{unit}", "1"))
        return max(low, 1), max(high, low, 1)

    # -- running tasks ---------------------------------------------------------------------
    def _run(self, job: JobRow, now: float) -> None:
        TaskRunner(self, job, now).advance()

    def task_run(self, job: JobRow, task: TaskRow, placement: dict[str, int]) -> TaskRun:
        """What the executor needs: command, env (cluster < job < task < CCP_*), directory."""
        cores = sum(placement.values())
        nodes = " ".join(f"{n} {c}" for n, c in placement.items())
        env = dict(self.base_env)
        env.update(dict(self.s.cluster.env))
        env.update(job.env)
        env.update(task.env)
        env.update(
            {
                "CCP_JOBID": str(job.id),
                "CCP_JOBNAME": job.props.get("Name", ""),
                "CCP_TASKID": str(task.task_id),
                "CCP_TASKINSTANCEID": str(task.instance_id),
                "CCP_TASKSYSTEMID": task.props.get("Id", ""),
                "CCP_TASKNAME": task.props.get("Name", ""),
                "CCP_NUMCPUS": str(cores),
                "CCP_NODES": f"{len(placement)} {nodes}",
                "CCP_SCHEDULER": self.s.cluster.head_node,
                "CCP_CLUSTER_NAME": self.s.cluster.head_node,
                "CCP_OWNER": job.owner,
                "CCP_RETRY_COUNT": task.props.get("RequeueCount", "0"),
                "CCP_EXCLUSIVE": str(P.parse_bool(job.props.get("IsExclusive", "False"))),
            }
        )
        work = task.props.get("WorkDirectory") or self.work_root
        env["CCP_WORKDIR"] = work
        return TaskRun(
            key=task.key,
            command_line=task.props.get("CommandLine", ""),
            env=env,
            work_directory=work,
            runtime_seconds=int(task.props.get("RuntimeSeconds", "0") or 0),
            started_at=started_at(task),
        )


def started_at(task: TaskRow) -> float:
    return float(task.props.get("_started", "0") or 0)
