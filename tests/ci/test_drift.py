"""`hpcspec drift`: read-only, reports user-owned changes made outside hpcspec, exit 2."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.hpcpack.errors import RefusedByState
from tests.ci.conftest import MethodCounter, Run, point_at, unique_stack, write_manifest
from tests.engine.conftest import client_for

MANIFEST = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  solve:
    properties: {{Name: Drift check, Priority: Normal, Project: cfd}}
    tasks:
      long: {{commandLine: "sleep:60"}}
"""


def applied(
    cli_env: pytest.MonkeyPatch,
    hpcspec: Callable[..., Run],
    start_emulator: Callable[..., Any],
    tmp_path: Path,
    text: str,
    name: str,
) -> tuple[Any, Path, dict[str, int]]:
    """A fresh emulator with manifest `text` (a stack named after `name`) applied: the
    emulator, the manifest and each key's job id."""
    running = start_emulator()
    point_at(cli_env, running)
    manifest = write_manifest(tmp_path, text.format(stack=unique_stack(name)))
    assert hpcspec("apply", "--auto-approve", str(manifest)).code == 0
    jobs = json.loads(hpcspec("status", "--output", "json", str(manifest)).out)["jobs"]
    return running, manifest, {job["key"]: job["job_id"] for job in jobs}


def set_when_allowed(client: Any, job_id: int, values: dict[str, str]) -> None:
    """PUT once the job has left Validating (the scheduler refuses Priority there)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            client.set_job(job_id, values)
            return
        except RefusedByState:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_drift_reads_only_and_exits_2_after_an_out_of_band_priority_change(
    cli_env: pytest.MonkeyPatch,
    hpcspec: Callable[..., Run],
    start_emulator: Callable[..., Any],
    tmp_path: Path,
) -> None:
    running, manifest, ids = applied(cli_env, hpcspec, start_emulator, tmp_path, MANIFEST, "drift")
    counter = MethodCounter(running.emulator.server.app)
    running.emulator.server.app = counter

    clean = hpcspec("drift", "--detailed-exitcode", str(manifest))
    assert clean.code == 0, clean.err
    assert "No drift" in clean.out

    client = client_for(running)
    try:
        job_id = ids["solve"]
        before = counter.writes
        set_when_allowed(client, job_id, {"Priority": "Highest"})  # as HPC Cluster Manager
        assert counter.writes > before  # the counter does see writes
        counter.methods.clear()

        drifted = hpcspec("drift", "--detailed-exitcode", str(manifest))
        assert drifted.code == 2, drifted.err
        assert "Priority" in drifted.out and "Highest" in drifted.out
        as_json = hpcspec("drift", "--output", "json", str(manifest))
        assert as_json.code == 0  # without --detailed-exitcode drift is not an exit status
        diffs = json.loads(as_json.out)["jobs"][0]["diffs"]
        assert [(d["name"], d["live"], d["manifest"]) for d in diffs] == [
            ("Priority", "Highest", "Normal")
        ]
        assert counter.writes == 0 and counter.methods["GET"] > 0
        ignored = hpcspec(
            "drift", "--detailed-exitcode", "--ignore", "solve.Priority", str(manifest)
        )
        assert ignored.code == 0
    finally:
        client.cancel_job(job_id, "test over")
        client.close()


def test_scheduler_owned_fields_and_a_changed_manifest_are_not_drift(
    cli_env: pytest.MonkeyPatch, hpcspec: Callable[..., Run], tmp_path: Path
) -> None:
    stack = unique_stack("drift-done")
    manifest = write_manifest(
        tmp_path,
        MANIFEST.format(stack=stack).replace("sleep:60", "exit:0"),
    )
    applied = hpcspec("apply", "--auto-approve", "--wait", "--timeout", "30s", str(manifest))
    assert applied.code == 0, applied.err
    # State, times, counters, exit codes all moved since the apply: none of it is drift.
    assert hpcspec("drift", "--detailed-exitcode", str(manifest)).code == 0
    manifest.write_text(manifest.read_text().replace("Project: cfd", "Project: aero"))
    changed = hpcspec("drift", "--detailed-exitcode", str(manifest))
    assert changed.code == 0
    assert "not compared (the manifest changed" in changed.out


CONFIGURING = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  prep:
    state: configuring
    tasks:
      one:
        commandLine: "exit:0"
        env: {{MODE: fast}}
        customProperties: {{owner: cfd}}
      two: {{commandLine: "exit:0"}}
"""


