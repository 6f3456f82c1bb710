"""The race rule: of racing appliers' jobs for one key, exactly one survives (docs/apply.md).

Every job of a stack is listable from its first moment (a pending Name at create, the
ClientSource marker once complete: `identity.py`), so whatever an applier checks, every
rival job created before its own is already in the listing. The rule is decided on that
data alone and is the same for every applier:

    of the key's contenders — its alive jobs (pending ones included) and the jobs that
    ran (Finished or Failed) after the plan was made; the job this change replaces
    excluded — the lowest id wins; a losing job of ours is cancelled (forced).

A rival that ran counts because a job finishes quickly: the lower job may have been
submitted and ended by the time a slower applier checks (seen under 15% faults), and must
still win. Jobs that ended before the plan are history the plan accounted for (`floor`).

Apply checks it twice per key (`SettleRace` before the submit, `RecheckRace` after it), one
listing per batch of keys. A later job never beats an earlier one, so the lowest alive job
is never cancelled by the rule: a key is never left without a job. An error while checking
(the listing, or the cancel of our losing job) is that key's failure — nothing is submitted
on an unchecked race. A listing that does not show our own job (a server that lists writes
late) decides nothing for that key: it may lack the lower rivals created before ours. The
stack is listed again (`listing_lag.Patience`: growing pauses, up to a bound from the
cluster's measured listing lag) until a listing shows it; past the bound the key is
unchecked (`race-unchecked`), and nothing of it is submitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from hpcspec.engine import exactly_once
from hpcspec.engine.discovery import StackJobs, list_stack
from hpcspec.engine.identity import DIGEST_TAG, extra_job_message
from hpcspec.engine.listing_lag import Patience
from hpcspec.engine.protocols import ClusterReader, ClusterWriter, JobColumns
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.live import custom_value
from hpcspec.hpcpack.states import JobState


@dataclass(frozen=True)
class Claim:
    """One key's job in a race: ours, and the live job our change replaces (never a rival)."""

    key: str
    job_id: int
    superseded: int | None = None
    floor: int | None = None  # the highest ended job id the plan saw (None: ended jobs ignored)


@dataclass(frozen=True)
class Verdict:
    """Who won a key's race: our job goes on, or `winner` carries the key (and ours was
    cancelled); `submitted` says whether the winner was already submitted; `other_spec`, that
    the winner claims another spec than ours (another version of the manifest, applied at the
    same time: the key is carried, but not as this apply asked)."""

    winner: int
    submitted: bool = True
    other_spec: bool = False


