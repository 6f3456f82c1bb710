"""The plan as data: per-job `Change`s with an `Action`, the `Reason`s and field-level diffs.

Types only, computed by `planner` and rendered by `hpcspec.render`, so no renderer decides
anything. Actions decide; reasons only explain; a `Block` on a change carries a refusal
(e.g. replacing a running job without `--allow-replace-running`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum, StrEnum


class Action(Enum):
    """What apply will do to one job key."""

    CREATE = "create"  # no live job: create (and submit)
    UPDATE = "update"  # change the live job in place
    SUBMIT = "submit"  # the live job waits in Configuring: submit it
    REPLACE = "replace"  # cancel the live job, then create a new one
    RERUN = "rerun"  # the live job ended: create a new run next to it
    REQUEUE = "requeue"  # the live job Failed: requeue it (retries)
    CANCEL = "cancel"  # cancel the live job (orphan with --prune, or state: canceled)
    NO_OP = "no-op"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def verb(self) -> str:
        """Words for the summary line: `3 to create`."""
        return _VERBS[self]


_SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.SUBMIT: ">",
    Action.REPLACE: "-/+",
    Action.RERUN: "+",
    Action.REQUEUE: "↻",
    Action.CANCEL: "-",
    Action.NO_OP: " ",
}
_VERBS = {
    Action.CREATE: "to create",
    Action.UPDATE: "to update",
    Action.SUBMIT: "to submit",
    Action.REPLACE: "to replace",
    Action.RERUN: "to rerun",
    Action.REQUEUE: "to requeue",
    Action.CANCEL: "to cancel",
    Action.NO_OP: "unchanged",
}


class ReasonCode(StrEnum):
    """The stable code of a `Reason` (the JSON plan carries it; docs/plan-format.md)."""

    NEW = "new"  # no live job for the key
    UNCHANGED = "unchanged"
    SPEC_CHANGED = "spec-changed"
    CONFIGURING = "configuring"  # still Configuring: updated in place
    NOT_SUBMITTED = "not-submitted"  # Configuring, but the manifest wants it submitted
    IN_PLACE = "in-place"  # every changed field may be set in this state
    NOT_SETTABLE = "not-settable"  # some changed field may not be set in this state
    TASK_REMOVED = "task-removed"  # HPC Pack cannot remove a task
    LOSES_QUEUE_POSITION = "loses-queue-position"
    DISCARDS_RUNNING_WORK = "discards-running-work"
    ENDED = "ended"
    POLICY_RERUN = "policy-rerun"
    POLICY_IGNORE = "policy-ignore"
    FORCED_RERUN = "forced-rerun"  # --rerun
    RETRY = "retry"  # Failed, retries left: requeue
    RETRIES_EXHAUSTED = "retries-exhausted"
    WANTED_CANCELED = "wanted-canceled"  # state: canceled
    ORPHAN = "orphan"  # in the stack, not in the manifest
    DUPLICATES = "duplicates"  # other live jobs of the key
    DESTROY = "destroy"  # hpcspec destroy cancels it
    REQUESTED = "requested"  # `hpcspec requeue` or `hpcspec cancel` asked for it
    NOTHING_FAILED = "nothing-failed"  # `hpcspec requeue`: no task to run again


@dataclass(frozen=True)
class Reason:
    """Why a change is what it is: a stable code and a sentence for people."""

    code: ReasonCode
    message: str


class BlockCode(StrEnum):
    """Why apply refuses a change."""

    REPLACE_RUNNING = "replace-running"  # needs --allow-replace-running or onSpecChange
    SPEC_CHANGE_REFUSED = "spec-change-refused"  # onSpecChange: error
    MISSING_ON_CLUSTER = "missing-on-cluster"  # preflight: a node group, template or node
    STALE_PLAN = "stale-plan"  # a saved plan the cluster moved past
    XML_ONLY = "xml-only"  # --create-via rest, but the job sets a property only job XML carries


@dataclass(frozen=True)
class Block:
    """A refusal: apply will not carry this change out until the user allows it."""

    code: BlockCode
    message: str
    hint: str = ""


class DiffSection(StrEnum):
    """Which part of a job a `FieldDiff` is about."""

    PROPERTY = "property"
    CUSTOM_PROPERTY = "customProperty"
    ENV = "env"
    TASK = "task"
    RUN_AS = "runAs"


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs. `before`/`after` None mean absent; sensitive values never appear."""

    section: DiffSection
    name: str  # property name, or `task/field` for task fields
    before: str | None
    after: str | None
    sensitive: bool = False
    allowed_now: bool = True  # the live job's state lets this field change in place


