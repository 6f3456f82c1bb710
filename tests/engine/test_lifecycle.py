"""Who ended a job (engine/lifecycle.py): hpcspec's own cancels are told from anyone else's
by the message HPC Pack keeps in ErrorMessage (msdocs/ischeduler-canceljob.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.engine.lifecycle import (
    MAX_CANCEL_MESSAGE,
    CancelReason,
    cancel_message,
    cancelled_by_hpcspec,
)
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState

AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
PREFIX = "Canceled by user. Message:"  # HPC Pack 2016's Operation_CanceledByUser


def canceled(message: str, state: JobState = JobState.Canceled) -> LiveJob:
    return LiveJob(id=42, state=state, error_message=message)


@given(
    reason=st.sampled_from(CancelReason),
    at=st.datetimes(datetime(2000, 1, 1), datetime(9999, 1, 1), timezones=st.just(UTC)),
    heir=st.none() | st.integers(1, 10**9),
    prefixed=st.booleans(),
)
def test_every_cancel_message_reads_back_as_hpcspecs_own(
    reason: CancelReason, at: datetime, heir: int | None, prefixed: bool
) -> None:
    message = cancel_message(reason, at=at, replaced_by=heir)
    assert len(message) <= MAX_CANCEL_MESSAGE
    found = cancelled_by_hpcspec(canceled((PREFIX if prefixed else "") + message))
    assert found is not None and found.reason is reason
    assert found.when == at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_destroy_reads_as_destroyed_with_its_time() -> None:
    found = cancelled_by_hpcspec(canceled(PREFIX + cancel_message(CancelReason.DESTROYED, at=AT)))
    assert found is not None
    assert found.describe() == "destroyed by hpcspec destroy at 2026-05-01T10:00:00Z"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("hpcspec destroy", CancelReason.DESTROYED),
        (PREFIX + "hpcspec: removed from the manifest", CancelReason.REMOVED),
        (PREFIX + "hpcspec: replaced by a new job", CancelReason.REPLACED),
    ],
)
def test_the_messages_of_older_hpcspec_still_count_as_its_own(
    message: str, reason: CancelReason
) -> None:
    found = cancelled_by_hpcspec(canceled(message))
    assert found is not None and found.reason is reason and found.when == ""


@pytest.mark.parametrize(
    "message",
    ["", PREFIX + "maintenance", PREFIX + "not hpcspec destroy", "hpcspec destroyer at noon"],
)
def test_anyone_elses_cancel_is_canceled_outside_hpcspec(message: str) -> None:
    assert cancelled_by_hpcspec(canceled(message)) is None


def test_a_job_that_is_not_canceled_was_not_ended_by_hpcspec() -> None:
    message = cancel_message(CancelReason.DESTROYED, at=AT)
    assert cancelled_by_hpcspec(canceled(message, JobState.Failed)) is None
    assert cancelled_by_hpcspec(canceled(message, JobState.Canceling)) is not None


def test_only_hpcspec_cancel_keeps_a_key_stopped_every_other_cancel_is_recreated() -> None:
    for reason in CancelReason:
        found = cancelled_by_hpcspec(canceled(cancel_message(reason, at=AT)))
        assert found is not None
        assert found.recreates is (reason is not CancelReason.REQUESTED)
