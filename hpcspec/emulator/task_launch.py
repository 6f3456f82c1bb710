"""What an executor needs to start one task: its command line, environment and directory.

Environment precedence (ground truth §7, 2016 U3): the node's own environment < cluster <
job < task environment variables, then the HPC-defined CCP_* variables, which users cannot
override (`Operation_PreservedEnvironmentVariables`). The working directory is the task's
WorkDirectory, else the emulator's work root; the standard stream files are the task's
StdIn/StdOut/StdErrFilePath (a sweep's subtasks have their `*` runs substituted already,
`sweeps.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hpcspec.emulator.allocation import Allocation
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.executors import TaskRun
from hpcspec.emulator.properties import parse_bool
from hpcspec.emulator.rows import JobRow, TaskRow


@dataclass(frozen=True)
class Launcher:
    """Builds TaskRuns for one emulated cluster; `base_env` is what a node's processes see."""

    cluster: ClusterSpec
    base_env: Mapping[str, str]
    work_root: str

    def task_run(self, job: JobRow, task: TaskRow, placement: Allocation) -> TaskRun:
        """The run of `task` on the cores `placement` gives it."""
        cores = sum(placement.values())
        nodes = " ".join(f"{n} {c}" for n, c in placement.items())
        env = dict(self.base_env)
        env.update(dict(self.cluster.env))
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
                "CCP_SCHEDULER": self.cluster.head_node,
                "CCP_CLUSTER_NAME": self.cluster.head_node,
                "CCP_OWNER": job.owner,
                "CCP_RETRY_COUNT": task.props.get("RequeueCount", "0"),
                "CCP_EXCLUSIVE": str(parse_bool(job.props.get("IsExclusive", "False"))),
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
            started_at=float(task.props.get("_started", "0") or 0),
            stdin_path=task.props.get("StdInFilePath", ""),
            stdout_path=task.props.get("StdOutFilePath", ""),
            stderr_path=task.props.get("StdErrFilePath", ""),
        )
