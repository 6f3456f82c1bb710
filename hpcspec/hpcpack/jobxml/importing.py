"""The importer's view of a job file (`JobDocument`) → a `JobDefinition` a manifest can hold.

`read.py` reads a file exactly as HPC Pack's importer does; here hpcspec decides what a
manifest needs beyond that (docs/job-xml.md): names for unnamed tasks, one priority for a
file that gives both Priority and ExpandedPriority, and task groups as dependsOn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace

from hpcspec.hpcpack import values as value_forms
from hpcspec.hpcpack.catalogue import Value
from hpcspec.hpcpack.definition import (
    JobDefinition,
    Sweep,
    TaskDefinition,
    pairs,
    task_definition,
)
from hpcspec.hpcpack.jobxml.attributes import values_at
from hpcspec.hpcpack.jobxml.read import JobDocument, TaskDocument, read_document
from hpcspec.hpcpack.jobxml.safe import JobXmlError
from hpcspec.hpcpack.jobxml.schema import IMPORTED_TASK_PROPERTIES


def parse(data: bytes, *, source: str) -> JobDefinition:
    """Job XML → a JobDefinition, by the importer's rules; JobXmlError names `source`."""
    return to_definition(read_document(data, source=source))


def to_definition(document: JobDocument) -> JobDefinition:
    """The importer's view → a JobDefinition for a manifest.

    Where a manifest needs more than the importer's view, the choices are hpcspec's (see
    docs/job-xml.md): unnamed tasks are named `taskN` (`task_names`), a Priority and
    ExpandedPriority pair is settled by `priority_choice`, and task groups become dependsOn.
    """
    values = dict(document.values)
    parents = str(values.pop("ParentJobIds", "") or "")
    priority, _ = priority_choice(document)
    if priority is not None:
        values["Priority"] = priority
    names = task_names(document)
    tasks = [
        _task_definition(t, name, document.source)
        for t, name in zip(document.tasks, names, strict=True)
    ]
    if document.group_dependencies:
        tasks = _group_edges_as_depends(document, tasks)
    return JobDefinition(
        properties=pairs(values),
        custom_properties=document.custom,
        env=tuple(document.env),
        tasks=tuple(tasks),
        parent_job_ids=tuple(int(p) for p in parents.split(",") if p),
    )


def task_names(document: JobDocument) -> list[str]:
    """Each task's name; an unnamed task is `taskN` (N its position), unique in the job."""
    given = [str(t.values.get("Name", "")) for t in document.tasks]
    if all(given):  # the common case: every task is named
        return given
    taken = {name.lower() for name in given if name}
    out = []
    for position, name in enumerate(given, 1):
        if not name:
            name = f"task{position}"
            suffix = 2
            while name.lower() in taken:
                name, suffix = f"task{position}-{suffix}", suffix + 1
            taken.add(name.lower())
        out.append(name)
    return out


