"""What a live job on the cluster looks like to hpcspec: `LiveJob` and `LiveTask`.

The client fills these from the REST API in two depths: a listing row (id, state, marker,
times; `definition` is None) and, for jobs whose spec may have changed, the details (the job
read back as a `JobDefinition`, its custom properties and its tasks). A listing reads the
columns of a `JobColumns`: `STATUS` is what discovery and status need of every job,
`IDENTITY` only whose job a row is and whether it is alive (racing appliers: no times, so no
date-format read, and no task counters for the server to count).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from hpcspec.hpcpack.catalogue import Value
from hpcspec.hpcpack.definition import JobDefinition
from hpcspec.hpcpack.states import JobState, TaskState

# Every per-state counter a job carries (the store counts basic tasks and sweep instances),
# so status reads a job's tasks by state from the listing alone.
TASK_COUNTERS = {
    "Configuring": "ConfiguringTaskCount",
    "Submitted": "SubmittedTaskCount",
    "Validating": "ValidatingTaskCount",
    "Queued": "QueuedTaskCount",
    "Dispatching": "DispatchingTaskCount",
    "Running": "RunningTaskCount",
    "Finishing": "FinishingTaskCount",
    "Finished": "FinishedTaskCount",
    "Failed": "FailedTaskCount",
    "Canceling": "CancelingTaskCount",
    "Canceled": "CanceledTaskCount",
}


class JobColumns(Enum):
    """Which job properties a listing asks for."""

    IDENTITY = ("Id", "Name", "State", "Owner", "ClientSource")
    STATUS = (
        "Id",
        "Name",
        "State",
        "Owner",
        "ClientSource",
        "ChangeTime",
        "SubmitTime",
        "StartTime",
        "EndTime",
        "RequeueCount",
        "ErrorMessage",
        "TaskCount",
        *TASK_COUNTERS.values(),
    )


@dataclass(frozen=True)
class LiveTask:
    """One task (or sweep master) of a live job."""

    task_id: int  # JobTaskId: 1, 2, 3… in the order tasks were added
    name: str
    state: TaskState
    exit_code: int | None = None
    output: str = ""
    instance_id: int = 0  # > 0 for sweep instances (subtasks)
    error_message: str = ""
    # Read by `hpcspec logs` only (TASK_LOG_COLUMNS); empty when not read or not set.
    instance_value: int | None = None  # a sweep instance's value (what its `*` runs became)
    work_directory: str = ""
    stdout_path: str = ""
    stderr_path: str = ""
    rerunnable: bool = True  # IsRerunnable (read by `requeue --failed-only` and `cancel` only)


@dataclass(frozen=True)
class LiveJob:
    """One job on the cluster, as far as it has been read."""

    id: int
    state: JobState
    name: str = ""
    owner: str = ""
    client_source: str = ""
    change_time: datetime | None = None
    submit_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    requeue_count: int = 0
    error_message: str = ""
    custom_properties: tuple[tuple[str, str], ...] | None = None  # None: not read
    definition: JobDefinition | None = None  # None: details not read
    tasks: tuple[LiveTask, ...] = field(default=())
    task_counts: tuple[tuple[str, int], ...] = ()  # the job's own counters: (TaskState, n)
    # Job properties a listing was asked for beyond its columns (`list_jobs(properties=…)`),
    # as canonical values by catalogue name; a property the job leaves empty is absent.
    # None: the listing was not asked for any.
    listed: tuple[tuple[str, Value], ...] | None = None

    def custom(self, name: str) -> str | None:
        """A custom property's value (case-insensitive name), if they were read."""
        return custom_value(self.custom_properties or (), name)

    def tasks_in(self, *states: TaskState) -> list[LiveTask]:
        return [t for t in self.tasks if t.state in states]


def custom_value(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    """The value of custom property `name` among (name, value) `pairs`, its name in any case
    (as a server may answer it); None when it is not there."""
    wanted = name.lower()
    return next((value for key, value in pairs if key.lower() == wanted), None)
