"""Writes to a live job that is on its way to the queue: the one rule update, rekey and forget use.

HPC Pack updates a job only while it is Configuring, Queued or Running (or ended, which moves it
back to Configuring: `msdocs/updating-a-job.md`, `derived/job-modify-rules.json`). A job just
submitted passes through Submitted, Validating and ExternalValidation on its way to Queued, and
a write in those states is refused by state. A plan made moments after a submit sees such a
job, and the write comes a moment later still: `when_settled` sends the write and, when the
server refuses it by state, reads the state until the job is no longer on its way (for
`SETTLE_SECONDS` at most) and sends the write once more if the job is then writable. A refusal
in any other state, or a second one, is the server's answer, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from hpcspec.engine.protocols import ClusterReader
from hpcspec.hpcpack.errors import RefusedByState
from hpcspec.hpcpack.states import JobState

T = TypeVar("T")

ON_THE_WAY = frozenset({JobState.Submitted, JobState.Validating, JobState.ExternalValidation})
WRITABLE = frozenset({JobState.Configuring, JobState.Queued, JobState.Running})
SETTLE_SECONDS = 30.0  # how long a job on its way to the queue is waited for
POLL_SECONDS = 0.25


def when_settled(
    cluster: ClusterReader,
    job_id: int,
    write: Callable[[], T],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`write()`; while it is refused by state and job `job_id` is on its way to the queue
    (`ON_THE_WAY`), the write is sent again once the state moved on (bounded). A job read in
    a writable state right after a refusal had moved on meanwhile: the write is sent once more."""
    deadline = clock() + SETTLE_SECONDS
    retried = False
    while True:
        try:
            return write()
        except RefusedByState:
            state = cluster.job_state(job_id)
            while state in ON_THE_WAY and clock() < deadline:
                sleep(POLL_SECONDS)
                state = cluster.job_state(job_id)
            if retried or state not in WRITABLE:
                raise
            retried = True