@dataclass(frozen=True)
class FailedOnly:
    """A requeue that runs only the job's failed and canceled tasks again: how many, of all
    its tasks (sweep instances counted one by one)."""

    tasks: int
    total: int


@dataclass(frozen=True)
class TaskRef:
    """One task, or sweep instance, of the live job that a change acts on alone."""

    label: str  # `greet`, `post[mesh=fine;re=1e5]`, or `run[17]` for a sweep instance
    task_id: int  # JobTaskId
    instance_id: int = 0  # > 0: a sweep instance (subtask)


@dataclass(frozen=True)
class Change:
    """Everything the plan says about one job key."""

    key: str
    action: Action
    reasons: tuple[Reason, ...] = ()
    diffs: tuple[FieldDiff, ...] = ()
    blocks: tuple[Block, ...] = ()
    # What the plan saw, so a saved plan can refuse to apply when the cluster moved on.
    live_id: int | None = None
    live_state: str | None = None
    live_change_time: str | None = None
    live_digest: str | None = None
    desired_digest: str | None = None
    running_tasks: int = 0
    duplicates: tuple[int, ...] = ()  # other live jobs of this key that apply will cancel
    failed_only: FailedOnly | None = None  # a REQUEUE that reruns only failed/canceled tasks
    tasks: tuple[TaskRef, ...] = ()  # a CANCEL of these tasks only (`hpcspec cancel KEY/TASK`)

    @property
    def is_change(self) -> bool:
        return self.action is not Action.NO_OP or bool(self.duplicates)


@dataclass(frozen=True)
class PlanOptions:
    """What the user asked for on the command line."""

    prune: bool = False
    targets: frozenset[str] = frozenset()
    excludes: frozenset[str] = frozenset()
    rerun: frozenset[str] = frozenset()
    allow_replace_running: bool = False

    def selects(self, key: str) -> bool:
        """Whether --target/--exclude leave `key` in the run."""
        return (not self.targets or key in self.targets) and key not in self.excludes


@dataclass(frozen=True)
class Plan:
    """A plan for one stack on one cluster."""

    stack: str
    cluster: str
    changes: tuple[Change, ...]
    source: str = ""
    insecure: bool = False  # TLS verification was off: every rendering says so
    notes: tuple[str, ...] = field(default=())

    @property
    def has_changes(self) -> bool:
        return any(c.is_change for c in self.changes)

    @property
    def blocked(self) -> bool:
        return any(c.blocks for c in self.changes)

    @property
    def needs_apply(self) -> bool:
        """Apply has something to do or to refuse (a refusal is reported, never silent)."""
        return self.has_changes or self.blocked

    def counts(self) -> Counter[Action]:
        return Counter(c.action for c in self.changes)

    def summary(self) -> str:
        """`3 to create, 1 to update, 1 to replace, 2 unchanged`."""
        counts = self.counts()
        parts = [f"{counts[a]} {a.verb}" for a in Action if counts[a] and a is not Action.NO_OP]
        if counts[Action.NO_OP]:
            parts.append(f"{counts[Action.NO_OP]} {Action.NO_OP.verb}")
        return ", ".join(parts) if parts else "no jobs"
