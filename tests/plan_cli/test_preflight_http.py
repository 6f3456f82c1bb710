"""Preflight over HTTP: node groups, job templates and requested nodes that the cluster does
not have are refused changes in the plan (`!` with the name), and apply never creates them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.status import stack_status
from tests.conftest import Runner
from tests.engine.conftest import client_for
from tests.plan_cli.conftest import job, use_cluster, write_manifest

GOOD = (
    job(
        "known",
        extra="    properties: {NodeGroups: gpu, JobTemplate: big, RequestedNodes: cn001}\n",
    )
    + "  task-known:\n    tasks:\n"
    + "      t: {commandLine: 'echo',\n"
    + "          properties: {RequestedNodeGroup: GPU, RequiredNodes: CN002}}\n"
)
BAD = (
    job("group", extra="    properties: {NodeGroups: 'GPU,Quantum'}\n")
    + job("template", extra="    properties: {JobTemplate: Huge}\n")
    + job("node", extra="    properties: {RequestedNodes: 'CN001,CN099'}\n")
    + "  task-bad:\n    tasks:\n"
    + "      t: {commandLine: 'echo',\n"
    + "          properties: {RequestedNodeGroup: Nowhere, RequiredNodes: Ghost}}\n"
)


@pytest.fixture
def private(
    start_emulator: Callable[..., Any], cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    running = start_emulator(groups=(("GPU", ("CN001",)),), templates=("Default", "Big"))
    use_cluster(monkeypatch, running)
    return running


def test_existing_names_pass_preflight(private: Any, cli_env: Path, run_cli: Runner) -> None:
    manifest = write_manifest(cli_env, "pre-good", GOOD)
    code, out, err = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 2 and "refused" not in out + err, out + err  # names match in any case
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0


def test_missing_names_are_refused_and_never_created(
    private: Any, cli_env: Path, run_cli: Runner
) -> None:
    manifest = write_manifest(cli_env, "pre-bad", BAD + job("fine"))
    code, out, err = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 2  # changes (refused ones included): CI must look
    refused = [line.strip() for line in out.splitlines() if line.strip().startswith("! refused:")]
    assert "! refused: node group 'Quantum' does not exist on the cluster" in "\n".join(refused)
    for expected in (
        "job template 'Huge'",
        "node 'CN099'",
        "node group 'Nowhere'",
        "node 'Ghost'",
    ):
        assert any(expected in line for line in refused), (expected, refused)
    assert not any("'GPU'" in line or "'CN001'" in line for line in refused)
    assert "some changes are refused" in err

    code, out, _ = run_cli("plan", str(manifest), "--output", "json")
    blocked = {c["key"]: [b["code"] for b in c["blocks"]] for c in json.loads(out)["changes"]}
    assert blocked == {
        "group": ["missing-on-cluster"],
        "template": ["missing-on-cluster"],
        "node": ["missing-on-cluster"],
        "task-bad": ["missing-on-cluster", "missing-on-cluster"],
        "fine": [],
    }

    code, out, _ = run_cli("apply", str(manifest), "--auto-approve")
    assert code == 3, out  # partial: the good job was created, the refused ones were not
    assert "1 done" in out and "4 refused" in out
    client = client_for(private)
    try:
        keys = ["group", "template", "node", "task-bad", "fine"]
        created = {s.key for s in stack_status(client, "pre-bad", keys) if s.job_id is not None}
        rows = client.iter_jobs(properties=["Name"])
        names = {row["Name"] for row in rows if ":lock:" not in row["Name"]}  # apply's lock
    finally:
        client.close()
    assert created == {"fine"}
    assert names == {"fine"}


def test_a_name_gone_from_the_cluster_refuses_only_what_would_act_on_it(
    start_emulator: Callable[..., Any],
    cli_env: Path,
    run_cli: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = start_emulator(groups=(("GPU", ("CN001",)),))
    use_cluster(monkeypatch, first)
    manifest = write_manifest(
        cli_env,
        "pre-gone",
        job("ended", extra="    properties: {NodeGroups: GPU}\n")
        + job("held", extra="    state: configuring\n    properties: {NodeGroups: GPU}\n"),
    )
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    client = client_for(first)
    try:
        deadline = time.monotonic() + 20
        while stack_status(client, "pre-gone", ["ended"])[0].state != "Finished":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        client.close()
    first.stop()
    # the same cluster after an administrator removed the GPU group
    again = start_emulator(
        db=first.db, admin_password=first.admin[1], user_password=first.user[1], groups=()
    )
    use_cluster(monkeypatch, again)
    # nothing would act on the group: no refusal, no changes
    code, out, err = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and "refused" not in out + err, out + err
    # submitting `held` would fail on the missing group: that change (only) is refused
    write_manifest(
        cli_env,
        "pre-gone",
        job("ended", extra="    properties: {NodeGroups: GPU}\n")
        + job("held", extra="    properties: {NodeGroups: GPU}\n"),
    )
    code, out, _ = run_cli("plan", str(manifest), "--output", "json")
    changes = {c["key"]: c for c in json.loads(out)["changes"]}
    assert (changes["ended"]["action"], changes["ended"]["blocks"]) == ("no-op", [])
    assert changes["held"]["action"] == "submit"
    assert [b["message"] for b in changes["held"]["blocks"]] == [
        "node group 'GPU' does not exist on the cluster"
    ]