@pytest.mark.parametrize(
    ("change", "field", "live"),
    [
        ("env", "one/env.MODE", "slow"),
        ("custom", "one/customProperties.owner", "aero"),
        ("added env", "two/env.EXTRA", "1"),
    ],
)
def test_a_task_env_or_custom_property_changed_by_hand_is_drift(
    cli_env: pytest.MonkeyPatch,
    hpcspec: Callable[..., Run],
    start_emulator: Callable[..., Any],
    tmp_path: Path,
    change: str,
    field: str,
    live: str,
) -> None:
    """A task's env and custom properties are fields the manifest sets (docs/ci.md): drift
    once said "No drift" after someone changed them on an unsubmitted job."""
    running, manifest, ids = applied(
        cli_env, hpcspec, start_emulator, tmp_path, CONFIGURING, "drift-task"
    )
    assert hpcspec("drift", "--detailed-exitcode", str(manifest)).code == 0
    (job_id,) = ids.values()
    client = client_for(running)
    try:
        tasks = client.task_ids(job_id)
        if change == "env":
            client.set_task_env(job_id, tasks["one"], {"MODE": "slow"})
        elif change == "custom":
            client.set_task_custom_properties(job_id, tasks["one"], {"owner": "aero"})
        else:
            client.set_task_env(job_id, tasks["two"], {"EXTRA": "1"})
    finally:
        client.close()

    drifted = hpcspec("drift", "--detailed-exitcode", str(manifest))
    assert drifted.code == 2, drifted.out + drifted.err
    diffs = json.loads(hpcspec("drift", "--output", "json", str(manifest)).out)["jobs"][0]["diffs"]
    assert [(d["name"], d["live"]) for d in diffs] == [(field, live)]


