"""A finished run → the task's ExitCode, Output and end state (valid exit codes honoured).

Messages from `reference/hpcpack/derived/error-codes.json` (Execution_*); exit code lists per
`msdocs/ischedulertask-validexitcodes.md` (the task's list overrides the job's; default 0).
"""

from __future__ import annotations

from hpcspec.emulator import errors
from hpcspec.emulator import lifecycle as L
from hpcspec.emulator import properties as P
from hpcspec.emulator.executors import Outcome
from hpcspec.emulator.store import JobRow, TaskRow
from hpcspec.hpcpack.states import TaskState


def apply_outcome(job: JobRow, task: TaskRow, outcome: Outcome, now: float) -> None:
    """A finished run → ExitCode, Output, Finished or Failed (valid exit codes honoured)."""
    task.props["Output"] = outcome.output
    task.props["ExitCode"] = str(outcome.exit_code)
    if outcome.start_failed:
        task.props["ErrorMessage"] = errors.WORKING_DIRECTORY_NOT_FOUND.template.format(
            task.props.get("AllocatedNodes", "")
        )
        L.set_task_state(task, TaskState.Failed, now)
        return
    if outcome.timed_out:
        task.props["ErrorMessage"] = errors.TASK_RUNTIME_EXPIRED.template
        L.set_task_state(task, TaskState.Failed, now)
        return
    valid = task.props.get("TaskValidExitCodes") or job.props.get("JobValidExitCodes") or "0"
    if P.exit_code_ok(valid, outcome.exit_code):
        L.set_task_state(task, TaskState.Finished, now)
    else:
        task.props["ErrorMessage"] = errors.TASK_EXECUTION_FAILURE.template.format(
            outcome.exit_code
        )
        L.set_task_state(task, TaskState.Failed, now)
