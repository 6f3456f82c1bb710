"""Every row of the modify-by-state table (derived/job-modify-rules.json), over HTTP.

Accepted changes answer 204 and read back; refused ones answer 409 with the scheduler's
Operation_SetInvalidPropUnderCertainState message.
"""

from __future__ import annotations

import json

import pytest

from tests.emulator.helpers import future, pairs
from tests.emulator.states import job_in

SAMPLE = {
    "Progress": "5", "ProgressMessage": "half way", "EndpointReference": "net.tcp://x",
    "NumberOfCalls": "3", "NumberOfOutstandingCalls": "1", "CallDuration": "10",
    "CallsPerSecond": "2", "ErrorCode": "0", "ErrorParams": "p", "RequestCancel": "None",
    "UserName": "HPC\\alice", "Password": "secret", "PendingReason": "None",
    "HoldUntil": future(7200), "NotifyOnStart": "True", "NotifyOnCompletion": "True",
    "TargetResourceCount": "2", "EmailAddress": "ops@example.com", "Priority": "AboveNormal",
    "ExpandedPriority": "3100", "Project": "physics", "RuntimeSeconds": "3600",
    "Name": "renamed", "RunUntilCanceled": "False",
}  # fmt: skip


def _rules(reference):
    return json.loads((reference / "derived" / "job-modify-rules.json").read_text())


def _rows(state: str, reference) -> list[tuple[str, bool]]:
    rules = _rules(reference)
    anytime = set(rules["PropsCanBeSetAnyTime"])
    allowed = set(anytime)
    if state in ("Queued", "Running"):
        allowed |= set(rules[f"{state}_WithoutProfileChecking"])
        allowed |= set(rules[f"{state}_WithProfileChecking"])
    names = sorted(set(SAMPLE))
    return [(name, name in allowed) for name in names]


@pytest.mark.parametrize(
    "state",
    ["Submitted", "Validating", "Queued", "Running", "Finishing", "Finished", "Failed",
     "Canceled", "Canceling"],
)  # fmt: skip
def test_job_property_changes_follow_the_table(state, reference, emulator, start_emulator):
    api, job = job_in(state, emulator, start_emulator)
    for name, allowed in _rows(state, reference):
        reply = api.call("PUT", f"/jobs/{job}", json=pairs({name: SAMPLE[name]}))
        if allowed:
            assert reply.status_code == 204, (name, reply.text)
        else:
            assert reply.status_code == 409, (name, reply.text)
            expected = f"The property {name} cannot be set when the job is in state {state}."
            assert reply.json()["Message"] == expected
    assert api.state(job) == state


def test_every_settable_property_changes_while_configuring(emulator):
    from tests.emulator.helpers import Api

    api = Api(emulator)
    job = api.create_job()
    api.ok("PUT", f"/jobs/{job}", json=pairs(SAMPLE))
    props = api.job(job)
    assert props["Name"] == "renamed"
    assert props["Priority"] == "AboveNormal"
    assert props["ExpandedPriority"] == "3100"
    assert "Password" not in props  # write-only


def test_tasks_change_only_while_the_job_is_configuring(emulator, start_emulator):
    api, job = job_in("Running", emulator, start_emulator)
    reply = api.call("PUT", f"/jobs/{job}/tasks/1", json=pairs({"Name": "late"}))
    assert reply.status_code == 409
    assert reply.json()["Message"] == "Task cannot be modified when it is in Running state."
    api, job = job_in("Configuring", emulator, start_emulator)
    api.add_task(job, CommandLine="echo 1")
    api.ok("PUT", f"/jobs/{job}/tasks/1", json=[{"name": "name", "value": "early"}])
    assert api.task(job, 1, "Name") == {"Name": "early"}


def test_unknown_and_read_only_properties_are_refused(emulator):
    from tests.emulator.helpers import Api

    api = Api(emulator)
    job = api.create_job()
    unknown = api.call("PUT", f"/jobs/{job}", json=pairs({"NoSuchThing": "1"}))
    assert unknown.status_code == 400
    assert unknown.json()["Message"].startswith("Property NoSuchThing does not exist")
    read_only = api.call("PUT", f"/jobs/{job}", json=pairs({"State": "Running"}))
    assert read_only.status_code == 400
    assert read_only.json()["Message"] == "Property State is read only and cannot be changed."


def test_a_submit_password_is_accepted_but_never_stored(start_emulator):
    from tests.emulator.helpers import Api

    running = start_emulator()
    api = Api(running)
    job = api.create_job()
    secret = "pw-never-on-disk-7f3a"
    api.ok(
        "POST", f"/jobs/{job}/submit", json=pairs({"UserName": "HPC\\alice", "Password": secret})
    )
    assert "Password" not in api.job(job)
    running.stop()
    for path in running.db.parent.glob(running.db.name + "*"):
        assert secret.encode() not in path.read_bytes()
