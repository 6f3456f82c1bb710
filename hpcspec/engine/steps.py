"""What apply will do, as data: one frozen dataclass per step kind, and the steps of one job key.

`step_generator` turns a `Plan` into `JobSteps` (the ordering rules); `executor` runs them (the
threads, the journal, the exactly-once rules). A step's constructor checks what the step
needs, and `JobSteps` checks the order of a key's steps, so an impossible sequence (a submit
no race check precedes, a marker with no create before it) cannot be built.

Steps that act on "the job of this key" take it from the `JobSteps` as it runs: the live job
the plan saw (`live_id`), until a create step makes a new one. A step kind whose `batched`
is true parks its key until the executor runs it for many keys at once (one job listing
settles the races of a whole batch).

A new step kind: a dataclass here (its `kind`, its fields and preconditions), the rule that
emits it in `step_generator.py`, and what it does in `step_runner.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from hpcspec.engine.lifecycle import CancelReason
from hpcspec.engine.plan import Action, Change, TaskRef
from hpcspec.hpcpack.definition import RunAs
from hpcspec.manifest.resolve import DesiredJob


class StepKind(StrEnum):
    """The kinds of step, as events and the journal name them."""

    CANCEL_DUPLICATE = "cancel-duplicate"
    CANCEL = "cancel"
    CREATE_VIA_XML = "create-via-xml"
    CREATE_VIA_REST = "create-via-rest"
    MARK = "mark"
    UPDATE = "update"
    SETTLE_RACE = "settle-race"
    SUBMIT = "submit"
    RECHECK_RACE = "recheck-race"
    REQUEUE = "requeue"
    REQUEUE_FAILED = "requeue-failed"
    CANCEL_TASK = "cancel-task"
    REKEY = "rekey"


class CreateMethod(StrEnum):
    """How a job is created (`--create-via`)."""

    XML = "xml"  # one POST /jobs/jobFile carries everything
    REST = "rest"  # POST /jobs, then custom properties, env and each task


@dataclass(frozen=True)
class ApplyOptions:
    """How apply creates jobs and how many it works on at once."""

    via: CreateMethod = CreateMethod.XML
    parallelism: int = 8
    source: str = ""  # provenance stamped as hpcspec.source

    def __post_init__(self) -> None:
        if self.parallelism < 1:
            raise ValueError("parallelism must be at least 1")


@dataclass(frozen=True)
class Step:
    """One thing apply does for one job key."""

    kind: ClassVar[StepKind]
    batched: ClassVar[bool] = False  # run by the executor for a batch of keys at once
    acts_on_new_job: ClassVar[bool] = False  # acts on the job a create step made

    key: str


@dataclass(frozen=True)
class CancelDuplicate(Step):
    """Cancel (forced) another live job of the key: at most one job per key may live."""

    kind = StepKind.CANCEL_DUPLICATE
    job_id: int
    kept: int | None = None  # the key's current job, which stays


@dataclass(frozen=True)
class Cancel(Step):
    """Cancel the key's live job (replaced, removed with --prune, state: canceled, destroy),
    with a message that says hpcspec did, why and when (`lifecycle.cancel_message`)."""

    kind = StepKind.CANCEL
    job_id: int
    reason: CancelReason


@dataclass(frozen=True)
class Create(Step):
    """Create the job once (identity tags and a per-attempt token; see `exactly_once`)."""

    stack: str
    job: DesiredJob
    source: str = ""

    def __post_init__(self) -> None:
        if self.job.key != self.key:
            raise ValueError(f"a create step for {self.key!r} got job {self.job.key!r}")

    @property
    def via(self) -> CreateMethod:
        return CreateMethod.XML if isinstance(self, CreateViaXml) else CreateMethod.REST


@dataclass(frozen=True)
class CreateViaXml(Create):
    """One `POST /jobs/jobFile` carrying properties, custom properties, env and tasks."""

    kind = StepKind.CREATE_VIA_XML


@dataclass(frozen=True)
class CreateViaRest(Create):
    """`POST /jobs` with a pending marker, then custom properties, env and each task."""

    kind = StepKind.CREATE_VIA_REST


@dataclass(frozen=True)
class Mark(Step):
    """Write the ClientSource marker (and what the create could not carry) on the new job."""

    kind = StepKind.MARK
    acts_on_new_job = True
    stack: str
    job: DesiredJob
    via: CreateMethod


def mark_beside_race_check(steps: Sequence[Step], position: int) -> bool:
    """Whether the step at `position` is a mark that may run beside the key's race check
    (docs/apply.md, *Racing appliers*): a job XML create's, with a `SettleRace` next. Such a
    job is whole when its create returns and its pending Name already carries the identity the
    race rule reads, so the check need not wait for the mark; the submit still waits for both.
    A REST create's mark stays before the check: its pending Name protects a build in
    progress until every part is in."""
    step = steps[position]
    after = steps[position + 1] if position + 1 < len(steps) else None
    return isinstance(step, Mark) and step.via is CreateMethod.XML and isinstance(after, SettleRace)


@dataclass(frozen=True)
class Update(Step):
    """Change the live job in place: the fields the plan found different, then the digest."""

    kind = StepKind.UPDATE
    stack: str
    job: DesiredJob
    change: Change

    def __post_init__(self) -> None:
        if self.change.action is not Action.UPDATE or self.change.live_id is None:
            raise ValueError(f"{self.key}: an update step needs an UPDATE of a live job")
        if not self.job.key == self.change.key == self.key:
            raise ValueError(f"an update step for {self.key!r} got another key's job")

    @property
    def job_id(self) -> int:
        assert self.change.live_id is not None  # checked above
        return self.change.live_id


@dataclass(frozen=True)
class RaceCheck(Step):
    """The race rule (`race.py`): of the key's alive jobs — pending ones of other appliers
    included — the lowest id wins; a losing job of ours is cancelled. Batched: one listing
    decides many keys."""

    batched = True
    superseded: int | None = None  # the live job this change replaces: never a rival


@dataclass(frozen=True)
class SettleRace(RaceCheck):
    """The race rule before submitting: a loser is cancelled before it ever runs."""

    kind = StepKind.SETTLE_RACE


@dataclass(frozen=True)
class RecheckRace(RaceCheck):
    """The race rule once more after submitting, for a lower job that became visible late;
    a loser cancels its own submitted job."""

    kind = StepKind.RECHECK_RACE


@dataclass(frozen=True)
class Submit(Step):
    """Submit the key's job (with the run-as account when the manifest gives one)."""

    kind = StepKind.SUBMIT
    run_as: RunAs | None = None


