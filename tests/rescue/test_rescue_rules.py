"""Which tasks a failed-only requeue sends requeues for and which run again (engine/rescue.py),
and the plans of `hpcspec requeue` / `hpcspec cancel` for each job state (engine/rescue_plan.py),
by the rules of research/hpcpack-ground-truth.md §4."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from hpcspec.engine import rescue_plan
from hpcspec.engine.outcomes import StepFailed
from hpcspec.engine.plan import Action, FailedOnly
from hpcspec.engine.rescue import requeue_failed, reruns, task_requeues
from hpcspec.engine.rescue_plan import plan_cancel, plan_requeue
from hpcspec.engine.task_target import TaskTarget
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

FAILED = LiveTask(1, "a", TaskState.Failed)
CANCELED = LiveTask(2, "b", TaskState.Canceled)
STUCK = LiveTask(3, "c", TaskState.Failed, rerunnable=False)
INSTANCE = LiveTask(4, "run", TaskState.Failed, instance_id=7)


def test_an_ended_job_gets_task_requeues_only_for_its_canceled_tasks() -> None:
    # the job's own requeue reruns Failed tasks but keeps user-canceled ones Canceled
    assert task_requeues(JobState.Failed, [FAILED, CANCELED, STUCK]) == [CANCELED]
    assert reruns(JobState.Failed, [FAILED, CANCELED, STUCK]) == [FAILED, CANCELED, STUCK]


def test_a_running_job_gets_a_requeue_for_each_rerunnable_failed_task() -> None:
    assert task_requeues(JobState.Running, [FAILED, CANCELED, STUCK]) == [FAILED, CANCELED]
    assert reruns(JobState.Running, [FAILED, CANCELED, STUCK]) == [FAILED, CANCELED]


@dataclass
class FakeCluster:
    """Records the requests rescue would send; answers from a fixed job and task list."""

    state: JobState
    tasks: list[LiveTask]
    sent: list[tuple[Any, ...]] = field(default_factory=list)
    task_counts: tuple[tuple[str, int], ...] = (("Failed", 1), ("Total", 4))

    def job_state(self, job_id: int) -> JobState:
        return self.state

    def tasks_in(self, job_id: int, *states: TaskState) -> list[LiveTask]:
        return [t for t in self.tasks if not states or t.state in states]

    def requeue_job(self, job_id: int) -> None:
        self.sent.append(("job", job_id))

    def requeue_task(self, job_id: int, task_id: int, message: str = "") -> None:
        self.sent.append(("task", task_id))

    def requeue_subtask(self, job_id: int, task_id: int, subtask_id: int) -> None:
        self.sent.append(("subtask", task_id, subtask_id))


def test_requeue_failed_of_a_running_job_requeues_each_task_in_place() -> None:
    cluster = FakeCluster(JobState.Running, [FAILED, INSTANCE, STUCK])
    assert requeue_failed(cluster, 9) == 2  # type: ignore[arg-type]
    assert cluster.sent == [("task", 1), ("subtask", 4, 7)]


def test_requeue_failed_of_an_ended_job_requeues_canceled_tasks_then_the_job() -> None:
    cluster = FakeCluster(JobState.Canceled, [FAILED, CANCELED])
    assert requeue_failed(cluster, 9) == 2  # type: ignore[arg-type]
    assert cluster.sent == [("task", 2), ("job", 9)]


@pytest.mark.parametrize("state", [JobState.Configuring, JobState.Finished])
def test_requeue_failed_refuses_a_job_hpc_pack_cannot_requeue(state: JobState) -> None:
    with pytest.raises(StepFailed, match=state.name):
        requeue_failed(FakeCluster(state, [FAILED]), 9)  # type: ignore[arg-type]


@pytest.fixture
def job_of(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make `state` (with `tasks`) the key's current job, as one listing would find it."""

    def make(state: JobState, tasks: list[LiveTask], total: int = 4) -> FakeCluster:
        job = LiveJob(9, state, task_counts=(("Total", total),))
        monkeypatch.setattr(rescue_plan, "current_job", lambda *_: job)
        listed = SimpleNamespace(by_key={"k": [job]})
        monkeypatch.setattr(rescue_plan, "list_stack", lambda *_, **__: listed)
        return FakeCluster(state, tasks)

    return make


def test_the_requeue_plan_counts_the_tasks_that_run_again_of_all(job_of: Any) -> None:
    cluster = job_of(JobState.Failed, [FAILED, CANCELED, STUCK], total=120)
    plan = plan_requeue(cluster, "s", ["k"], "k", failed_only=True, cluster="c")
    (change,) = plan.changes
    assert change.action is Action.REQUEUE and change.failed_only == FailedOnly(3, 120)
    assert "2 failed and 1 canceled task(s) run again" in change.reasons[0].message


def test_a_whole_job_requeue_is_hpc_packs_and_needs_an_ended_job(job_of: Any) -> None:
    plan = plan_requeue(
        job_of(JobState.Canceled, []), "s", ["k"], "k", failed_only=False, cluster="c"
    )
    assert plan.changes[0].action is Action.REQUEUE and plan.changes[0].failed_only is None
    with pytest.raises(HpcspecError, match="Running") as error:
        plan_requeue(job_of(JobState.Running, []), "s", ["k"], "k", failed_only=False, cluster="c")
    assert error.value.code == "not-requeueable" and "--failed-only" in (error.value.hint or "")


def test_nothing_to_rerun_is_a_plan_without_changes(job_of: Any) -> None:
    finished = plan_requeue(
        job_of(JobState.Finished, []), "s", ["k"], "k", failed_only=True, cluster="c"
    )
    running = plan_requeue(
        job_of(JobState.Running, [STUCK]), "s", ["k"], "k", failed_only=True, cluster="c"
    )
    assert not finished.has_changes and not running.has_changes
    assert "not rerunnable" in running.changes[0].reasons[0].message


def test_cancelling_a_sweep_by_name_is_one_request_for_its_master(job_of: Any) -> None:
    live = [
        LiveTask(5, "run", TaskState.Running, instance_id=1),
        LiveTask(5, "run", TaskState.Queued, instance_id=2),
        LiveTask(5, "run", TaskState.Finished, instance_id=3),
        LiveTask(6, "other", TaskState.Queued),
    ]
    cluster = job_of(JobState.Running, live)
    whole = plan_cancel(cluster, "s", ["k"], TaskTarget("k", "run"), cluster="c").changes[0]
    assert [(t.label, t.task_id, t.instance_id) for t in whole.tasks] == [("run", 5, 0)]
    one = plan_cancel(cluster, "s", ["k"], TaskTarget("k", "run", 2), cluster="c").changes[0]
    assert [(t.label, t.instance_id) for t in one.tasks] == [("run[2]", 2)]
    ended = plan_cancel(cluster, "s", ["k"], TaskTarget("k", "run", 3), cluster="c")
    assert not ended.has_changes
    with pytest.raises(HpcspecError) as error:
        plan_cancel(cluster, "s", ["k"], TaskTarget("k", "nope"), cluster="c")
    assert error.value.code == "unknown-task" and "other, run" in error.value.message
