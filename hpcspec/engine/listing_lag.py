"""How long apply waits for a job listing that shows its own writes (docs/apply.md, "A
listing behind its writes").

The references do not say how soon `GET /jobs` lists a job its create answered: a listing
served by a read replica a moment behind the primary shows it late. Every conclusion apply
draws from a listing *not* showing something waits for a listing recent enough to tell:

- the race rule (`race.settle`): a listing that lacks our own job may lack the lower rivals
  created before it, so it decides nothing;
- a create whose answer was lost (`exactly_once.find_by_token`): no job with the token in a
  listing that may be behind the create proves nothing, and the create is sent again only
  once the bound has passed;
- the stack lock (`lock.py`): a listing that lacks our lock job cannot say who holds it.

Each lists again, after growing pauses, until the listing shows what it needs or `bound`
seconds have passed (`Patience.listings`). One rule gives the bound for all of them
(`Patience.of`), from the cluster's profile (`ClusterProfile.listing_lag_ms`, measured by
`hpcspec cluster check`'s `listing-lag` probe, or else as the stack lock saw it this run:
`CreateLog.observe`): `LAG_FACTOR` times the lag, at least `FLOOR`; `UNMEASURED` where
nothing was measured. The first pause is the measured lag
(at least `FIRST_PAUSE`), each next one `GROWTH` times longer. A reader with no profile at
all (a test's fake) is taken at its word: one listing, no wait.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
Created = int | tuple[int, int]  # a job id, or a task: (job id, JobTaskId)

LAG_FACTOR = 4  # a replica's lag varies: the bound is a few times the measured one
FLOOR = 0.5  # seconds: even a cluster measured at 0 may lag now and then
UNMEASURED = 2.0  # seconds: no profile says how far behind the listing may be
FIRST_PAUSE = 0.05  # seconds before the second listing (or the measured lag, if longer)
GROWTH = 2.0


@dataclass(frozen=True)
class Patience:
    """How long to list again for a listing that shows our writes, and the pauses between."""

    bound: float  # seconds after the first listing; 0: one listing only
    first: float = FIRST_PAUSE
    lag: float | None = None  # the measured lag (seconds), None: not measured
    longest: float = math.inf  # the longest pause
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def of(
        cls,
        reader: object,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Patience:
        """The one rule: the bound for `reader`'s cluster, from its profile."""
        profile = getattr(reader, "profile", None)
        knows = getattr(profile, "knows", None)
        if profile is None or knows is None:
            return cls(0.0, clock=clock, sleep=sleep)
        if knows("listing_lag_ms"):
            lag: float | None = int(getattr(profile, "listing_lag_ms", 0)) / 1000
        else:
            lag = create_log(reader).observed_lag
        if lag is None:
            return cls(UNMEASURED, clock=clock, sleep=sleep)
        bound = max(FLOOR, LAG_FACTOR * lag)
        return cls(bound, max(FIRST_PAUSE, lag), lag, clock=clock, sleep=sleep)

    def listings(self, list_once: Callable[[], T]) -> Iterator[T]:
        """`list_once()` now, then again after growing pauses for as long as the caller asks
        for more (it stops once a listing shows what it needs); the last one is made when
        `bound` seconds have passed."""
        deadline = self.clock() + self.bound
        pause = self.first
        while True:
            yield list_once()
            left = deadline - self.clock()
            if left <= 0:
                return
            self.sleep(min(pause, left))
            pause = min(self.longest, pause * GROWTH)

    def describe(self) -> str:
        """The bound, and where it comes from (for an error message)."""
        if self.lag is None:
            return f"{self.bound:g} s, the default where no listing lag was measured"
        return f"{self.bound:g} s, for a listing lag measured at {self.lag * 1000:.0f} ms"


class CreateLog:
    """The jobs this process created on one cluster, each with the moment its create was sent.

    A witness that a listing is recent: ids follow creation order and a listing behind its
    writes is behind in that order, so a listing that shows a job whose create was sent after
    moment `t` shows every job created before `t` — the job of a create whose answer was lost
    at `t` included, if it exists. `find_by_token` then concludes absence at once, without
    waiting out the bound (a busy apply's other creates are such witnesses). Task adds are
    kept the same way: JobTaskIds follow the order adds arrive in.

    It also keeps the lag the stack lock saw (`observe`): the time from its lock job's create
    to the first listing that showed it, the probe's own measurement, made by every apply for
    free. Where the profile has no measured lag, the bound is made of the longest lag seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[tuple[float, Created]] = []
        self.observed_lag: float | None = None  # seconds, the longest seen

    def observe(self, lag: float) -> None:
        """A job of ours was first listed `lag` seconds after its create answered."""
        with self._lock:
            self.observed_lag = max(lag, self.observed_lag or 0.0)

    def record(self, sent: float, made: Created) -> None:
        """A create sent at `sent` (monotonic seconds) made `made`: a job id, or a task as
        (job id, JobTaskId)."""
        with self._lock:
            self._sent.append((sent, made))
            del self._sent[:-KEPT]

    def sent_after(self, moment: float) -> set[Created]:
        """What the creates sent after `moment` made."""
        with self._lock:
            return {made for sent, made in self._sent if sent > moment}


KEPT = 1000  # creates a log remembers: witnesses are recent ones
_LOGS: weakref.WeakKeyDictionary[object, CreateLog] = weakref.WeakKeyDictionary()
_LOGS_LOCK = threading.Lock()


def create_log(cluster: object) -> CreateLog:
    """The create log of `cluster` (a client object; a fresh, unshared one for an object that
    cannot be a weak key, such as a test's dataclass fake)."""
    with _LOGS_LOCK:
        try:
            return _LOGS.setdefault(cluster, CreateLog())
        except TypeError:
            return CreateLog()
