"""The stack lock: one apply or destroy of a stack at a time, held on the cluster itself.

In the spirit of Terraform's state lock, but with no state backend: the lock is a job. Each
apply creates one never-submitted **lock job** (`POST /jobs` with the lock Name,
`identity.lock_name`: stack, token, `host/pid`; set by the create itself, so the lock exists
from its first moment; a create answered without a readable id is found by that token:
`_create`), then lists the stack — the listing recovery uses too — so a free
lock costs three requests in all (the create, the listing and, at the end, the cancel).

- The **lowest id** among the stack's live lock jobs (Configuring) holds the lock; the others
  wait, polling the listing, until theirs is the lowest or `--lock-timeout` runs out.
- While it lives, a lock job's `ChangeTime` moves with a **heartbeat** (a PUT of its
  ProgressMessage, settable in any state) every `HEARTBEAT_SECONDS`; a lock whose heartbeat
  is `STALE_AFTER` older than the waiter's own (both read on the server's clock), or whose
  `host/pid` names this host and a process that is gone, is **stale**: passed over and
  cancelled.
- The holder cancels its lock job when it is done (also on errors and Ctrl-C);
  `hpcspec force-unlock LOCK_ID` cancels one by hand.

The lock keeps racing appliers from wasting creates and makes recovery safe (no live
applier is building the pending jobs it settles). It is not what makes apply exactly-once:
the race rule (`race.py`) holds without it, e.g. if a holder that lost its heartbeat comes
back while another has broken its lock.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from hpcspec.engine import exactly_once
from hpcspec.engine.discovery import StackJobs, list_stack
from hpcspec.engine.events import LockWaiting, Observer
from hpcspec.engine.identity import lock_name, new_token
from hpcspec.engine.listing_lag import Patience, create_log
from hpcspec.engine.protocols import ClusterWriter, OutcomeUnknown
from hpcspec.errors import HpcspecError
from hpcspec.host import pid_alive
from hpcspec.hpcpack.definition import JobDefinition
from hpcspec.hpcpack.errors import BadResponse, NotFound, RefusedByState
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 15.0
STALE_AFTER = timedelta(minutes=2)
DEFAULT_TIMEOUT = 600.0  # --lock-timeout: racing CI pipelines wait for each other (docs/apply.md)
LOCK_TOKEN = 16  # hex characters of a lock's token
FIRST_POLL, LAST_POLL = 0.5, 5.0  # seconds between listings while waiting (growing, jittered)


@dataclass(frozen=True)
class LockOptions:
    """Whether to hold the stack lock, and how long to wait for it (seconds)."""

    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT
    stop: threading.Event | None = field(default=None, compare=False)  # set: stop waiting


class StackLocked(HpcspecError):
    """Another apply held the stack lock for longer than `--lock-timeout`."""


class LockError(HpcspecError):
    """The lock job could not be created, or was cancelled while we waited."""


@dataclass(frozen=True)
class Me:
    """Who takes a lock: this host and process (`pid_alive` tells a dead holder here)."""

    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)

    def holder(self) -> str:
        """The `host/pid` our lock jobs carry (the host shortened to fit a Name)."""
        return lock_name("-", "0" * LOCK_TOKEN, self.host, self.pid).rpartition(":")[2]

    def holds(self, holder: str) -> bool | None:
        """Whether the process a lock's `host/pid` names is alive: None when it is not on
        this host (or this host's name had to be shortened, so it cannot be told)."""
        host, _, pid = holder.rpartition("/")
        mine = self.holder().rpartition("/")[0]
        if host != mine or mine != self.host or not pid.isdigit():
            return None
        return int(pid) == self.pid or pid_alive(int(pid))


def holder_of(
    locks: Sequence[LiveJob], holders: dict[int, str], mine: LiveJob, me: Me
) -> tuple[LiveJob, list[LiveJob]]:
    """(the lock job that holds the stack, the stale ones) among `locks` — `mine` is ours,
    whose ChangeTime is the server's "now" as of our last heartbeat."""
    live = sorted((j for j in locks if j.state is JobState.Configuring), key=lambda j: j.id)
    stale = []
    for job in live:
        if job.id == mine.id:
            continue
        late = (
            job.change_time is not None
            and mine.change_time is not None
            and mine.change_time - job.change_time > STALE_AFTER
        )
        if late or me.holds(holders.get(job.id, "")) is False:
            stale.append(job)
    holding = [j for j in live if j not in stale]
    return (holding[0] if holding else mine), stale


class StackLock:
    """One stack's lock for one apply: `acquire` (returns the stack's listing), `release`."""

    def __init__(
        self,
        cluster: ClusterWriter,
        stack: str,
        keys: Sequence[str],
        options: LockOptions,
        observer: Observer,
        *,
        me: Me | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cluster, self.stack, self.keys = cluster, stack, list(keys)
        self.options, self.observer, self.me = options, observer, me or Me()
        self.clock, self.sleep = clock, sleep
        self.job_id: int | None = None
        self.listed: StackJobs | None = None  # the listing that found the lock ours
        self._lost: list[str] = []  # tokens of our creates answered without a readable id
        self._answered: float | None = None  # when our lock job's create answered
        self._asked = 0.0  # when the last listing was asked for
        self._stop = threading.Event()
        self._beating: threading.Thread | None = None
        self._beats = 0

    def acquire(self) -> StackJobs:
        """Create our lock job and wait until it holds the stack; the stack's listing then.
        Whatever stops the wait (the timeout, an error, Ctrl-C) cancels our lock job."""
        try:
            return self._acquire()
        except BaseException:
            self.release()
            raise

    def _acquire(self) -> StackJobs:
        deadline = self.clock() + self.options.timeout
        self._create()
        told: int | None = None
        wait, last_beat = FIRST_POLL, self.clock()
        while True:
            listed, mine = self._listed(deadline)
            holders = {job.id: listed.identities[job.id].holder for job in listed.locks}
            holder, stale = holder_of(listed.locks, holders, mine, self.me)
            if holder.id == mine.id:
                self._break(stale)
                self._start_heartbeat()
                self.listed = listed
                return listed
            if self.clock() >= deadline:
                raise _locked(self.stack, holder, holders.get(holder.id, ""), self.options)
            if told != holder.id:
                told = holder.id
                event = LockWaiting(
                    self.stack,
                    holder.id,
                    holder.owner,
                    holders.get(holder.id, ""),
                    self.options.timeout,
                )
                self.observer.notify(event)
            self._pause(min(wait * (0.75 + random.random() / 2), max(0.0, deadline - self.clock())))
            wait = min(LAST_POLL, wait * 1.5)
            if self.clock() - last_beat >= HEARTBEAT_SECONDS:
                self._beat()  # a waiting lock is alive too: nobody may break it
                last_beat = self.clock()

    def _pause(self, seconds: float) -> None:
        """Sleep between listings while another holds the lock; a stop asked meanwhile
        (`LockOptions.stop`) ends the wait with an error, before anything was changed."""
        stop = self.options.stop
        if stop is None:
            self.sleep(seconds)
        elif stop.wait(seconds):
            raise LockError(
                f"stopped while waiting for the lock of stack {self.stack!r}: nothing of it "
                "was changed",
                code="lock-wait-stopped",
            )

    def release(self) -> None:
        """Stop the heartbeat and cancel our lock job (a failure only leaves it to go stale)."""
        self._stop.set()
        if self._beating is not None:
            self._beating.join(timeout=5)
        if self._lost:  # a lock job we made but never learned the id of: found and cancelled
            try:
                self._settle_lost(list_stack(self.cluster, self.stack, [], read_orphans=False))
            except HpcspecError as error:
                log.warning("could not look for our unanswered lock job(s) (%s)", error)
        if self.job_id is None:
            return
        job_id, self.job_id = self.job_id, None
        try:
            exactly_once.cancel_once(self.cluster, job_id, "hpcspec: lock released", forced=True)
        except HpcspecError as error:
            log.warning("could not release lock job %s (%s); it goes stale", job_id, error)

    def _create(self) -> None:
        """POST the lock job; after an answer without a readable id, the token in its Name
        finds it. A lost answer or a 5xx (the job may exist): not found in one listing, it is
        created again. A success whose body is no id (the job exists): the acquire's listings
        find it, waiting for it as for any job not listed yet. Every such token is kept, so a
        lock job an unclear create made is ours or cancelled once a listing shows it
        (`_settle_lost`, and `release`)."""
        for _ in range(exactly_once.MAX_ATTEMPTS):
            token = new_token()[:LOCK_TOKEN]
            name = lock_name(self.stack, token, self.me.host, self.me.pid)
            try:
                self.job_id = self.cluster.create_job(JobDefinition(properties=(("Name", name),)))
                self._answered = self.clock()
                return
            except (OutcomeUnknown, BadResponse) as unclear:
                log.info("lock job create of %s: %s; looking it up", self.stack, unclear.message)
                self._lost.append(token)
                self._settle_lost(list_stack(self.cluster, self.stack, self.keys))
                if self.job_id is not None or isinstance(unclear, BadResponse):
                    return
        raise LockError(
            f"could not create the lock job of stack {self.stack!r}",
            code="lock-failed",
            hint="run again (or --no-lock)",
        )

    def _settle_lost(self, listed: StackJobs) -> StackJobs:
        """The listing without our lock jobs whose create answered no readable id: the first
        one becomes ours while we have none; the others are cancelled (forced)."""
        if not self._lost:
            return listed
        for job in sorted(listed.locks, key=lambda j: j.id):
            token = listed.identities[job.id].token
            if token not in self._lost or job.state is not JobState.Configuring:
                continue
            if self.job_id is None:
                self.job_id = job.id
                self._lost.remove(token)
                continue
            listed.locks.remove(job)  # ours: never the holder we wait for, cancelled or not
            try:
                exactly_once.cancel_once(
                    self.cluster, job.id, "hpcspec: lock job of a lost create", forced=True
                )
            except HpcspecError as error:
                log.warning("could not cancel our lock job %s (%s); it goes stale", job.id, error)
                continue
            self._lost.remove(token)
        return listed

    def _listed(self, deadline: float) -> tuple[StackJobs, LiveJob]:
        """The stack's listing and our lock job in it. A listing that does not show our lock
        job yet is behind its writes (not a lock cancelled meanwhile): the stack is listed
        again as the race check does (`listing_lag.Patience`: the first pause the measured
        lag), but up to `deadline` (--lock-timeout), not the lag bound: waiting concludes
        nothing, and a cluster lagging beyond the bound must still let the next apply in to
        settle what the last one could not; then `lock-unlisted` (our lock job is
        cancelled). The lag it saw is noted for the other waits (`CreateLog.observe`)."""
        patience = Patience.of(self.cluster, clock=self.clock, sleep=self.sleep)
        patience = replace(patience, bound=deadline - self.clock(), longest=LAST_POLL)
        for missed, listed in enumerate(patience.listings(self._list)):
            mine = self._mine(listed)
            if mine is not None:
                if self._answered is not None:  # the lag the probe measures, for free
                    lag = self._asked - self._answered if missed else 0.0
                    create_log(self.cluster).observe(lag)
                    self._answered = None
                return listed, mine
        raise self._unlisted()

    def _list(self) -> StackJobs:
        self._asked = self.clock()
        return self._settle_lost(list_stack(self.cluster, self.stack, self.keys))

    def _mine(self, listed: StackJobs) -> LiveJob | None:
        """Our lock job; None while the listing does not show it yet. One that is listed but
        no longer Configuring was cancelled."""
        mine = next((j for j in listed.locks if j.id == self.job_id), None)
        if mine is None:
            return None
        if mine.state is not JobState.Configuring:
            self.job_id = None
            raise LockError(
                f"our lock job of stack {self.stack!r} was cancelled while we waited "
                "(hpcspec force-unlock?)",
                code="lock-lost",
                hint="run again",
            )
        return mine

    def _unlisted(self) -> LockError:
        job = self.job_id if self.job_id is not None else "(its create answered no readable id)"
        return LockError(
            f"the cluster's job listing did not show our lock job {job} of stack "
            f"{self.stack!r} within --lock-timeout ({self.options.timeout:g} s)",
            code="lock-unlisted",
            hint="run again, with a longer --lock-timeout",
        )

    def _break(self, stale: list[LiveJob]) -> None:
        for job in stale:
            try:
                exactly_once.cancel_once(
                    self.cluster,
                    job.id,
                    f"hpcspec: stale lock, broken by {self.job_id}",
                    forced=True,
                )
            except HpcspecError as error:  # another user's lock: passed over all the same
                log.info("stale lock job %s stays: %s", job.id, error)

    def _beat(self) -> None:
        assert self.job_id is not None
        self._beats += 1
        message = f"hpcspec lock heartbeat {self._beats}"
        self.cluster.set_job(self.job_id, {"ProgressMessage": message})

    def _start_heartbeat(self) -> None:
        def run() -> None:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    self._beat()
                except (RefusedByState, NotFound):
                    log.warning("stack lock job of %s was cancelled (force-unlock?)", self.stack)
                    return
                except HpcspecError as error:
                    log.warning("stack lock heartbeat failed: %s", error.message)
                except AssertionError:  # released meanwhile
                    return

        self._beating = threading.Thread(target=run, name=f"lock-{self.stack}", daemon=True)
        self._beating.start()


def _locked(stack: str, holder: LiveJob, who: str, options: LockOptions) -> StackLocked:
    return StackLocked(
        f"stack {stack!r} is locked by lock job {holder.id} (owner {holder.owner or 'unknown'}, "
        f"{who or 'holder unknown'}, last heartbeat {holder.change_time or 'unknown'}): another "
        f"apply or destroy of the stack ran for longer than --lock-timeout "
        f"({options.timeout:g} s)",
        code="stack-locked",
        hint=f"wait and run again, raise --lock-timeout, or if that apply is dead: "
        f"hpcspec force-unlock {holder.id} --stack {stack}",
    )


def force_unlock(cluster: ClusterWriter, stack: str, lock_id: int) -> LiveJob:
    """Cancel lock job `lock_id` of `stack` (`hpcspec force-unlock`); the lock job it was."""
    listed = list_stack(cluster, stack, [], read_orphans=False)
    live = [j for j in listed.locks if j.state is JobState.Configuring]
    found = next((j for j in live if j.id == lock_id), None)
    if found is None:
        held = ", ".join(f"{j.id} ({listed.identities[j.id].holder})" for j in live) or "none"
        raise LockError(
            f"job {lock_id} is not a live lock of stack {stack!r} (its live locks: {held})",
            code="not-a-lock",
        )
    exactly_once.cancel_once(cluster, lock_id, "hpcspec force-unlock", forced=True)
    return found
