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


_OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE jobs (id INTEGER PRIMARY KEY, owner TEXT NOT NULL COLLATE NOCASE,
    state TEXT NOT NULL, change_time REAL NOT NULL, props TEXT NOT NULL, custom TEXT NOT NULL,
    env TEXT NOT NULL);
CREATE INDEX jobs_state ON jobs (state);
CREATE TABLE tasks (job_id INTEGER NOT NULL, task_id INTEGER NOT NULL,
    instance_id INTEGER NOT NULL, state TEXT NOT NULL, props TEXT NOT NULL, custom TEXT NOT NULL,
    env TEXT NOT NULL, PRIMARY KEY (job_id, task_id, instance_id));
"""


def test_a_file_from_the_previous_emulator_is_upgraded_with_its_counts(tmp_path):
    import json
    import sqlite3

    from hpcspec.emulator import state_machine
    from hpcspec.emulator.store import Store

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(_OLD_SCHEMA)
    job = state_machine.new_job(1, "HPC\\alice", 0.0)
    conn.execute(
        "INSERT INTO jobs VALUES (1, 'HPC\\alice', 'Running', 0, ?, '{}', '{}')",
        (json.dumps(job.props),),
    )
    task_rows = [  # a basic task, a sweep master and its two subtasks
        (1, 1, 0, "Finished", {"Type": "Basic"}),
        (1, 2, 0, "Running", {"Type": "ParametricSweep"}),
        (1, 2, 1, "Finished", {"Type": "ParametricSweep"}),
        (1, 2, 2, "Running", {"Type": "ParametricSweep"}),
    ]
    for job_id, task_id, instance, state, props in task_rows:
        conn.execute(
            "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, '{}', '{}')",
            (job_id, task_id, instance, state, json.dumps({**props, "State": state})),
        )
    conn.commit()
    conn.close()

    store = Store(db)
    assert store.task_state_counts(1) == {"Finished": 2, "Running": 1}
    master = store.task(1, 2, 0)
    assert master is not None and master.is_master
    master.props["State"] = "Finished"
    store.save_task(master)  # a master's own state is not counted while it has subtasks
    sub = store.task(1, 2, 2)
    assert sub is not None
    sub.props["State"] = "Failed"
    store.save_task(sub)
    assert store.task_state_counts(1) == {"Finished": 2, "Failed": 1}
    store.close()
