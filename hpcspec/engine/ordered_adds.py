"""A REST create's tasks, added concurrently with their JobTaskIds still in manifest order.

Called by `exactly_once._fill_via_rest` once the job exists. HPC Pack numbers a job's tasks
1, 2, 3… in the order their adds arrive and has no bulk add (`POST /jobs/{id}/tasks` takes
one task: reference/hpcpack-rest-api-2016.md, "Add Task"; the 2019 spec adds none), so
concurrent adds of the real tasks could land out of order. Instead, two rounds, each with
up to `parallelism` requests in flight (a pool the whole apply shares):

1. one placeholder per task — named `hpcspec-slot-<token>-<n>`, the task's command line —
   whose arrival order does not matter: the placeholders differ only by name;
2. the n-th lowest JobTaskId is set to the n-th task (`PUT`: its name, command line and every
   property), then its custom properties and environment.

So a task costs one request more than a sequential add, and a job of N tasks about
2N × RTT / parallelism instead of N × RTT. Jobs of `SEQUENTIAL_UP_TO` tasks or fewer are
added one by one (no faster the other way). Any failure stops the rest and propagates: the
caller cancels the half-built job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import TypeVar

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.definition import TaskDefinition

SEQUENTIAL_UP_TO = 2
T = TypeVar("T")
R = TypeVar("R")


def slot(task: TaskDefinition, token: str, n: int) -> TaskDefinition:
    """The placeholder of the n-th task: a unique name, the task's command line, nothing else."""
    return TaskDefinition(name=f"hpcspec-slot-{token}-{n}", command_line=task.command_line)


def add_in_order(
    tasks: Sequence[TaskDefinition],
    *,
    token: str,
    add: Callable[[TaskDefinition], int],
    fill: Callable[[int, TaskDefinition, bool], None],
    pool: Executor | None,
) -> list[int]:
    """Add `tasks`; their JobTaskIds in manifest order. `add(task)` adds one task once and
    returns its id; `fill(task_id, task, replace_properties)` sets what follows the add (with
    `replace_properties`, the whole task over a placeholder). Without a pool, one by one."""
    if pool is None or len(tasks) <= SEQUENTIAL_UP_TO:
        ids = []
        for task in tasks:
            ids.append(add(task))
            fill(ids[-1], task, False)
        return ids
    placeholders = [slot(task, token, n) for n, task in enumerate(tasks)]
    ids = sorted(each(pool, add, placeholders))
    if len(set(ids)) != len(tasks):
        message = f"{len(tasks)} task adds returned {len(set(ids))} distinct task ids"
        raise HpcspecError(message, code="task-ids")
    each(pool, lambda pair: fill(pair[0], pair[1], True), list(zip(ids, tasks, strict=True)))
    return ids


def each(pool: Executor, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`work` of every item on `pool`, results in item order; on the first failure the items
    not started yet are dropped and the failure is raised."""
    futures: list[Future[R]] = [pool.submit(work, item) for item in items]
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        for future in futures:  # nothing of this job may still be running when we return
            if not future.cancelled():
                future.exception()
        raise
