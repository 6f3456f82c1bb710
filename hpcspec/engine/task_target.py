"""How a command names a job key or task: `KEY`, `KEY/TASK`, `KEY/TASK[17]` (pure).

Used by `hpcspec logs`, `hpcspec requeue` and `hpcspec cancel`. A sweep instance is
`TASK[17]`, 17 being the value its `*` runs became (HPC Pack's InstanceValue; the instance id
when a server leaves it empty); a matrix task goes by its own name `post[mesh=fine;re=1e5]`,
and `post` alone selects all of them, as it selects every instance of a sweep named `post`.
An unknown key or task is an error that lists the ones that exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hpcspec.errors import HpcspecError, UsageError
from hpcspec.hpcpack.live import LiveJob, LiveTask

_TARGET = re.compile(r"^(?P<key>[^/]+)(?:/(?P<task>.+?))?$")
_INSTANCE = re.compile(r"^(?P<name>.+)\[(?P<value>-?\d+)\]$")


@dataclass(frozen=True)
class TaskTarget:
    """Which tasks: all (no key), a job key's, one task's (or matrix's), one instance."""

    key: str | None = None
    task: str | None = None
    instance: int | None = None  # a sweep instance's value

    @classmethod
    def parse(cls, text: str | None) -> TaskTarget:
        """`KEY`, `KEY/TASK` or `KEY/TASK[N]`; UsageError for anything else."""
        if not text:
            return cls()
        found = _TARGET.match(text)
        if found is None:
            raise UsageError(
                f"{text!r}: expected KEY, KEY/TASK or KEY/TASK[N]", code="invalid-task-target"
            )
        task = found["task"]
        instance = _INSTANCE.match(task) if task else None
        if instance is not None:
            return cls(found["key"], instance["name"], int(instance["value"]))
        return cls(found["key"], task)

    def selects(self, task: LiveTask) -> bool:
        """Whether `task` (a listing row) is one this target names."""
        if self.task is None:
            return True
        if self.instance is not None:
            return (
                task.name == self.task
                and task.instance_id > 0
                and instance_value(task) == self.instance
            )
        return task.name == self.task or task.name.startswith(self.task + "[")

    @property
    def wanted(self) -> str:
        """The task as the user wrote it: `run[17]`, `post`."""
        if self.instance is not None:
            return f"{self.task}[{self.instance}]"
        return self.task or ""


def instance_value(task: LiveTask) -> int:
    """The value a sweep instance's `*` became (its instance id when the server left it out)."""
    return task.instance_value if task.instance_value is not None else task.instance_id


def task_label(task: LiveTask) -> str:
    """`greet`, `post[mesh=fine;re=1e5]`, or `run[17]` for a sweep instance."""
    if task.instance_id > 0:
        return f"{task.name}[{instance_value(task)}]"
    return task.name


def check_key(stack: str, key: str, known: Iterable[str]) -> None:
    """An error naming the keys that exist, when `key` is not one of them."""
    keys = list(known)
    if key not in keys:
        raise HpcspecError(
            f"stack {stack!r} has no job key {key!r} (keys: {', '.join(keys) or 'none'})",
            code="unknown-job-key",
        )


def no_such_task(key: str, job: LiveJob, target: TaskTarget, tasks: Sequence[LiveTask]) -> None:
    """Raise: the job has no task the target names (the error lists the names it has)."""
    names = sorted({t.name for t in tasks})
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise HpcspecError(
        f"job {job.id} ({key}) has no task {target.wanted!r} (tasks: {shown or 'none yet'})",
        code="unknown-task",
        hint="a sweep instance is TASK[N], N the value its * became; quote names with [ ]",
    )
