"""The order of a job's tasks compared (engine/task_order.py)."""

from __future__ import annotations

from hpcspec.engine.task_order import task_order_diff
from hpcspec.hpcpack.definition import TaskDefinition


def _tasks(*names: str) -> tuple[TaskDefinition, ...]:
    return tuple(TaskDefinition(name, "echo") for name in names)


def test_the_same_order_and_tasks_added_at_the_end_are_no_change() -> None:
    assert task_order_diff(_tasks("a", "b", "c"), _tasks("a", "b", "c")) is None
    assert task_order_diff(_tasks("a", "b", "c", "d"), _tasks("a", "b")) is None
    assert task_order_diff(_tasks("a", "B"), _tasks("A", "b")) is None  # names in any case


def test_another_order_is_a_change_no_edit_can_make() -> None:
    found = task_order_diff(_tasks("b", "a", "c"), _tasks("a", "b", "c"))
    assert found is not None and not found.allowed_now
    assert (found.name, found.before, found.after) == ("taskOrder", "a, b, c", "b, a, c")


def test_a_live_task_the_manifest_drops_is_not_an_order_change() -> None:
    assert task_order_diff(_tasks("a", "c"), _tasks("a", "b", "c")) is None


def test_a_name_the_live_job_holds_twice_counts_once() -> None:
    assert task_order_diff(_tasks("a", "b"), _tasks("a", "a", "b")) is None


def test_twenty_thousand_tasks_in_order_and_one_moved() -> None:
    names = [f"t{n}" for n in range(20_000)]
    assert task_order_diff(_tasks(*names), _tasks(*names)) is None
    moved = task_order_diff(_tasks(*names[1:], names[0]), _tasks(*names))
    assert moved is not None and moved.after.startswith("t1, t2")
