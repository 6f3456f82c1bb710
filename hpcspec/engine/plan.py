"""The plan as data: per-job `Change`s with an `Action`, the `Reason`s and field-level diffs.

Types only, computed by `planner` and rendered by `hpcspec.render`, so no renderer decides
anything. Actions decide; reasons only explain; a `Block` on a change carries a refusal
(e.g. replacing a running job without `--allow-replace-running`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from hpcspec.hpcpack.states import JobState


class Action(Enum):
    """What apply will do to one job key."""

    CREATE = "create"  # no live job: create (and submit)
    UPDATE = "update"  # change the live job in place
    SUBMIT = "submit"  # the live job waits in Configuring: submit it
    REPLACE = "replace"  # cancel the live job, then create a new one
    RERUN = "rerun"  # the live job ended: create a new run next to it
    EXTEND = "extend"  # the live job finished: a new job of the new sweep points/matrix rows
    REQUEUE = "requeue"  # the live job Failed: requeue it (retries)
    CANCEL = "cancel"  # cancel the live job (orphan with --prune, or state: canceled)
    NO_OP = "no-op"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def makes_job(self) -> bool:
        """Whether apply creates the key's job anew (create, replace, rerun, extend)."""
        return self in (Action.CREATE, Action.REPLACE, Action.RERUN, Action.EXTEND)

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
    Action.EXTEND: "+",
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
    Action.EXTEND: "to extend",
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
    DESTROYED = "destroyed"  # hpcspec cancelled it (destroy, --prune, replace): create again
    CANCELED_OUTSIDE = "canceled-outside"  # Canceled, not by hpcspec
    CANCELED_BY_REQUEST = "canceled-by-request"  # `hpcspec cancel KEY`: until --rerun KEY
    DRIFT = "drift"  # a managed field differs on the cluster though the spec did not change
    MOVED = "moved"  # `moved:` made the old key's job this key's job
    IGNORED_FIELDS = "ignored-fields"  # the spec changed only in ignoreChanges fields
    EXTENSION = "extension"  # onSpecChange: extend — only new points run, in a new job
    NOT_AN_EXTENSION = "not-an-extension"  # onSpecChange: extend, but more than points changed
    PARENT_REPLACED = "parent-replaced"  # a parent's replace makes HPC Pack cancel this job
    PARENT_CANCELED = "parent-canceled"  # HPC Pack canceled it as hpcspec cancelled its parent
    PARENTS_MOVED = "parents-moved"  # only its parents' keys changed, by `moved:`


