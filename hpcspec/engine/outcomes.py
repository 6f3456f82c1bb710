"""What came of an apply, as data: per job key an `Outcome`, per run an `ApplyVerdict`.

The executor reports a `JobResult` per key of the plan; `apply_verdict` reduces any number of
them (several stacks, a reconcile round) to one verdict, which the CLI maps to an exit code
through its one table (`hpcspec.cli.exit_codes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from hpcspec.engine.plan import Action


class Outcome(Enum):
    """What happened to one job key."""

    DONE = "done"
    FAILED = "failed"
    NOT_STARTED = "not started"
    REFUSED = "refused"  # blocked in the plan
    UNCHANGED = "unchanged"

    @property
    def is_bad(self) -> bool:
        """The key's change was meant to happen and did not."""
        return self in (Outcome.FAILED, Outcome.NOT_STARTED, Outcome.REFUSED)


@dataclass(frozen=True)
class JobResult:
    """One job key's outcome, its job id (new or live) and what explains it."""

    key: str
    outcome: Outcome
    action: Action
    job_id: int | None = None
    message: str = ""


@dataclass(frozen=True)
class ApplyResult:
    """Every key of one plan, in the plan's order."""

    results: tuple[JobResult, ...]


class ApplyVerdict(Enum):
    """How an apply (or destroy, or a reconcile round) went as a whole."""

    APPLIED = "applied"  # every change that was meant to happen happened (or none was due)
    PARTIAL = "partial"  # some did, some did not
    FAILED = "failed"  # none did
    STALE_PLAN = "stale-plan"  # a saved plan the cluster moved past
    DECLINED = "declined"  # the user said no


class WaitVerdict(Enum):
    """How `--wait` ended."""

    FINISHED = "finished"  # every job ended Finished
    FAILED = "failed"  # some job ended Failed or Canceled, or some key has no job
    TIMED_OUT = "timed-out"


def apply_verdict(
    results: Iterable[ApplyResult], *, stale: bool = False, failed_stacks: int = 0
) -> ApplyVerdict:
    """The verdict over every result (`failed_stacks`: stacks that failed before applying)."""
    if stale:
        return ApplyVerdict.STALE_PLAN
    flat = [r for result in results for r in result.results]
    bad = failed_stacks > 0 or any(r.outcome.is_bad for r in flat)
    if not bad:
        return ApplyVerdict.APPLIED
    done = any(r.outcome is Outcome.DONE for r in flat)
    return ApplyVerdict.PARTIAL if done else ApplyVerdict.FAILED


class StepFailed(Exception):
    """A step failed in a way it explains itself: the message is the whole report."""
