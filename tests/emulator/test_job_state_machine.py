"""Submit / cancel / finish / requeue from every job state (ground truth §4.1), over HTTP."""

from __future__ import annotations

import pytest

from tests.emulator.states import ALL_STATES, job_in

# per research/hpcpack-ground-truth.md §4.1 and derived/error-codes.json
ALLOWED = {
    "submit": {"Configuring"},
    "cancel": {"Configuring", "Submitted", "Validating", "Queued", "Running", "Canceling",
               "Finishing"},
    "finish": {"Queued", "Running", "Canceling", "Finishing"},
    "requeue": {"Canceled", "Failed"},
}  # fmt: skip
REFUSAL = {
    "submit": "The job could not be submitted because it is not in the configuring state.",
    "cancel": "Jobs in the {state} state cannot be canceled.",
    "finish": "cannot be finished",
    "requeue": "cannot be requeued",
}
AFTER = {
    "submit": {"Submitted", "Validating", "Queued", "Running", "Finishing", "Finished"},
    "cancel": {"Canceling", "Canceled"},
    "finish": {"Finished"},
    "requeue": {"Queued", "Running", "Finishing", "Finished", "Failed"},
}


@pytest.mark.parametrize("state", ALL_STATES)
@pytest.mark.parametrize("operation", ["submit", "cancel", "finish", "requeue"])
def test_operation_from_every_job_state(operation, state, emulator, start_emulator):
    api, job = job_in(state, emulator, start_emulator)
    body = {"json": ""} if operation in ("cancel", "finish") else {}
    reply = api.call("POST", f"/jobs/{job}/{operation}", **body)
    if state in ALLOWED[operation]:
        assert reply.status_code == 204, reply.text
        assert api.state(job) in AFTER[operation]
    else:
        assert reply.status_code == 409, reply.text
        assert REFUSAL[operation].format(state=state) in reply.json()["Message"]
        assert api.state(job) == state


def test_cancel_keeps_the_message_and_canceled_jobs_count_a_requeue(emulator, start_emulator):
    api, job = job_in("Running", emulator, start_emulator)
    api.ok("POST", f"/jobs/{job}/cancel", json="no longer needed")
    assert api.wait(job, "Canceled") == "Canceled"
    props = api.job(job, "ErrorMessage", "RequeueCount")
    assert props["ErrorMessage"] == "Canceled by user. Message:no longer needed"
    task = api.task(job, 1, "State", "ErrorMessage")
    assert task["State"] == "Failed"  # running tasks stop and become Failed
    api.ok("POST", f"/jobs/{job}/requeue")
    assert api.job(job, "RequeueCount")["RequeueCount"] == "1"
    assert api.wait(job, "Running") == "Running"
    api.ok("POST", f"/jobs/{job}/cancel", params={"forced": "true"}, json="")


def test_cancel_message_longer_than_128_characters_is_refused(emulator):
    from tests.emulator.helpers import Api

    api = Api(emulator)
    job = api.create_job()
    reply = api.call("POST", f"/jobs/{job}/cancel", json="x" * 129)
    assert reply.status_code == 400
    assert "Cancel message should not contain more than 128 characters." in reply.text


def test_finish_does_not_set_error_message(emulator, start_emulator):
    api, job = job_in("Running", emulator, start_emulator)
    api.ok("POST", f"/jobs/{job}/finish", json="enough")
    assert api.job(job, "State", "ErrorMessage") == {"State": "Finished", "ErrorMessage": ""}


def test_requeue_reruns_what_the_job_cancel_stopped_but_not_the_users_own_cancels(emulator):
    from tests.emulator.helpers import Api, future

    api = Api(emulator)
    job = api.create_job(HoldUntil=future())
    api.add_task(job, CommandLine="echo 1")
    api.add_task(job, CommandLine="echo 2")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Queued")
    api.ok("POST", f"/jobs/{job}/tasks/2/cancel", json="not this one")
    api.ok("POST", f"/jobs/{job}/cancel", json="")
    api.wait(job, "Canceled")
    api.ok("POST", f"/jobs/{job}/requeue")
    # per ground truth §4.1: tasks canceled before running stay Canceled, the others re-run
    assert api.task(job, 2, "State") == {"State": "Canceled"}
    assert api.task(job, 1, "State")["State"] == "Queued"  # still held by HoldUntil
