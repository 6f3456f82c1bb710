"""The emulator refuses what the references say HPC Pack refuses (issue 15, a strict emulator).

Each test names the reference file its rule comes from; each failed on the emulator as it was
before these rules (an emulator more lenient than the server hides client bugs).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.emulator.helpers import Api, future, pairs


def _refused(reply: Any, status: int, fragment: str) -> None:
    assert reply.status_code == status, reply.text
    assert fragment in reply.json()["Message"]


def _task(api: Api, job: int, **props: str) -> Any:
    return api.call("POST", f"/jobs/{job}/tasks", json=pairs(props))


# -- msdocs/ischedulertask-failjobonfailurecount.md ------------------------------------------
def test_fail_job_on_failure_count_above_one_is_refused_on_a_basic_task(emulator):
    api = Api(emulator)
    job = api.create_job()
    reply = _task(api, job, CommandLine="x", FailJobOnFailureCount="2")
    _refused(reply, 400, "'FailJobOnFailureCount' may not be set for tasks of type 'Basic'")


def test_fail_job_on_failure_count_above_one_is_kept_on_a_sweep(emulator):
    api = Api(emulator)
    job = api.create_job()
    sweep = dict(Type="ParametricSweep", StartValue="1", EndValue="4", CommandLine="x")
    task = api.add_task(job, FailJobOnFailureCount="3", **sweep)
    assert api.task(job, task, "FailJobOnFailureCount") == {"FailJobOnFailureCount": "3"}


# -- derived/error-codes.json: Operation_JobInvalidHoldUntil, Operation_JobHoldUntilTooLong ----
def test_hold_until_in_the_past_is_refused(emulator):
    api = Api(emulator)
    reply = api.call("POST", "/jobs", json=pairs({"HoldUntil": future(-3600)}))
    _refused(reply, 400, "HoldUntil time cannot be in the past")


def test_hold_until_more_than_a_year_ahead_is_refused(emulator):
    api = Api(emulator)
    job = api.create_job()
    reply = api.call("PUT", f"/jobs/{job}", json=pairs({"HoldUntil": future(367 * 86400)}))
    _refused(reply, 400, "cannot be held for more than 1 year")
    api.ok("PUT", f"/jobs/{job}", json=pairs({"HoldUntil": future(300 * 86400)}))


# -- derived/error-codes.json: Operation_PriorityAndExPriCannotBeSetTogether ------------------
def test_priority_and_expanded_priority_that_disagree_are_refused(emulator):
    api = Api(emulator)
    reply = api.call("POST", "/jobs", json=pairs({"Priority": "Normal", "ExpandedPriority": "200"}))
    _refused(reply, 400, "Priority and ExpandedPriority cannot be set at the same time")


def test_priority_and_expanded_priority_that_agree_keep_the_precise_value(emulator):
    api = Api(emulator)
    job = api.create_job(Priority="Normal", ExpandedPriority="2005")
    assert api.job(job, "Priority", "ExpandedPriority") == {
        "Priority": "Normal",
        "ExpandedPriority": "2005",
    }


# -- derived/error-codes.json: Operation_EnvironmentVarNameTooLong / ValueTooLong -------------
@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("N" * 256, "v", "name was too long"),
        ("NAME", "v" * 32767, "value was too long"),
        ("NAME", "a\0b", "value is not valid"),
    ],
    ids=["name", "value", "nul"],
)
def test_over_long_or_invalid_environment_variables_are_refused(emulator, name, value, fragment):
    api = Api(emulator)
    job = api.create_job()
    reply = api.call("POST", f"/jobs/{job}/envVariables", json=pairs({name: value}))
    _refused(reply, 400, fragment)


# -- msdocs/tasktype.md: no DependsOn (RequiredNodes, Min/Max…) on per-resource tasks ---------
@pytest.mark.parametrize("kind", ["NodePrep", "NodeRelease"])
def test_node_prep_and_release_tasks_may_not_depend_on_others(emulator, kind):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, Name="first", CommandLine="x")
    reply = _task(api, job, Type=kind, CommandLine="y", DependsOn="first")
    _refused(reply, 400, f"'DependsOn' may not be set for tasks of type '{kind}'")


def test_a_task_may_not_depend_on_a_node_prep_task(emulator):
    # Validation_InvalidDependsOn: "A task may only depend on another basic or parametric task"
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, Name="prep", Type="NodePrep", CommandLine="x")
    api.add_task(job, Name="work", CommandLine="y", DependsOn="prep")
    api.ok("POST", f"/jobs/{job}/submit")
    assert api.wait(job, "Failed") == "Failed"
    assert (
        "no basic or parametric task named 'prep'" in api.job(job, "ErrorMessage")["ErrorMessage"]
    )


# -- derived/error-codes.json: Operation_InvalidExitCodes ("min" or "max" alone) --------------
@pytest.mark.parametrize("codes", ["max", "0,min", " MIN "])
def test_bare_min_or_max_exit_codes_are_refused(emulator, codes):
    api = Api(emulator)
    job = api.create_job()
    reply = _task(api, job, CommandLine="x", TaskValidExitCodes=codes)
    _refused(reply, 400, '"min" or "max" alone is not supported')


# -- sdk-xmldoc JobOrderBy.Parse: "[-][Core|Memory]" ------------------------------------------
@pytest.mark.parametrize("text", ["fastest nodes first", "Memory,Memory", "-Disk"])
def test_order_by_free_text_is_refused(emulator, text):
    api = Api(emulator)
    reply = api.call("POST", "/jobs", json=pairs({"OrderBy": text}))
    _refused(reply, 400, "is not a list of [-]Core or [-]Memory")


def test_order_by_in_the_sdk_form_is_kept_as_sent(emulator):
    api = Api(emulator)
    job = api.create_job(OrderBy="-Memory,Cores")
    assert api.job(job, "OrderBy") == {"OrderBy": "-Memory,Cores"}


# -- msdocs/ischedulertask-startvalue.md, ischedulertask-isparametric.md ----------------------
def _submitted_sweep(api: Api, start: int, end: int) -> int:
    job = api.create_job()
    api.add_task(
        job,
        Name="s",
        Type="ParametricSweep",
        CommandLine="echo *",
        StartValue=str(start),
        EndValue=str(end),
    )
    api.ok("POST", f"/jobs/{job}/submit")
    return job


def test_a_sweep_starting_at_zero_fails_validation(emulator):
    api = Api(emulator)
    job = _submitted_sweep(api, 0, 3)
    assert api.wait(job, "Failed") == "Failed"
    assert "must be greater than zero" in api.job(job, "ErrorMessage")["ErrorMessage"]


def test_a_sweep_of_more_than_100000_instances_fails_validation(emulator):
    api = Api(emulator)
    job = _submitted_sweep(api, 1, 100_001)
    assert api.wait(job, "Failed") == "Failed"
    message = api.job(job, "ErrorMessage")["ErrorMessage"]
    assert "has 100001 sub-tasks.  The upper limit on the number of sub-tasks is 100000." in message


# -- msdocs/ischedulertask-dependson.md: "B will not run until A finishes, fails, or is canceled"
def _failing_prerequisite(api: Api, **job_props: str) -> int:
    job = api.create_job(**job_props)
    api.add_task(job, Name="a", CommandLine="exit:1")
    api.add_task(job, Name="b", CommandLine="echo after a", DependsOn="a")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Failed")
    return job


def test_a_dependent_task_runs_after_its_prerequisite_fails(emulator):
    api = Api(emulator)
    job = _failing_prerequisite(api)
    assert api.task(job, 2, "State", "Output") == {"State": "Finished", "Output": "after a\n"}


def test_fail_dependent_tasks_fails_the_dependent_task_instead(emulator):
    api = Api(emulator)
    job = _failing_prerequisite(api, FailDependentTasks="true")
    task = api.task(job, 2, "State", "StartTime")
    assert task == {"State": "Failed", "StartTime": ""}


# -- msdocs/updating-a-job.md: custom properties in Configuring/Queued/Running only; ----------
# environment variables and tasks only while Configuring
def test_custom_properties_of_a_finished_job_are_refused(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, CommandLine="echo x")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Finished")
    reply = api.call("POST", f"/jobs/{job}/customProperties", json=pairs({"k": "v"}))
    _refused(reply, 409, "jobs in the Finished state cannot be modified")


def test_custom_properties_of_a_queued_job_change_but_its_environment_does_not(emulator):
    api = Api(emulator)
    job = api.create_job(HoldUntil=future())
    api.add_task(job, CommandLine="sleep:60")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Queued")
    api.ok("POST", f"/jobs/{job}/customProperties", json=pairs({"k": "v"}))
    reply = api.call("POST", f"/jobs/{job}/envVariables", json=pairs({"K": "v"}))
    _refused(reply, 409, "jobs in the Queued state cannot be modified")
    task_reply = api.call("POST", f"/jobs/{job}/tasks/1/customProperties", json=pairs({"k": "v"}))
    _refused(task_reply, 409, "Task cannot be modified when it is in Queued state")
    api.ok("POST", f"/jobs/{job}/cancel", json="")


# -- issue 13 item 8: UTF-8 Basic credentials, well-formed XML for any name -------------------
def test_a_non_ascii_password_authenticates_as_utf8(start_emulator):
    import base64

    import requests

    running = start_emulator(user_password="pässwörd-日本")
    token = base64.b64encode("HPC\\alice:pässwörd-日本".encode()).decode()
    reply = requests.get(
        running.url + "/jobs", headers={"Authorization": f"Basic {token}"}, timeout=30
    )
    assert reply.status_code == 200
    wrong = base64.b64encode("HPC\\alice:passwörd".encode()).decode()
    refused = requests.get(running.url + "/jobs", headers={"Authorization": f"Basic {wrong}"})
    assert refused.status_code == 401


def test_a_job_named_with_a_lone_surrogate_still_lists_as_well_formed_xml(emulator):
    from lxml import etree

    api = Api(emulator)
    body = '[{"Name": "Name", "Value": "bad\\ud800name\\u0001"}]'
    headers = {"Content-Type": "application/json"}
    job = int(api.ok("POST", "/jobs", data=body.encode(), headers=headers))
    reply = api.call(
        "GET",
        "/jobs",
        params={"properties": "Id,Name", "$filter": "JobState eq Configuring", "rowsPerRead": 9999},
        headers={"Accept": "application/xml"},
    )
    assert reply.status_code == 200
    root = etree.fromstring(reply.content)
    assert "bad\ufffdname\ufffd" in [v.text for v in root.iter("{*}Value")]
    assert api.job(job, "Name")["Name"] == "bad\ud800name\x01"  # JSON keeps what was sent


def test_serve_on_a_busy_port_says_the_address_is_in_use(run_cli, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        code, _, err = run_cli(
            "emulator", "serve", "--port", str(port), "--db", str(tmp_path / "e.db"),
            "--user", "admin:pw:admin",
        )  # fmt: skip
    assert code != 0
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in err
    assert "Traceback" not in err and "AttributeError" not in err
    assert time.monotonic() - started < 10
