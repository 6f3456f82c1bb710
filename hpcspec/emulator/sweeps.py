"""Expanding a parametric sweep master into its subtasks, all at once or as they run.

A cluster profile says which (`SweepExpansion`): eager, every subtask once the job passes
validation (the 2008 COM documentation); lazy, the runner creates them as cores free up, so
a subtask not dispatched yet answers "has not been expanded yet" (2016 U3, ground truth §5).
The master's `_materialized` counts the subtasks that exist.

Instance ids, values and `*` substitution are `hpcspec.hpcpack.sweep`
(`derived/parametric-sweep-vectors.json`, ground truth §5): subtask i = 1..count has value
`StartValue + (i-1)*IncrementValue`, TaskId `job.task.i`, and the master's properties with
`*` runs replaced in CommandLine, Name and the StdIn/StdOut/StdErr paths.
"""

from __future__ import annotations

from hpcspec.emulator.rows import TaskRow
from hpcspec.emulator.state_machine import set_task_state
from hpcspec.hpcpack import sweep
from hpcspec.hpcpack.states import TaskState


def sweep_bounds(master: TaskRow) -> tuple[int, int, int]:
    """(StartValue, EndValue, IncrementValue) of a sweep master."""
    start = int(master.props.get("StartValue", "0") or 0)
    end = int(master.props.get("EndValue", "0") or 0)
    step = int(master.props.get("IncrementValue", "1") or 1)
    return start, end, step


def instance_count(master: TaskRow) -> int:
    """How many instances a sweep master has."""
    return sweep.instance_count(*sweep_bounds(master))


def expand_sweep(master: TaskRow, state: TaskState, now: float) -> list[TaskRow]:
    """Every subtask of a sweep master, in `state` (eager expansion)."""
    master.props["_materialized"] = str(instance_count(master))
    return subtasks(master, range(1, instance_count(master) + 1), state, now)


def pending_instances(master: TaskRow) -> int:
    """Lazy expansion: how many of a master's subtasks do not exist yet."""
    return instance_count(master) - int(master.props.get("_materialized", "0") or 0)


def subtasks(master: TaskRow, instances: range, state: TaskState, now: float) -> list[TaskRow]:
    """The subtasks `instances` (1-based instance ids) of a sweep master, in `state`."""
    start, _, step = sweep_bounds(master)
    shared = {k: v for k, v in master.props.items() if not k.startswith("_")}
    out = []
    for instance in instances:
        value = sweep.instance_value(start, step, instance)
        props = dict(shared)
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