class Unmet(StrEnum):
    """Why a key's live job does not satisfy the manifest although apply will not change it:
    the plan never says the cluster matches while a key is in one of these."""

    CANCELED_OUTSIDE = "canceled-outside"  # re-run it with --rerun KEY
    CANCELED = "canceled"  # by `hpcspec cancel KEY`; re-run it with --rerun KEY
    FAILED = "failed"  # failed after its retries; re-run it with --rerun KEY
    DRIFTED = "drifted"  # drift the job's state does not let apply restore


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
    XML_TRIMS = "xml-trims"  # --create-via xml, but the importer would trim an env/custom value
    CANCELS_CHILDREN = "cancels-children"  # HPC Pack would cancel waiting children left as they are
    DEAD_PARENT = "dead-parent"  # a new job whose parent key's job is gone, failed or canceled


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
    JOB = "job"  # hpcspec's own job settings: dependsOn, retries, state


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs. `before`/`after` None mean absent; sensitive values never appear."""

    section: DiffSection
    name: str  # property name, or `task/field` for task fields
    before: str | None
    after: str | None
    sensitive: bool = False
    allowed_now: bool = True  # the live job's state lets this field change in place
    literal: bool = False  # typed values (numbers, booleans, durations, enum names): no quotes


@dataclass(frozen=True)
class FailedOnly:
    """A requeue that runs only the job's failed and canceled tasks again: how many, of all
    its tasks (sweep instances counted one by one)."""

    tasks: int
    total: int


@dataclass(frozen=True)
class Extension:
    """An `onSpecChange: extend` run: the new points alone, in a new job. `starts` names each
    task of the new job with the first new sweep value, or None for a whole new task."""

    points: int  # new sweep instances and new tasks
    total: int  # every point of the spec
    starts: tuple[tuple[str, int | None], ...]


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
    unmet: Unmet | None = None  # the key does not satisfy the manifest, and apply leaves it
    moved_from: str | None = None  # `moved:` — apply records this key on the old key's job
    extension: Extension | None = None  # an EXTEND: which points the new job holds
    # A Configuring job read whole: `drift.whole_digest` of what the plan saw (a task edit
    # does not move the job's ChangeTime; a saved plan compares this instead).
    live_content: str | None = None

    @property
    def is_change(self) -> bool:
        """Apply has something to do for this key."""
        return self.action is not Action.NO_OP or bool(self.duplicates or self.moved_from)

    @property
    def is_orphan(self) -> bool:
        """A live job of the stack whose key is no longer in the manifest."""
        return self.desired_digest is None and any(
            r.code is ReasonCode.ORPHAN for r in self.reasons
        )

    @property
    def satisfied(self) -> bool:
        """Nothing to do and nothing amiss: the key's live job satisfies the manifest."""
        return not (self.is_change or self.blocks or self.unmet)


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
        """Apply would carry something out (refused changes are not counted: apply skips them)."""
        return any(c.is_change and not c.blocks for c in self.changes)

    @property
    def blocked(self) -> bool:
        return any(c.blocks for c in self.changes)

    @property
    def needs_apply(self) -> bool:
        """Apply has something to do or to refuse (a refusal is reported, never silent)."""
        return self.has_changes or self.blocked

    @property
    def matches(self) -> bool:
        """Every selected key's live job satisfies the manifest: the one rule behind "No
        changes: the cluster matches the manifest". Removed keys left alone do not count."""
        return all(c.satisfied for c in self.changes if not c.is_orphan)

    def kept_apart(self) -> list[Change]:
        """Satisfied keys whose job differs from the manifest because the manifest says to
        keep it (`onSpecChange: ignore`): apply does nothing, and the plan says so."""
        return [
            c
            for c in self.changes
            if c.satisfied and any(r.code is ReasonCode.POLICY_IGNORE for r in c.reasons)
        ]

    def unmet(self) -> list[Change]:
        """Keys apply will not bring to the manifest: refused, or needing a person."""
        return [c for c in self.changes if not c.is_orphan and (c.blocks or c.unmet)]

    def removed(self) -> list[Change]:
        """Removed keys whose jobs are still alive and that apply leaves alone (no --prune);
        a removed key whose job has ended is history, not counted."""
        return [
            c
            for c in self.changes
            if c.is_orphan and not c.is_change and c.live_state in _ALIVE_STATE_NAMES
        ]

    def unchanged(self) -> int:
        """Keys whose live job satisfies the manifest and that apply leaves as they are: the
        "unchanged" of the plan's summary and of apply's."""
        return sum(1 for c in self.changes if c.satisfied and not c.is_orphan)

    def counts(self) -> Counter[Action]:
        return Counter(c.action for c in self.changes)

    def summary(self) -> str:
        """`3 to create, 1 to update, 1 moved, 2 unchanged, 1 refused, 1 canceled outside
        hpcspec, 2 removed keys`: what apply does, then what it leaves as it is (a change
        apply refuses is counted as refused, never as what it would have done)."""
        counts: Counter[Action] = Counter(
            c.action for c in self.changes if c.action is not Action.NO_OP and not c.blocks
        )
        parts = [f"{counts[a]} {a.verb}" for a in Action if counts[a]]
        moved = sum(1 for c in self.changes if c.moved_from)
        if moved:
            parts.append(f"{moved} moved")
        unchanged = self.unchanged()
        if unchanged:
            parts.append(f"{unchanged} {Action.NO_OP.verb}")
        refused = sum(1 for c in self.changes if c.blocks and not c.unmet)  # as the footer
        if refused:  # left as they are, but not because they match
            parts.append(f"{refused} refused")
        unmet = Counter(c.unmet for c in self.changes if c.unmet and not c.is_orphan)
        parts += [f"{unmet[u]} {_UNMET_WORDS[u]}" for u in Unmet if unmet[u]]
        removed = len(self.removed())
        if removed:
            parts.append(f"{removed} removed key{'' if removed == 1 else 's'}")
        return ", ".join(parts) if parts else "no jobs"


_ALIVE_STATE_NAMES = frozenset(s.name for s in JobState if s.is_alive)
_UNMET_WORDS = {
    Unmet.CANCELED_OUTSIDE: "canceled outside hpcspec",
    Unmet.CANCELED: "canceled by hpcspec cancel",
    Unmet.FAILED: "failed",
    Unmet.DRIFTED: "drifted",
}