def test_a_task_added_by_hand_under_a_manifest_task_name_is_drift(
    cli_env: pytest.MonkeyPatch,
    hpcspec: Callable[..., Run],
    start_emulator: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """Task names need not be unique in HPC Pack: a second `one` runs the command twice."""
    running, manifest, ids = applied(
        cli_env, hpcspec, start_emulator, tmp_path, CONFIGURING, "drift-twice"
    )
    (job_id,) = ids.values()
    client = client_for(running)
    try:
        client.add_task(job_id, {"Name": "one", "CommandLine": "exit:0"})
    finally:
        client.close()

    drifted = hpcspec("drift", "--detailed-exitcode", str(manifest))
    assert drifted.code == 2, drifted.out + drifted.err
    assert 'tasks.one#2: live "exit:0", manifest absent' in drifted.out


PARENTS = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  mesh:
    state: configuring
    tasks:
      t: {{commandLine: "exit:0"}}
  solve:
    state: configuring
    dependsOn: [mesh]
    tasks:
      t: {{commandLine: "exit:0"}}
"""


@pytest.mark.parametrize(
    ("parents", "live"),
    [("", None), ("1", "job 1"), ("{mesh},1", "job 1, mesh")],
    ids=["removed", "another", "one-more"],
)
def test_a_job_dependency_changed_by_hand_is_drift(
    cli_env: pytest.MonkeyPatch,
    hpcspec: Callable[..., Run],
    start_emulator: Callable[..., Any],
    tmp_path: Path,
    parents: str,
    live: str | None,
) -> None:
    """`dependsOn` is the child's ParentJobIds, which Set Job Properties may change
    (msdocs/schedulerwebservice--setjobproperties.md): drift once said "No drift" after an
    admin removed it, and the child would start without waiting for its parent."""
    running, manifest, ids = applied(
        cli_env, hpcspec, start_emulator, tmp_path, PARENTS, "drift-parents"
    )
    assert 1 not in ids.values()  # job 1 is no job of the stack (the apply's lock job)
    client = client_for(running)
    try:
        client.set_job(ids["solve"], {"ParentJobIds": parents.format(mesh=ids["mesh"])})
    finally:
        client.close()

    drifted = hpcspec("drift", "--detailed-exitcode", str(manifest))
    assert drifted.code == 2, drifted.out + drifted.err
    diffs = json.loads(hpcspec("drift", "--output", "json", str(manifest)).out)["jobs"]
    found = [(d["name"], d["live"], d["manifest"]) for j in diffs for d in j["diffs"]]
    assert found == [("dependsOn", live, "mesh")]


ADOPTED = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  legacy:
    properties: {{Name: legacy, Priority: Normal}}
    tasks:
      t: {{commandLine: "sleep:60"}}
"""


@pytest.mark.parametrize("stamped", [True, False], ids=["hpcspec-adopt", "adopt-block-only"])
def test_an_adopted_job_is_compared_and_its_drift_found(
    cli_env: pytest.MonkeyPatch,
    hpcspec: Callable[..., Run],
    start_emulator: Callable[..., Any],
    tmp_path: Path,
    stamped: bool,
) -> None:
    """A job the manifest adopts (`adopt:`) is the key's live job for plan and status; drift
    once said "not compared (no live job)" and exited 0 while its Priority had drifted."""
    running = start_emulator()
    point_at(cli_env, running)
    client = client_for(running)
    try:
        job_id = client.create_job({"Name": "legacy", "Priority": "Normal"})
        client.add_task(job_id, {"Name": "t", "CommandLine": "sleep:60"})
        client.submit_job(job_id)
        manifest = write_manifest(tmp_path, ADOPTED.format(stack=unique_stack("drift-adopt")))
        if stamped:
            assert hpcspec("adopt", str(manifest), f"legacy={job_id}").code == 0
        else:
            manifest.write_text(manifest.read_text() + f"adopt:\n  legacy: {job_id}\n")
        clean = hpcspec("drift", "--detailed-exitcode", str(manifest))
        assert clean.code == 0 and "not compared" not in clean.out, clean.out

        set_when_allowed(client, job_id, {"Priority": "Highest"})
        drifted = hpcspec("drift", "--detailed-exitcode", str(manifest))
        assert drifted.code == 2, drifted.out + drifted.err
        assert f"legacy (job {job_id}, " in drifted.out and "Priority" in drifted.out
    finally:
        client.cancel_job(job_id, "test over")
        client.close()


def test_a_moved_key_keeps_its_default_name_without_drift(
    cli_env: pytest.MonkeyPatch,
    hpcspec: Callable[..., Run],
    start_emulator: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """A job whose manifest sets no Name is named after its key at creation, and that default
    is never compared "neither as a change nor as drift" (docs/apply.md): after a `moved:`,
    drift reported `Name: live "a", manifest "b"` on every run, which no apply could clear."""
    running = start_emulator()
    point_at(cli_env, running)
    stack = unique_stack("drift-moved")
    body = "    properties: {Priority: Normal}\n    tasks:\n      t: {commandLine: 'sleep:60'}\n"
    before = f"apiVersion: hpcspec/v1\nstack: {stack}\njobs:\n  a:\n" + body
    manifest = write_manifest(tmp_path, before)
    assert hpcspec("apply", "--auto-approve", str(manifest)).code == 0
    deadline = time.monotonic() + 10  # a key is recorded on a Queued or Running job
    while json.loads(hpcspec("status", "-o", "json", str(manifest)).out)["jobs"][0][
        "state"
    ] not in (
        "Queued",
        "Running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    manifest.write_text(before.replace("  a:\n", "  b:\n") + "moved:\n  a: b\n")
    moved = hpcspec("apply", "--auto-approve", str(manifest))
    assert moved.code == 0, moved.out + moved.err
    assert hpcspec("plan", "--detailed-exitcode", str(manifest)).code == 0

    clean = hpcspec("drift", "--detailed-exitcode", str(manifest))
    assert clean.code == 0 and "Name" not in clean.out, clean.out
    assert "not compared" not in clean.out
    assert hpcspec("destroy", "--auto-approve", str(manifest)).code == 0
