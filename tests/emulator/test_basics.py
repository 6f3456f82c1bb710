"""Smoke behaviour of the emulator over real HTTP: ids, shapes, auth, run to completion."""

from __future__ import annotations

import time

import requests


def wait_state(emulator, job_id: int, states: set[str], timeout: float = 10.0) -> str:
    deadline = time.time() + timeout
    state = ""
    while time.time() < deadline:
        reply = requests.get(
            f"{emulator.url}/jobs/{job_id}", params={"properties": "State"}, auth=emulator.admin
        )
        state = reply.json()[0]["Value"]
        if state in states:
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} stayed {state}, wanted {states}")


def test_create_returns_a_bare_integer_id_and_the_job_reads_back(emulator):
    reply = requests.post(
        f"{emulator.url}/jobs", json=[{"Name": "Name", "Value": "smoke"}], auth=emulator.user
    )
    assert reply.status_code == 200
    job_id = reply.json()
    assert isinstance(job_id, int)
    props = requests.get(f"{emulator.url}/jobs/{job_id}", auth=emulator.user).json()
    values = {p["Name"]: p["Value"] for p in props}
    assert values["Name"] == "smoke"
    assert values["State"] == "Configuring"
    assert values["Owner"] == "HPC\\alice"
    assert all(isinstance(p["Value"], str) for p in props)


def test_a_submitted_job_runs_its_task_to_finished(emulator):
    job_id = requests.post(f"{emulator.url}/jobs", json=[], auth=emulator.user).json()
    requests.post(
        f"{emulator.url}/jobs/{job_id}/tasks",
        json=[{"Name": "CommandLine", "Value": "echo hello"}],
        auth=emulator.user,
    ).raise_for_status()
    assert (
        requests.post(f"{emulator.url}/jobs/{job_id}/submit", auth=emulator.user).status_code == 204
    )
    assert wait_state(emulator, job_id, {"Finished", "Failed"}) == "Finished"


def test_requests_without_credentials_are_refused(emulator):
    assert requests.get(f"{emulator.url}/jobs").status_code == 401
    assert requests.get(f"{emulator.url}/jobs", auth=("HPC\\admin", "wrong")).status_code == 401
