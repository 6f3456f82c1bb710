"""Job and task rows: what the store keeps and the scheduler changes.

Every row holds its properties, custom properties and environment variables as wire strings
(`hpcspec.emulator.properties`); keys starting with `_` are the emulator's own bookkeeping
(never shown to clients). The state machine (`state_machine.py`) is the only code that changes
a row's `State`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hpcspec.hpcpack.states import JobState, TaskState

TaskKey = tuple[int, int, int]  # (job id, JobTaskId, InstanceId)
# the bookkeeping keys rows carry (`_` first: never shown to clients)
BOOKKEEPING = (
    "_changed", "_since", "_started", "_ran", "_by_job", "_forced", "_group_deps", "_alloc",
    "_materialized", "_outcome", "_placement",
)  # fmt: skip


@dataclass
class JobRow:
    """One job: properties (wire strings), custom properties, environment variables."""

    id: int
    props: dict[str, str]
    custom: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> JobState:
        return JobState.parse(self.props["State"])

    @property
    def owner(self) -> str:
        return self.props.get("Owner", "")

    def number(self, name: str, default: float = 0.0) -> float:
        """A numeric property or bookkeeping value (`_since`)."""
        text = self.props.get(name, "")
        return float(text) if text else default


@dataclass
class TaskRow:
    """One task, sweep master (instance 0, Type ParametricSweep) or sweep subtask (≥ 1)."""

    job_id: int
    task_id: int
    instance_id: int
    props: dict[str, str]
    custom: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> TaskState:
        return TaskState.parse(self.props["State"])

    @property
    def key(self) -> TaskKey:
        return (self.job_id, self.task_id, self.instance_id)

    @property
    def is_master(self) -> bool:
        return self.instance_id == 0 and self.props.get("Type") == "ParametricSweep"

    @property
    def is_leaf(self) -> bool:
        """A task that runs: a basic task or a sweep subtask."""
        return not self.is_master
