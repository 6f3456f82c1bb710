"""Custom properties and environment variables on jobs and tasks (ground truth §1.2, §7)."""

from __future__ import annotations

from tests.emulator.helpers import Api


def test_env_names_query_returns_missing_variables_empty(emulator):
    api = Api(emulator)
    job = api.create_job()
    api.ok("POST", f"/jobs/{job}/envVariables", json=[{"name": "A", "value": "1"}])
    got = api.ok("GET", f"/jobs/{job}/envVariables", params={"Names": "A,MISSING"})
    assert got == [{"Name": "A", "Value": "1"}, {"Name": "MISSING", "Value": ""}]
    api.add_task(job, CommandLine="x")
    assert api.ok("GET", f"/jobs/{job}/tasks/1/envVariables") == []
    api.ok("POST", f"/jobs/{job}/envVariables", json=[{"Name": "A", "Value": ""}])
    assert api.ok("GET", f"/jobs/{job}/envVariables") == []


def test_hpc_variables_are_reserved(emulator):
    api = Api(emulator)
    job = api.create_job()
    reply = api.call(
        "POST", f"/jobs/{job}/envVariables", json=[{"Name": "CCP_JOBID", "Value": "1"}]
    )
    assert reply.status_code == 400
    assert reply.json()["Message"] == "Cannot change reserved environment variable."


def test_custom_properties_read_back_and_are_limited(emulator):
    api = Api(emulator)
    job = api.create_job()
    two = [{"Name": "c1", "Value": "v1"}, {"Name": "c2", "Value": "v2"}]
    api.ok("POST", f"/jobs/{job}/customProperties", json=two)
    assert api.ok("GET", f"/jobs/{job}/customProperties", params={"names": "c2"}) == [
        {"Name": "c2", "Value": "v2"}
    ]
    too_long = api.call(
        "POST", f"/jobs/{job}/customProperties", json=[{"Name": "c", "Value": "x" * 1025}]
    )
    assert too_long.status_code == 400
    empty = api.call("POST", f"/jobs/{job}/customProperties", json=[{"Name": " ", "Value": "x"}])
    assert empty.json()["Message"] == "The custom property's name cannot be empty or NULL."


def test_custom_properties_are_not_exported_to_the_task_environment(start_emulator):
    api = Api(start_emulator(executor="local"))
    job = api.create_job()
    api.ok("POST", f"/jobs/{job}/customProperties", json=[{"Name": "SECRET_TAG", "Value": "x"}])
    api.add_task(job, CommandLine='echo "[$SECRET_TAG]"')
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Finished")
    assert api.task(job, 1, "Output") == {"Output": "[]\n"}


def test_bad_bodies_are_refused(emulator):
    api = Api(emulator)
    assert (
        api.call(
            "POST", "/jobs", data="{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert api.call("POST", "/jobs", json={"Name": "x"}).status_code == 400
    assert api.call("POST", "/jobs/jobFile", json=[1]).status_code == 400
    assert api.call("GET", "/jobs/424242").status_code == 404
    assert api.call("GET", "/nodes/NOPE").status_code == 404
    assert api.call("GET", "/nodes/groups/NOPE").status_code == 404


def test_bodies_past_the_size_cap_are_refused(emulator):
    api = Api(emulator)
    reply = api.call("POST", "/jobs/jobFile", json="<Job/>" + " " * (9 * 1024 * 1024))
    assert reply.status_code == 413
