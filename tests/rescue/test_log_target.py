"""`KEY`, `KEY/TASK`, `KEY/TASK[N]`: which tasks logs, requeue and cancel pick
(engine/task_target.py)."""

from __future__ import annotations

import pytest

from hpcspec.engine.logs import TaskLog
from hpcspec.engine.task_target import TaskTarget
from hpcspec.errors import UsageError
from hpcspec.hpcpack.live import LiveTask
from hpcspec.hpcpack.states import TaskState


def row(name: str, instance: int = 0, value: int | None = None) -> LiveTask:
    return LiveTask(2, name, TaskState.Failed, instance_id=instance, instance_value=value)


def test_targets_parse_into_key_task_and_sweep_value() -> None:
    assert TaskTarget.parse(None) == TaskTarget()
    assert TaskTarget.parse("mesh") == TaskTarget("mesh")
    assert TaskTarget.parse("mesh/solve") == TaskTarget("mesh", "solve")
    assert TaskTarget.parse("mesh/solve[17]") == TaskTarget("mesh", "solve", 17)
    assert TaskTarget.parse("mesh/post[mesh=fine;re=1e5]") == TaskTarget(
        "mesh", "post[mesh=fine;re=1e5]"
    )


@pytest.mark.parametrize("bad", ["/task", "key/", "/"])
def test_a_malformed_target_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError) as error:
        TaskTarget.parse(bad)
    assert bad in error.value.message and error.value.code == "invalid-task-target"


def test_a_sweep_instance_is_chosen_by_the_value_its_star_became() -> None:
    target = TaskTarget("k", "run", 15)
    assert target.selects(row("run", instance=3, value=15))
    assert not target.selects(row("run", instance=15, value=71))
    assert not target.selects(row("run"))  # the master or a Basic task of that name
    # a server that leaves InstanceValue empty: the instance id stands in
    assert TaskTarget("k", "run", 3).selects(row("run", instance=3))


def test_a_task_name_selects_its_sweep_instances_and_its_matrix_tasks() -> None:
    target = TaskTarget("k", "post")
    assert target.selects(row("post"))
    assert target.selects(row("post", instance=2, value=2))
    assert target.selects(row("post[mesh=fine;re=1e5]"))
    assert not target.selects(row("postprocess"))
    one = TaskTarget("k", "post[mesh=fine;re=1e5]")
    assert one.selects(row("post[mesh=fine;re=1e5]")) and not one.selects(row("post"))


def test_a_sweep_instance_is_labelled_by_its_value_and_has_hpc_packs_task_id() -> None:
    log = TaskLog("k", 12, row("run", instance=3, value=15))
    assert (log.label, log.task_ref) == ("run[15]", "12.2.3")
    basic = TaskLog("k", 12, row("greet"))
    assert (basic.label, basic.task_ref) == ("greet", "12.2")
