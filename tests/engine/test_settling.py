"""`settling.when_settled`: a write refused while the job is on its way to the queue is sent
again once it is queued (`msdocs/updating-a-job.md`: Configuring, Queued and Running jobs
take updates; Submitted, Validating and ExternalValidation are passed through on the way)."""

from __future__ import annotations

import pytest

from hpcspec.engine.settling import SETTLE_SECONDS, when_settled
from hpcspec.hpcpack.errors import RefusedByState
from hpcspec.hpcpack.states import JobState


class Job:
    """A job whose state moves on one step per read, and whose writes are refused by state
    while it is not writable."""

    def __init__(self, states: list[JobState], refusals: int) -> None:
        self.states, self.refusals, self.writes, self.reads = states, refusals, 0, 0
        self.now = 0.0

    def job_state(self, job_id: int) -> JobState:
        self.reads += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def write(self) -> str:
        self.writes += 1
        if self.refusals:
            self.refusals -= 1
            raise RefusedByState("jobs in the Validating state cannot be modified")
        return "written"

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now


def settle(job: Job) -> str:
    return when_settled(job, 7, job.write, sleep=job.sleep, clock=job.clock)  # type: ignore[arg-type]


def test_a_write_refused_while_validating_is_sent_again_once_the_job_is_queued() -> None:
    job = Job([JobState.Validating, JobState.Validating, JobState.Queued], refusals=1)
    assert settle(job) == "written"
    assert (job.writes, job.reads) == (2, 3)


def test_a_job_that_moved_on_between_the_refusal_and_the_read_gets_the_write_once_more() -> None:
    job = Job([JobState.Queued], refusals=1)
    assert settle(job) == "written"
    assert (job.writes, job.reads, job.now) == (2, 1, 0.0)


@pytest.mark.parametrize("state", [JobState.Finished, JobState.Canceling, JobState.Finishing])
def test_a_refusal_in_a_state_that_never_takes_the_write_is_the_answer(state: JobState) -> None:
    job = Job([state], refusals=1)
    with pytest.raises(RefusedByState):
        settle(job)
    assert job.writes == 1


def test_a_second_refusal_once_queued_is_the_answer_not_a_loop() -> None:
    job = Job([JobState.Queued], refusals=5)
    with pytest.raises(RefusedByState):
        settle(job)
    assert job.writes == 2


def test_a_job_stuck_on_its_way_is_waited_for_a_bounded_time() -> None:
    job = Job([JobState.Validating], refusals=1)
    with pytest.raises(RefusedByState):
        settle(job)
    assert job.writes == 1 and SETTLE_SECONDS <= job.now < SETTLE_SECONDS + 1


def test_a_write_that_is_taken_is_sent_once_and_reads_nothing() -> None:
    job = Job([JobState.Submitted], refusals=0)
    assert settle(job) == "written"
    assert (job.writes, job.reads) == (1, 0)
