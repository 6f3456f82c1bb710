"""What the engine needs from a cluster, as protocols the REST client satisfies.

Discovery and status read (`ClusterReader`); drift and import also read jobs whole
(`WholeJobReader`); apply also writes (`ClusterWriter`). They speak hpcpack's own types —
`LiveJob`, `LiveTask`, `JobState`, `JobDefinition`, `TaskDefinition`, canonical values — so
the engine never sees a wire body or a REST row (`hpcspec.hpcpack.client` owns the wire).
Tests may satisfy them with small fakes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from hpcspec.hpcpack.catalogue import Value
from hpcspec.hpcpack.definition import EnvValue, JobDefinition, RunAs, TaskDefinition
from hpcspec.hpcpack.errors import OutcomeUnknown
from hpcspec.hpcpack.jobxml import SecretResolver
from hpcspec.hpcpack.live import JobColumns, LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState

__all__ = [
    "ClusterFacts",
    "ClusterReader",
    "ClusterWriter",
    "JobColumns",
    "JobListing",
    "OutcomeUnknown",
    "WholeJobReader",
]


class JobListing(Protocol):
    """The jobs of one listing as it is read; `rows` counts every row read (skipped ones too)."""

    rows: int

    def __iter__(self) -> Iterator[LiveJob]: ...


class ClusterReader(Protocol):
    """The read side: listings as `LiveJob`s, a job's state, custom properties and details."""

    def list_jobs(
        self,
        *,
        columns: JobColumns = ...,
        owner: str | None = ...,
        client_source_prefix: str = ...,
        properties: Sequence[str] = ...,
        name_prefix: str = ...,
    ) -> JobListing: ...
    def job_state(self, job_id: int) -> JobState: ...
    def listed_job(self, job_id: int, columns: JobColumns = JobColumns.STATUS) -> LiveJob: ...
    def job_custom_properties(self, job_id: int) -> Mapping[str, str]: ...
    def read_details(self, job: LiveJob) -> LiveJob: ...
    def read_whole_job(self, job_id: int) -> LiveJob: ...
    def list_tasks(
        self, job_id: int, *, expand_sweeps: bool, state: TaskState | None = ...
    ) -> list[LiveTask]: ...


class WholeJobReader(ClusterReader, Protocol):
    """A reader that can also read a job whole, its tasks' env and custom properties included
    (the REST client): drift and import."""

    def read_whole_job(self, job_id: int) -> LiveJob: ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class ClusterFacts(ClusterReader, Protocol):
    """What preflight also reads: node groups, job templates and node names."""

    def node_groups(self) -> Sequence[_Named]: ...
    def job_templates(self) -> list[str]: ...
    def node_names(self) -> list[str]: ...


class RescueCluster(Protocol):
    """What the rescue operations ask of a cluster: `requeue --failed-only`, retries and
    `cancel KEY/TASK` (engine/rescue.py)."""

    def job_state(self, job_id: int) -> JobState: ...
    def tasks_in(self, job_id: int, *states: TaskState) -> list[LiveTask]: ...
    def requeue_job(self, job_id: int) -> None: ...
    def requeue_task(self, job_id: int, task_id: int, message: str = "") -> None: ...
    def requeue_subtask(self, job_id: int, task_id: int, subtask_id: int) -> None: ...
    def cancel_task(
        self, job_id: int, task_id: int, message: str = "", *, forced: bool = False
    ) -> None: ...
    def cancel_subtask(
        self, job_id: int, task_id: int, subtask_id: int, message: str = "", *, forced: bool = False
    ) -> None: ...


class ClusterWriter(ClusterReader, RescueCluster, Protocol):
    """The write side that apply needs."""

    def create_job_xml(self, job: JobDefinition, *, secret: SecretResolver) -> int: ...
    def create_job(self, job: JobDefinition, *, client_source: str | None = ...) -> int: ...
    def set_job(self, job_id: int, properties: Mapping[str, Value]) -> None: ...
    def set_job_custom_properties(self, job_id: int, values: Mapping[str, str]) -> None: ...
    def set_job_env(
        self, job_id: int, values: Mapping[str, EnvValue], *, secret: SecretResolver
    ) -> None: ...
    def task_ids(self, job_id: int) -> dict[str, int]: ...
    def add_task(self, job_id: int, task: TaskDefinition) -> int: ...
    def set_task(
        self, job_id: int, task_id: int, task: TaskDefinition | Mapping[str, Value]
    ) -> None: ...
    def set_task_custom_properties(
        self, job_id: int, task_id: int, values: Mapping[str, str]
    ) -> None: ...
    def set_task_env(
        self, job_id: int, task_id: int, values: Mapping[str, EnvValue], *, secret: SecretResolver
    ) -> None: ...
    def submit_job(self, job_id: int, *, run_as: RunAs | None, secret: SecretResolver) -> None: ...
    def cancel_job(self, job_id: int, message: str, *, forced: bool = False) -> None: ...
    def requeue_job(self, job_id: int) -> None: ...