@dataclass(frozen=True)
class Requeue(Step):
    """Requeue the key's Failed or Canceled job as HPC Pack does (`hpcspec requeue KEY`)."""

    kind = StepKind.REQUEUE
    job_id: int


@dataclass(frozen=True)
class RequeueFailed(Step):
    """Run the job's failed and canceled tasks again, and no other (retries, `requeue
    --failed-only`): task requeues, then the job's requeue if it ended (`engine.rescue`)."""

    kind = StepKind.REQUEUE_FAILED
    job_id: int


@dataclass(frozen=True)
class CancelTask(Step):
    """Cancel one task or sweep instance of the key's job (`hpcspec cancel KEY/TASK`)."""

    kind = StepKind.CANCEL_TASK
    job_id: int
    task: TaskRef
    reason: CancelReason = CancelReason.REQUESTED


@dataclass(frozen=True)
class Rekey(Step):
    """`moved: {old: new}`: record the new key on the old key's job (its `hpcspec.key` tag,
    and while it is Configuring its ClientSource marker), so later plans need no alias."""

    kind = StepKind.REKEY
    job_id: int
    stack: str
    digest: str  # the digest the job carries (its marker keeps it)
    configuring: bool  # ClientSource can change only while the job is Configuring


@dataclass(frozen=True)
class JobSteps:
    """The steps of one job key, in order, and what the key's result reports."""

    key: str
    action: Action
    steps: tuple[Step, ...]
    live_id: int | None = None  # the live job the plan saw
    depends_on: tuple[str, ...] = ()  # keys whose jobs must be applied first

    def __post_init__(self) -> None:
        creates = [n for n, s in enumerate(self.steps) if isinstance(s, Create)]
        if len(creates) > 1:
            raise ValueError(f"{self.key}: one create per key")
        for n, step in enumerate(self.steps):
            if step.key != self.key:
                raise ValueError(f"{self.key}: a step of key {step.key!r}")
            before = self.steps[n - 1] if n else None
            if step.acts_on_new_job and not isinstance(before, Create):
                raise ValueError(f"{self.key}: a {step.kind} step must follow a create")
            if isinstance(step, RaceCheck | Submit) and not (creates or self.live_id):
                raise ValueError(f"{self.key}: a {step.kind} step needs a job")
            if isinstance(step, Submit) and not isinstance(before, SettleRace):
                raise ValueError(f"{self.key}: a submit must follow a race check")
            if isinstance(step, RecheckRace) and not isinstance(before, Submit):
                raise ValueError(f"{self.key}: a race recheck must follow a submit")