@dataclass(frozen=True)
class Settlement:
    """Each key's verdict, or why its race could not be decided (the error, code and all:
    a key's result says `[code]` as other failed steps do); listing rows read, and how many
    listings it took."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    failures: dict[str, HpcspecError] = field(default_factory=dict)
    rows_listed: int = 0  # of one listing (the longest, if it took more than one)
    listings: int = 0  # more than one: the first did not show every job of ours yet


RAN = frozenset({JobState.Finished, JobState.Failed})


class RaceUnchecked(HpcspecError):
    """The listing lacks our own job: it was made before the cluster listed it (a listing that
    lags writes), so a lower rival created before ours may be missing too."""


class RaceUndecided(HpcspecError):
    """Our job is gone and no rival carries the key: someone else cancelled it."""


ADVICE = "; run apply again"


def unlisted(error: Exception) -> HpcspecError:
    """Why every key of a batch failed when its listing did: the listing's own code, or
    `race-check-failed` for a surprise (its type and text)."""
    if not isinstance(error, HpcspecError):
        error = HpcspecError(f"{type(error).__name__}: {error}", code="race-check-failed")
    message = f"the race check with other appliers failed: {error.message}"
    return HpcspecError(message, code=error.code, hint=error.hint, location=error.location)


def after_submit(error: HpcspecError, job_id: int) -> HpcspecError:
    """A failed re-check (`RecheckRace`): our job was submitted; the advice said once, the
    code kept."""
    why = error.message.removesuffix(ADVICE)
    message = f"job {job_id} was submitted, but {why}{ADVICE} to settle it"
    return HpcspecError(message, code=error.code, hint=error.hint, location=error.location)


def spec_raced(message: str, winner: int) -> HpcspecError:
    """A key whose race another apply won with another spec: carried, but not as asked."""
    return HpcspecError(
        f"{message}, and job {winner} holds another spec: another version of the manifest "
        "was applied at the same time; run `hpcspec plan` to see what differs",
        code="spec-raced",
    )


def survivor(listed: StackJobs, claim: Claim) -> Verdict:
    """The rule for one key, from one listing of the stack."""
    ran = []
    if claim.floor is not None:
        ended = listed.by_key.get(claim.key, ())
        ran = [j for j in ended if j.state in RAN and j.id > claim.floor]
    contenders = sorted([*listed.alive(claim.key), *ran], key=lambda j: j.id)
    field_ = [job for job in contenders if job.id != claim.superseded]
    rivals = [job for job in field_ if job.id != claim.job_id]
    mine = listed.job(claim.job_id)
    if mine is None:  # `settle` waits for a listing that shows it; this rule never guesses
        raise _unchecked(claim.job_id, Patience(0.0), 1)
    # One that already ran (a short job, before our re-check) is ours too; a cancelled one
    # is not.
    mine_in = mine.state.is_alive or mine.state in RAN
    if rivals and (not mine_in or rivals[0].id < claim.job_id):
        winner = rivals[0]
        theirs, ours = listed.identities.get(winner.id), listed.identities.get(claim.job_id)
        digests = {j.digest for j in (theirs, ours) if j is not None and j.digest}
        other = len(digests) == 2  # both known, and not the same spec
        return Verdict(winner.id, winner.state is not JobState.Configuring, other)
    if not mine_in:
        raise RaceUndecided(
            f"job {claim.job_id} was cancelled by someone else while apply worked on it, "
            "and no other job carries the key" + ADVICE,
            code="job-cancelled-meanwhile",
        )
    return Verdict(claim.job_id)


def held_spec(cluster: ClusterReader, listed: StackJobs, claim: Claim, verdict: Verdict) -> Verdict:
    """`verdict` with `other_spec` judged by the spec the winner holds now: its
    `hpcspec.digest` tag (one request), which an update in place moves, where the listing
    shows only the marker of the spec it was created with (ClientSource cannot change after
    submit). Without the tag (a pending job), the listing's judgement stands."""
    ours = listed.identities.get(claim.job_id)
    if ours is None or not ours.digest:
        return verdict
    tags = cluster.job_custom_properties(verdict.winner)
    carried = custom_value(tags.items(), DIGEST_TAG) or None
    if carried is None:
        return verdict
    return replace(verdict, other_spec=carried != ours.digest)


def settle(
    cluster: ClusterWriter,
    stack: str,
    claims: Sequence[Claim],
    *,
    all_keys: Sequence[str] = (),
    patience: Patience | None = None,
) -> Settlement:
    """Decide every claim on one listing; cancel our losing jobs. A claim whose job that
    listing does not show yet waits for a later one (`listing_lag.Patience`: listed again
    after growing pauses, up to the cluster's bound), then fails `race-unchecked`. A listing
    that fails raises (the caller fails the whole batch); a key whose cancel fails is that
    key's failure."""
    if not claims:
        return Settlement()
    keys = sorted({*all_keys, *(c.key for c in claims)})
    patience = patience or Patience.of(cluster)
    verdicts: dict[str, Verdict] = {}
    failures: dict[str, HpcspecError] = {}
    waiting, listings, rows = list(claims), 0, 0

    def listing() -> StackJobs:
        return list_stack(cluster, stack, keys, columns=JobColumns.IDENTITY, read_orphans=False)

    for listed in patience.listings(listing):
        listings, rows = listings + 1, max(rows, listed.rows)
        shown = [c for c in waiting if listed.job(c.job_id) is not None]
        waiting = [c for c in waiting if c not in shown]
        for claim in shown:  # each key is decided on the first listing that shows its job
            try:
                verdict = survivor(listed, claim)
                if verdict.winner != claim.job_id:
                    message = extra_job_message(verdict.winner)
                    exactly_once.cancel_once(cluster, claim.job_id, message, forced=True)
                    verdict = held_spec(cluster, listed, claim, verdict)
            except HpcspecError as error:
                failures[claim.key] = error
                continue
            verdicts[claim.key] = verdict
        if not waiting:
            break
    for claim in waiting:
        failures[claim.key] = _unchecked(claim.job_id, patience, listings)
    return Settlement(verdicts, failures, rows, listings)


def _unchecked(job_id: int, patience: Patience, listings: int) -> RaceUnchecked:
    waited = f" after {listings} listings over {patience.describe()}" if listings > 1 else ""
    return RaceUnchecked(
        f"the cluster's job listing does not show job {job_id} yet{waited}, so it cannot "
        "show the other appliers' jobs created before it" + ADVICE,
        code="race-unchecked",
        hint="a listing this far behind its writes: `hpcspec cluster check` measures the "
        "listing lag, and apply waits for it (docs/apply.md)",
    )
