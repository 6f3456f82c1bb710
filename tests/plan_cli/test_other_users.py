"""Stacks of other users over HTTP: a stack applied for a plain user (by an administrator with
`x-ms-as-user`, or by the user) is found when that user plans; other users' jobs whose
ClientSource is not this stack's marker never match, and `--prune` never touches them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import state_machine
from hpcspec.emulator.store import Store
from hpcspec.engine.identity import client_source_marker, key_hash, stack_hash
from tests.conftest import Runner
from tests.engine.conftest import client_for
from tests.plan_cli.conftest import job, use_cluster, write_manifest

STACK = "users-stack"


def foreign_sources() -> list[str]:
    ours = stack_hash(STACK) + key_hash(STACK, "j")
    return [
        "HPC Cluster Manager",
        "",
        client_source_marker("users-other", "j", "0123456789abcdef"),  # another stack, same key
        client_source_marker(STACK + "-x", "j", "0123456789abcdef"),
        f"HPCSPEC:{ours}:0123456789abcdef",  # not our prefix
        f"hpcspec:{ours}",  # no digest
        f"hpcspec:{ours}:d:extra",  # too many parts
        f"hpcspec:{ours[:15]}:d",  # short hash
        f"x hpcspec:{ours}:d",
    ]


def seed_foreign_jobs(db: Path) -> dict[int, str]:
    """Jobs of HPC\\bob with foreign ClientSource values (Configuring ones could be pruned)."""
    store = Store(db)
    now = time.time()
    jobs = []
    for job_id, source in enumerate(foreign_sources(), start=1):
        row = state_machine.new_job(job_id, "HPC\\bob", now)
        row.props.update(
            Name="j", ClientSource=source, State=("Configuring", "Canceled")[job_id % 2]
        )
        jobs.append(row)
    store.insert_jobs(jobs)
    store.close()
    return {row.id: row.props["State"] for row in jobs}


@pytest.fixture
def seeded(
    start_emulator: Callable[..., Any], cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, dict[int, str]]:
    db = cli_env / "seeded.db"
    states = seed_foreign_jobs(db)
    running = start_emulator(db=db)
    use_cluster(monkeypatch, running)
    return running, states


def live_jobs(running: Any) -> dict[int, tuple[str, str, str]]:
    client = client_for(running)
    try:
        rows = client.iter_jobs(properties=["Id", "Owner", "State", "Name"])
        # apply's stack lock jobs (never submitted, cancelled when done) are not jobs of a key
        rows = [r for r in rows if ":lock:" not in (r["Name"] or "")]
        return {int(r["Id"]): (r["Owner"], r["State"], r["Name"]) for r in rows}
    finally:
        client.close()


def test_a_stack_applied_for_a_user_is_theirs_and_foreign_jobs_never_match(
    seeded: tuple[Any, dict[int, str]],
    cli_env: Path,
    run_cli: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, foreign = seeded
    manifest = write_manifest(cli_env, STACK, job("j", extra="    state: configuring\n"))

    # Before anything is applied, none of bob's jobs counts as j's live job.
    code, out, _ = run_cli("plan", str(manifest), "--prune", "--output", "json")
    assert [(c["key"], c["action"], c["live_id"]) for c in json.loads(out)["changes"]] == [
        ("j", "create", None)
    ]

    # An administrator applies it on alice's behalf (x-ms-as-user).
    code, out, err = run_cli("apply", str(manifest), "--auto-approve", "--as-user", "HPC\\alice")
    assert code == 0, out + err
    ours = {i: v for i, v in live_jobs(running).items() if i not in foreign}
    assert [owner for owner, _, _ in ours.values()] == ["HPC\\alice"]
    (job_id,) = ours

    # alice, with her own credentials, sees her job: nothing to do, nothing to prune.
    use_cluster(monkeypatch, running, user=running.user)
    code, out, _ = run_cli("plan", str(manifest), "--prune", "--detailed-exitcode")
    assert code == 0, out
    code, out, _ = run_cli("plan", str(manifest), "--prune", "--output", "json")
    changes = json.loads(out)["changes"]
    assert [(c["key"], c["action"], c["live_id"]) for c in changes] == [("j", "no-op", job_id)]

    # the administrator (without --as-user) sees the same job
    use_cluster(monkeypatch, running)
    assert run_cli("plan", str(manifest), "--prune", "--detailed-exitcode")[0] == 0
    # apply --prune changes nothing of bob's
    assert run_cli("apply", str(manifest), "--auto-approve", "--prune")[0] == 0
    after = live_jobs(running)
    assert {i: after[i][1] for i in foreign} == foreign
    assert all(after[i][0] == "HPC\\bob" for i in foreign)


def test_a_stack_applied_by_a_plain_user_is_found_by_an_administrator(
    seeded: tuple[Any, dict[int, str]],
    cli_env: Path,
    run_cli: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, foreign = seeded
    manifest = write_manifest(cli_env, STACK, job("j", extra="    state: configuring\n"))
    use_cluster(monkeypatch, running, user=running.user)
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert run_cli("plan", str(manifest), "--detailed-exitcode")[0] == 0
    use_cluster(monkeypatch, running)
    code, out, _ = run_cli("plan", str(manifest), "--prune", "--output", "json")
    assert code == 0
    (change,) = json.loads(out)["changes"]
    assert change["action"] == "no-op" and change["live_id"] not in foreign
    assert live_jobs(running)[change["live_id"]][0] == "HPC\\alice"