def priority_choice(document: JobDocument) -> tuple[int | None, str | None]:
    """The priority for a file that gives both Priority and ExpandedPriority, and a warning.

    The importer applies whichever comes later. hpcspec keeps the ExpandedPriority when it
    lies in the bucket Priority names (`Normal` with 2500: 2500), and otherwise keeps the
    named priority and warns: the 2010 exports pair `Priority="Normal"` with
    `ExpandedPriority="200"`, which the importer would read as Lowest+200.
    """
    named = [v for a, v in document.priorities if a.lower() == "priority"]
    expanded = [v for a, v in document.priorities if a.lower() == "expandedpriority"]
    if not named or not expanded:
        return None, None
    base = min(named[-1] // 1000 * 1000, value_forms.MAX_PRIORITY)
    top = base if base == value_forms.MAX_PRIORITY else base + 999
    if base <= expanded[-1] <= top:
        return expanded[-1], None
    bucket = value_forms.format_priority(base)
    later = document.priorities[-1][1]
    return named[-1], (
        f"Priority={value_forms.format_priority(named[-1])} and ExpandedPriority="
        f"{expanded[-1]} disagree ({expanded[-1]} is outside {bucket}'s {base}..{top}); kept "
        f"{value_forms.format_priority(named[-1])} ({named[-1]}) — HPC Pack's importer would "
        f"apply the later attribute: {value_forms.format_priority(later)} ({later})"
    )


def _task_definition(task: TaskDocument, name: str, source: str) -> TaskDefinition:
    values = task.values
    kind = values.get("Type", "Basic")
    if kind not in ("Basic", "ParametricSweep"):
        raise JobXmlError(
            f"task {task.position} is a {kind} task; hpcspec manifests hold Basic and "
            "ParametricSweep tasks only",
            source=source,
            hint="remove the task from the file, or manage this job outside hpcspec",
        )
    if "CommandLine" not in values:
        raise JobXmlError(f"task {task.position} has no CommandLine", source=source)
    sweep = None
    if kind == "ParametricSweep":
        if "StartValue" not in values or "EndValue" not in values:
            raise JobXmlError(
                f"parametric sweep task {task.position} needs StartValue and EndValue",
                source=source,
            )
        sweep = Sweep(
            int(values["StartValue"]), int(values["EndValue"]), int(values.get("IncrementValue", 1))
        )
    depends = values.get("DependsOn")
    work = values.get("WorkDirectory")
    names, of = _imported(tuple(values))  # by the names this task sets, in attribute order
    return task_definition(  # TaskDefinition(...), faster: once per task of 100,000
        name,
        str(values["CommandLine"]),
        str(work) if work is not None else None,
        _depends_on(str(depends)) if depends else (),
        tuple(zip(names, of(values), strict=True)) if names else (),
        task.custom,
        task.env,
        sweep,
    )


@functools.lru_cache(maxsize=256)  # the tasks of a big file mostly set the same names
def _imported(
    given: tuple[str, ...],
) -> tuple[tuple[str, ...], Callable[[Mapping[str, Value]], tuple[Value, ...]]]:
    """The catalogue properties among the names a task sets, sorted, and a getter of their
    values."""
    names = tuple(sorted(set(given) & IMPORTED_TASK_PROPERTIES))
    return names, values_at(names)


def _depends_on(text: str) -> tuple[str, ...]:
    """A DependsOn list: comma-separated task names, trimmed, empty entries dropped."""
    if "," not in text:
        name = text.strip()
        return (name,) if name else ()
    return tuple(n.strip() for n in text.split(",") if n.strip())


# Most dependsOn entries group edges may add to a job: each task of a child group depends on
# every task of its parent group, which grows as the product of the groups' sizes.
MAX_GROUP_EDGES = 1_000_000


def _group_edges_as_depends(
    document: JobDocument, tasks: list[TaskDefinition]
) -> list[TaskDefinition]:
    """`<Dependencies>` edges: every task of a child group depends on the parent group's."""
    members: dict[int, list[str]] = {}
    for doc, task in zip(document.tasks, tasks, strict=True):
        group = doc.values.get("GroupId")
        if isinstance(group, int):
            members.setdefault(group, []).append(task.name)
    parents_of: dict[int, list[int]] = {}
    for parent, child in document.group_dependencies:
        parents_of.setdefault(child, []).append(parent)
    out = []
    added = 0
    for doc, task in zip(document.tasks, tasks, strict=True):
        group = doc.values.get("GroupId")
        parents = parents_of.get(group, []) if isinstance(group, int) else []
        extra = [name for parent in parents for name in members.get(parent, [])]
        added += len(extra)
        if added > MAX_GROUP_EDGES:
            raise JobXmlError(
                f"the task group dependencies expand to more than {MAX_GROUP_EDGES:,} task "
                "dependencies, which a manifest's dependsOn cannot hold sensibly",
                source=document.source,
                hint="manage this job outside hpcspec, or make its groups smaller",
            )
        depends = tuple(dict.fromkeys((*task.depends_on, *extra))) if extra else task.depends_on
        out.append(replace(task, depends_on=depends) if extra else task)
    return out
