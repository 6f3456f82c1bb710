"""The order of a job's tasks, compared (pure): part of the spec no edit can change.

HPC Pack numbers a job's tasks in the order they are added (and runs them in that order,
resources allowing) and never renumbers them; `diff.task_diffs` adds this module's
`taskOrder` difference (docs/manifest.md, *Digest*).
"""

from __future__ import annotations

from hpcspec.engine.plan import DiffSection, FieldDiff
from hpcspec.hpcpack.definition import TaskDefinition


def task_order_diff(
    desired: tuple[TaskDefinition, ...], live: tuple[TaskDefinition, ...]
) -> FieldDiff | None:
    """`taskOrder` when the job's tasks stand in another order than the manifest's: tasks
    the manifest adds go last, and any other order needs a new job. Linear in the tasks."""
    wanted = [t.name for t in desired]
    names = {n.lower() for n in wanted}
    kept: list[str] = []
    have: set[str] = set()
    for task in live:
        name = task.name.lower()
        if name in names and name not in have:
            kept.append(task.name)
            have.add(name)
    after_edit = [*kept, *(n for n in wanted if n.lower() not in have)]
    if [n.lower() for n in after_edit] == [n.lower() for n in wanted]:
        return None
    return FieldDiff(
        DiffSection.JOB, "taskOrder", ", ".join(kept), ", ".join(wanted), allowed_now=False
    )
