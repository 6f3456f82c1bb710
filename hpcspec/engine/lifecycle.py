"""Who ended a key's job, and what that means for the next plan (DESIGN.md §3's lifecycle table).

hpcspec cancels a job with a message that says so (`cancel_message`): `hpcspec destroy at
2026-05-01T10:00:00Z`, `hpcspec --prune at …`, `hpcspec replace at …: replaced by job 42`,
`hpcspec state: canceled at …`, `hpcspec cancel at …`. HPC Pack keeps a cancel's message in
the job's ErrorMessage property ("The message is stored with the job. To get the message,
access the ISchedulerJob.ErrorMessage property": `reference/hpcpack/msdocs/ischeduler-canceljob.md`;
the sdk-xmldoc's JobState.Canceled says the same; HPC Pack 2016 prefixes it with
`Operation_CanceledByUser`'s "Canceled by user. Message:{0}", `derived/error-codes.json`),
and ErrorMessage is a job listing column, so the plan tells a key that hpcspec itself
cancelled (`cancelled_by_hpcspec`: the next apply creates it again) from one cancelled
outside hpcspec (shown as such, with the command that re-runs it) at no extra request.

The REST API caps a cancel message at 128 characters (`msdocs/cancel-job.md`); every message
here is shorter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from hpcspec.hpcpack.live import LiveJob

MAX_CANCEL_MESSAGE = 128  # msdocs/cancel-job.md: "The maximum length of the string is 128"


class CancelReason(StrEnum):
    """Why hpcspec cancels a key's job; the value is the words its cancel message starts with."""

    REPLACED = "replace"  # a new job took its place
    REMOVED = "--prune"  # the key left the manifest
    WANTED_CANCELED = "state: canceled"  # the manifest says so
    DESTROYED = "destroy"  # hpcspec destroy
    REQUESTED = "cancel"  # `hpcspec cancel KEY[/TASK]`

    @property
    def phrase(self) -> str:
        """How a plan names the command that cancelled: `hpcspec destroy`."""
        return _PHRASES[self]


_PHRASES = {
    CancelReason.REPLACED: "a replace by hpcspec apply",
    CancelReason.REMOVED: "hpcspec apply --prune",
    CancelReason.WANTED_CANCELED: "hpcspec apply (state: canceled)",
    CancelReason.DESTROYED: "hpcspec destroy",
    CancelReason.REQUESTED: "hpcspec cancel",
}
_WHEN = "%Y-%m-%dT%H:%M:%SZ"
_MESSAGE = re.compile(
    r"hpcspec (?P<what>"
    + "|".join(re.escape(r.value) for r in CancelReason)
    + r") at (?P<when>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"
)


# The messages of hpcspec before it said when (0.1.x): still hpcspec's own cancels.
_LEGACY = {
    "hpcspec destroy": CancelReason.DESTROYED,
    "hpcspec: removed from the manifest": CancelReason.REMOVED,
    "hpcspec: replaced by a new job": CancelReason.REPLACED,
    "hpcspec: state: canceled": CancelReason.WANTED_CANCELED,
}


def cancel_message(reason: CancelReason, *, at: datetime, replaced_by: int | None = None) -> str:
    """The message hpcspec cancels a job with: it says hpcspec did, why, and when."""
    text = f"hpcspec {reason.value} at {at.astimezone(UTC).strftime(_WHEN)}"
    if replaced_by is not None:
        text += f": replaced by job {replaced_by}"
    return text[:MAX_CANCEL_MESSAGE]


@dataclass(frozen=True)
class CancelledByHpcspec:
    """A job hpcspec cancelled on purpose: why, and when (ISO 8601, UTC)."""

    reason: CancelReason
    when: str

    @property
    def recreates(self) -> bool:
        """The next apply creates the key again: every reason but `hpcspec cancel KEY`, a
        person's decision to stop that run, which stays until `--rerun KEY` (a reconcile loop
        must not undo it)."""
        return self.reason is not CancelReason.REQUESTED

    def describe(self) -> str:
        """`destroyed by hpcspec destroy at 2026-05-01T10:00:00Z`."""
        verb = "destroyed" if self.reason is CancelReason.DESTROYED else "cancelled"
        return f"{verb} by {self.reason.phrase}" + (f" at {self.when}" if self.when else "")


def cancelled_by_hpcspec(job: LiveJob) -> CancelledByHpcspec | None:
    """The job was cancelled by hpcspec (destroy, --prune, a replace, state: canceled), as its
    ErrorMessage says; None for a job that is not cancelled, or was cancelled outside hpcspec.

    The one rule for "hpcspec ended this job on purpose": such a key has no live job, and the
    next apply creates it again."""
    if not job.state.is_canceled:
        return None
    said = job.error_message or ""
    found = _MESSAGE.search(said)
    if found is not None:
        return CancelledByHpcspec(CancelReason(found["what"]), found["when"])
    bare = said.split("Message:", 1)[-1].strip()  # HPC Pack 2016 prefixes the message
    legacy = _LEGACY.get(bare)
    return CancelledByHpcspec(legacy, "") if legacy is not None else None
