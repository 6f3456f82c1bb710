"""The typed events of a run, and the observer they go to.

The pipelines (`pipeline.py`), the executor and the wait loop tell an `Observer` what happens
as it happens: the plan, each step started and finished (with its job id), each key's
result, the wait's state changes, requeues and heartbeats, and the verdicts. The CLI's
observer renders them as lines (`hpcspec.cli.views`); a JSON-lines observer can serialise
them as they are. Events carry no secret: plans cannot hold one, and steps are reported by
kind, key and job id only. The executor calls `notify` from one thread at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from hpcspec.engine.outcomes import ApplyResult, ApplyVerdict, JobResult, WaitVerdict
from hpcspec.engine.plan import Plan
from hpcspec.engine.status import JobStatus
from hpcspec.engine.steps import StepKind


@dataclass(frozen=True)
class Resumed:
    """Recovery settled the jobs an interrupted apply of this stack left pending: adopted
    (marked, so the plan submits them) or cancelled (the plan creates them anew)."""

    stack: str
    job_ids: tuple[int, ...]  # adopted
    cancelled: tuple[int, ...] = ()


@dataclass(frozen=True)
class LockWaiting:
    """Another apply holds the stack lock (`lock.py`); this one waits up to `timeout`
    seconds (told once per holder)."""

    stack: str
    lock_id: int
    owner: str
    holder: str  # host/pid
    timeout: float


@dataclass(frozen=True)
class Planned:
    """The plans of a run, before anything changes (apply shows them, then confirms)."""

    plans: tuple[Plan, ...]


@dataclass(frozen=True)
class StepStarted:
    stack: str
    key: str
    kind: StepKind
    job_id: int | None  # the job it acts on; None before a create made it


@dataclass(frozen=True)
class StepFinished:
    stack: str
    key: str
    kind: StepKind
    job_id: int | None  # after a create: the new job
    failed: bool = False


@dataclass(frozen=True)
class JobApplied:
    """One job key's result, as soon as it is known."""

    stack: str
    result: JobResult


@dataclass(frozen=True)
class Applied:
    """Every plan of the run has been carried out (or there was nothing to do)."""

    plans: tuple[Plan, ...]
    results: tuple[ApplyResult, ...]
    verdict: ApplyVerdict


@dataclass(frozen=True)
class StackFailed:
    """A stack could not be planned or applied (a reconcile round goes on with the others)."""

    stack: str
    message: str


@dataclass(frozen=True)
class RoundEnded:
    """A reconcile round is over: its verdict over every stack (failed stacks included)."""

    verdict: ApplyVerdict
    stacks: int
    failed_stacks: int


@dataclass(frozen=True)
class WaitPolled:
    """The rows of one poll while waiting (`stack/key` keys)."""

    rows: tuple[JobStatus, ...]


@dataclass(frozen=True)
class JobStateChanged:
    row: JobStatus
    before: str | None  # None: first seen


@dataclass(frozen=True)
class JobRequeued:
    """A Failed job was requeued (`attempt` of `allowed` retries)."""

    row: JobStatus
    attempt: int
    allowed: int


@dataclass(frozen=True)
class StillWaiting:
    """Heartbeat: nothing changed for a while; these jobs have not ended."""

    rows: tuple[JobStatus, ...]


@dataclass(frozen=True)
class WaitEnded:
    verdict: WaitVerdict
    rows: tuple[JobStatus, ...]


Event = (
    Resumed
    | LockWaiting
    | Planned
    | StepStarted
    | StepFinished
    | JobApplied
    | Applied
    | StackFailed
    | RoundEnded
    | WaitPolled
    | JobStateChanged
    | JobRequeued
    | StillWaiting
    | WaitEnded
)


E = TypeVar("E")


class Observer(Protocol):
    """Whoever wants to hear about a run."""

    def notify(self, event: Event) -> None: ...


class Recorder:
    """An observer that keeps every event (tests, and callers that only want the data)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def notify(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        """The events of one kind, in order."""
        return [e for e in self.events if isinstance(e, kind)]
