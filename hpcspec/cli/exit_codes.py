"""The one table from what a command found or did to its exit code (README, docs/cli.md).

Commands never compute an exit code from results themselves: the engine returns a verdict
(`ApplyVerdict` for apply, destroy and a reconcile round; `WaitVerdict` for `--wait`), plan
and drift a `Detailed` answer for `--detailed-exitcode`, and `exit_code` looks it up here.
Errors that escape a command get theirs at the error boundary (`cli/__init__.py`).
"""

from __future__ import annotations

from enum import Enum

from hpcspec.engine.outcomes import ApplyVerdict, WaitVerdict
from hpcspec.errors import ExitCode


class Detailed(Enum):
    """What `--detailed-exitcode` reports of a plan or a drift check."""

    NOTHING = "nothing"  # no changes (or the flag was not given)
    CHANGES = "changes"
    ATTENTION = "attention"  # nothing apply can do, yet the cluster does not match

    @classmethod
    def of(cls, changed: bool, *, asked: bool, attention: bool = False) -> Detailed:
        """Only when the user asked for the detailed code: CHANGES when apply would change
        something; otherwise ATTENTION when the cluster still does not match (a refused
        change, a job canceled outside hpcspec, failed or drifted beyond repair)."""
        if not asked:
            return cls.NOTHING
        if changed:
            return cls.CHANGES
        return cls.ATTENTION if attention else cls.NOTHING


Outcome = ApplyVerdict | WaitVerdict | Detailed

EXIT_CODES: dict[Outcome, ExitCode] = {
    ApplyVerdict.APPLIED: ExitCode.OK,
    ApplyVerdict.PARTIAL: ExitCode.PARTIAL,
    ApplyVerdict.FAILED: ExitCode.ERROR,
    ApplyVerdict.STALE_PLAN: ExitCode.STALE_PLAN,
    ApplyVerdict.DECLINED: ExitCode.ERROR,
    WaitVerdict.FINISHED: ExitCode.OK,
    WaitVerdict.FAILED: ExitCode.JOBS_FAILED,
    WaitVerdict.TIMED_OUT: ExitCode.TIMED_OUT,
    Detailed.NOTHING: ExitCode.OK,
    Detailed.CHANGES: ExitCode.CHANGES,
    Detailed.ATTENTION: ExitCode.ERROR,
}


def exit_code(outcome: Outcome) -> int:
    """The process exit code for `outcome`."""
    return int(EXIT_CODES[outcome])
