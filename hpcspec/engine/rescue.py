"""Rescue operations the executor runs: rerun a job's failed tasks, cancel one task.

`requeue_failed` is the one way hpcspec runs failed work again — the `RequeueFailed` step of
`hpcspec requeue --failed-only` and of `retries` (in apply's plan and while `--wait` waits).
It runs the job's Failed and Canceled tasks (sweep instances one by one) again and leaves
every Finished task alone, by the rules of `research/hpcpack-ground-truth.md` §4:

- a job still running (Queued, Running): each such task's requeue
  (`POST …/tasks/{id}/requeue`, `…/subtasks/{id}/requeue`) queues it again in place; the
  job's own requeue is refused in these states (`msdocs/schedulerwebservice--requeuejob.md`);
- a job that ended Failed or Canceled: the job's requeue runs its failed tasks again by
  itself and keeps Finished ones (`msdocs/ischeduler-canceljob.md`), but keeps a task a user
  canceled before it ran Canceled; so each Canceled task is requeued first (to Configuring,
  "so that the task can be queued again when the job is resubmitted",
  `msdocs/schedulerwebservice--requeuetask.md`), then the job.

Only a task with IsRerunnable may be requeued (`msdocs/ischedulerjob-requeuetask.md`); one
without it is left as it is (a job requeue still reruns it when the job stopped it).
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.engine.outcomes import StepFailed
from hpcspec.engine.plan import FailedOnly, TaskRef
from hpcspec.engine.protocols import RescueCluster
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

ENDED_REQUEUEABLE = frozenset({JobState.Failed, JobState.Canceled})  # the job requeue's states
RUNNING_REQUEUEABLE = frozenset({JobState.Queued, JobState.Running})  # task requeue, in place
RESCUED_STATES = (TaskState.Failed, TaskState.Canceled)


def task_requeues(state: JobState, failed: Sequence[LiveTask]) -> list[LiveTask]:
    """Which of a job's Failed and Canceled tasks need their own requeue (the rule above)."""
    if state in ENDED_REQUEUEABLE:
        return [t for t in failed if t.state is TaskState.Canceled and t.rerunnable]
    return [t for t in failed if t.rerunnable]


def reruns(state: JobState, failed: Sequence[LiveTask]) -> list[LiveTask]:
    """Which of a job's Failed and Canceled tasks will run again (what the plan counts)."""
    if state in ENDED_REQUEUEABLE:
        return [t for t in failed if t.state is TaskState.Failed or t.rerunnable]
    return [t for t in failed if t.rerunnable]


def counted_reruns(job: LiveJob) -> FailedOnly:
    """How many of the job's tasks `requeue_failed` runs again, of all, by the job's own task
    counters (Failed and Canceled; what a plan of `retries` shows without a task listing)."""
    counts = dict(job.task_counts)
    rerun = counts.get("Failed", 0) + counts.get("Canceled", 0)
    return FailedOnly(rerun, counts.get("Total", sum(counts.values())))


def requeue_failed(cluster: RescueCluster, job_id: int) -> int:
    """Run the job's failed and canceled tasks again, no other; how many requeues it sent."""
    state = cluster.job_state(job_id)
    if state not in ENDED_REQUEUEABLE | RUNNING_REQUEUEABLE:
        raise StepFailed(
            f"job {job_id} is {state.name}: only a Queued or Running job's tasks, or a Failed "
            "or Canceled job, can be requeued"
        )
    failed = cluster.tasks_in(job_id, *RESCUED_STATES)
    chosen = task_requeues(state, failed)
    if state in RUNNING_REQUEUEABLE and not chosen:
        raise StepFailed(f"job {job_id} is {state.name} and has no rerunnable failed task")
    for task in chosen:
        if task.instance_id:
            cluster.requeue_subtask(job_id, task.task_id, task.instance_id)
        else:
            cluster.requeue_task(job_id, task.task_id)
    if state in ENDED_REQUEUEABLE:
        cluster.requeue_job(job_id)
    return len(chosen) + (state in ENDED_REQUEUEABLE)


def cancel_task(cluster: RescueCluster, job_id: int, task: TaskRef, message: str) -> None:
    """Cancel one task, or one sweep instance: running → Failed, waiting → Canceled (§4.3)."""
    if task.instance_id:
        cluster.cancel_subtask(job_id, task.task_id, task.instance_id, message)
    else:
        cluster.cancel_task(job_id, task.task_id, message)
