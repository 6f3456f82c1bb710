"""A restart mid-run keeps every job, task, property, custom property, env var and id counter."""

from __future__ import annotations

from tests.emulator.helpers import Api, rows


def test_restart_mid_run_keeps_all_state(start_emulator):
    first = start_emulator()
    api = Api(first)
    kept = api.create_job(Name="kept", Project="p1", Priority="BelowNormal")
    api.ok("POST", f"/jobs/{kept}/customProperties", json=[{"Name": "k", "Value": "v"}])
    api.ok("POST", f"/jobs/{kept}/envVariables", json=[{"Name": "E", "Value": "1"}])
    api.add_task(kept, Name="t", CommandLine="echo", UserBlob="blob")
    api.ok("POST", f"/jobs/{kept}/tasks/1/envVariables", json=[{"Name": "TE", "Value": "2"}])
    api.ok("POST", f"/jobs/{kept}/tasks/1/customProperties", json=[{"Name": "tc", "Value": "3"}])
    running = api.create_job(Name="running")
    api.add_task(running, Name="slow", CommandLine="sleep:1.5")
    api.ok("POST", f"/jobs/{running}/submit")
    api.wait(running, "Running")
    before_job = api.job(kept)
    before_tasks = api.ok("GET", f"/jobs/{kept}/tasks")
    first.stop()

    second = start_emulator(db=first.db, admin_password=first.admin[1])
    api = Api(second)
    assert api.job(kept) == before_job
    assert api.ok("GET", f"/jobs/{kept}/tasks") == before_tasks
    assert api.ok("GET", f"/jobs/{kept}/customProperties") == [{"Name": "k", "Value": "v"}]
    assert api.ok("GET", f"/jobs/{kept}/envVariables") == [{"Name": "E", "Value": "1"}]
    assert api.ok("GET", f"/jobs/{kept}/tasks/1/envVariables") == [{"Name": "TE", "Value": "2"}]
    assert api.ok("GET", f"/jobs/{kept}/tasks/1/customProperties") == [{"Name": "tc", "Value": "3"}]
    assert api.state(running) in ("Running", "Finishing", "Finished")
    assert api.wait(running, "Finished") == "Finished"
    assert api.create_job() == running + 1  # the id counter survived
    listed = rows(api.ok("GET", "/jobs"))
    assert [int(r["Id"]) for r in listed] == [kept, running, running + 1]
