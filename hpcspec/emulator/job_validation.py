"""Job validation at submit time (the Validating state): dependencies, sweeps, parent jobs.

Messages from `reference/hpcpack/derived/error-codes.json` (Validation_*); rules from
`research/hpcpack-ground-truth.md` §3.2 (DependsOn by task name — only of a Basic or
ParametricSweep task —, cycles, a named task) and §5, where the COM documentation is the
stricter source: a sweep starts at 1 or more (`msdocs/ischedulertask-startvalue.md`: "The value
must be greater than zero"), ends at or after its start, steps by 1 or more, and has at most
100,000 instances (`msdocs/ischedulertask-isparametric.md`; the 2016-era code allows 1,000,000).
"""

from __future__ import annotations

from collections.abc import Callable

from hpcspec.emulator import messages
from hpcspec.emulator.rows import JobRow, TaskRow
from hpcspec.hpcpack import sweep

MAX_SWEEP_INSTANCES = 100_000  # msdocs/ischedulertask-isparametric.md
DEPENDABLE_TYPES = ("Basic", "ParametricSweep")  # Validation_InvalidDependsOn


def depends_on(task: TaskRow) -> list[str]:
    """The task names in a task's DependsOn (a comma list)."""
    return [n.strip() for n in task.props.get("DependsOn", "").split(",") if n.strip()]


def validate_job(job: JobRow, tasks: list[TaskRow], job_exists: Callable[[int], bool]) -> str:
    """The first validation failure's message, or "" when the job may be queued."""
    missing = [p for p in job.props.get("ParentJobIds", "").split(",") if p]
    missing = [p for p in missing if not job_exists(int(p))]
    if missing:
        return messages.JOB_HAS_MISSING_PARENT_JOBS.template.format(",".join(missing))
    tops = [t for t in tasks if t.instance_id == 0]
    names = {
        t.props.get("Name", "").lower()
        for t in tops
        if t.props.get("Name") and t.props.get("Type", "Basic") in DEPENDABLE_TYPES
    }
    graph: dict[str, set[str]] = {}
    for task in tops:
        needs = depends_on(task)
        name = task.props.get("Name", "")
        if needs and not name:
            return messages.TASK_HAS_DEPEND_ON_BUT_NO_NAME.template.format(task.props["TaskId"])
        for need in needs:
            if need.lower() not in names:
                return messages.INVALID_DEPENDS_ON.template.format(need)
        graph.setdefault(name.lower(), set()).update(n.lower() for n in needs)
        if task.is_master:
            problem = _sweep_problem(task)
            if problem:
                return problem
    if _has_cycle(graph):
        return messages.TASK_DEPENDENCIES_CONTAIN_CYCLE.template
    return ""


def _sweep_problem(task: TaskRow) -> str:
    start = int(task.props.get("StartValue", "0") or 0)
    end = int(task.props.get("EndValue", "0") or 0)
    step = int(task.props.get("IncrementValue", "1") or 1)
    if start < 1:
        return (
            "The task has invalid parametric sweep settings: The start value "
            f"{start} must be greater than zero."
        )
    if start > end:
        return messages.TASK_INVALID_PARAMETRIC_SWEEP.template.format(start, end)
    if step < 1:
        return messages.TASK_INCREMENT_LESS_THAN_ZERO.template
    count = sweep.instance_count(start, end, step)
    if count > MAX_SWEEP_INSTANCES:
        return messages.TOO_MANY_PARAMETRIC_INSTANCES.template.format(count, MAX_SWEEP_INSTANCES)
    return ""


def _has_cycle(graph: dict[str, set[str]]) -> bool:
    done: set[str] = set()
    active: set[str] = set()

    def visit(name: str) -> bool:
        if name in active:
            return True
        if name in done:
            return False
        active.add(name)
        if any(visit(n) for n in graph.get(name, ())):
            return True
        active.discard(name)
        done.add(name)
        return False

    return any(visit(n) for n in list(graph))
