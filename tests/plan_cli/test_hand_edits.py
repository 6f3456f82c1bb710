"""A Configuring job edited by hand is planned, never submitted silently (red team f3/f4).

apply submits a Configuring job as it is, so the plan reads it whole (`discovery.read_whole`)
and compares it with the manifest as `hpcspec drift` does (`drift.hand_edits`); a saved plan
records what it saw (`live_content`), and apply refuses it as stale when a task changed —
editing a task does not move the job's ChangeTime. Hand edits go through the REST client, as
an admin's `job modify` / `task modify` would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpcspec.errors import ExitCode
from hpcspec.hpcpack.definition import TaskDefinition
from tests.conftest import Runner
from tests.engine.conftest import client_for
from tests.plan_cli.conftest import write_manifest
from tests.plan_cli.test_lifecycle import MATCHES, live_ids


def _configuring(cli_env: Path, stack: str, *, state: str = "    state: configuring\n") -> Path:
    tasks = "    tasks:\n      t1: {commandLine: 'echo good'}\n"
    body = f"  a:\n{state}    env: {{MODE: fast}}\n" + tasks
    return write_manifest(cli_env, stack, body)


def _applied(cli_env: Path, run_cli: Runner, cluster: Any, stack: str) -> tuple[Path, int]:
    manifest = _configuring(cli_env, stack)
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, stack, ["a"])["a"]
    assert job_id is not None
    return manifest, job_id


def _tasks(cluster: Any, job_id: int) -> list[tuple[str, str]]:
    client = client_for(cluster)
    try:
        whole = client.read_whole_job(job_id).definition
    finally:
        client.close()
    assert whole is not None
    return [(t.name, t.command_line) for t in whole.tasks]


def test_plan_shows_a_configuring_jobs_hand_edited_task_and_env_and_apply_restores_them(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Before: "No changes", exit 0, while `drift` listed the edits (red team f3)."""
    manifest, job_id = _applied(cli_env, run_cli, cluster, "edited-cfg")
    client = client_for(cluster)
    try:
        client.set_task(job_id, 1, {"CommandLine": "rm -rf /data"})
        client.set_job_env(job_id, {"MODE": "slow", "EXTRA": "1"})
        client.set_task_env(job_id, 1, {"SNEAKY": "yes"})
    finally:
        client.close()

    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES, text
    assert MATCHES not in text
    assert "edited on the cluster since the last apply" in text, text
    for shown in ("rm -rf /data", "EXTRA", "MODE", "SNEAKY"):
        assert shown in text, text
    assert run_cli("drift", str(manifest), "--detailed-exitcode")[0] == ExitCode.CHANGES

    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert live_ids(cluster, "edited-cfg", ["a"])["a"] == job_id  # updated in place
    assert _tasks(cluster, job_id) == [("t1", "echo good")]
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in text, text
    assert run_cli("drift", str(manifest), "--detailed-exitcode")[0] == 0


def test_a_task_added_by_hand_replaces_the_job_instead_of_being_submitted(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Before: the plan said "submit" and apply ran the extra task (red team f3)."""
    _, job_id = _applied(cli_env, run_cli, cluster, "added-task")
    client = client_for(cluster)
    try:
        client.add_task(job_id, TaskDefinition("t1", "evil"))
    finally:
        client.close()
    manifest = _configuring(cli_env, "added-task", state="")  # state: submitted now

    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES, text
    assert "replace" in text and "submit (job" not in text, text
    assert "evil" in text, text
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    new = live_ids(cluster, "added-task", ["a"])["a"]
    assert new not in (None, job_id)
    assert new is not None and _tasks(cluster, new) == [("t1", "echo good")]
    client = client_for(cluster)
    try:
        assert client.job_state(job_id).name == "Canceled"
    finally:
        client.close()
    run_cli("destroy", str(manifest), "--auto-approve")


def test_a_saved_plan_is_stale_when_a_task_of_its_configuring_job_was_edited_after_it(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Before: a task edit does not move the job's ChangeTime, so `apply plan.json` submitted
    "echo TAMPERED" (red team f4)."""
    _, job_id = _applied(cli_env, run_cli, cluster, "saved-cfg")
    manifest = _configuring(cli_env, "saved-cfg", state="")
    code, out, err = run_cli("plan", str(manifest), "--out", "plan.json")
    assert code == 0, out + err
    assert "submit" in out, out
    client = client_for(cluster)
    try:
        client.set_task(job_id, 1, {"CommandLine": "echo TAMPERED"})
    finally:
        client.close()

    code, out, err = run_cli("apply", "plan.json", "--auto-approve")
    assert code == ExitCode.STALE_PLAN, out + err
    assert f"job {job_id} was edited after the plan" in out + err
    client = client_for(cluster)
    try:
        assert client.job_state(job_id).name == "Configuring"  # never submitted
    finally:
        client.close()


def test_a_changed_task_env_of_a_configuring_job_is_planned_and_applied(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """A manifest change to a task's env: the plan showed only the digest and the update
    left the task's env as it was (it did not read it back)."""
    task = "      t1:\n        commandLine: 'echo good'\n        env: {{LEVEL: '{}'}}\n"
    entry = "  a:\n    state: configuring\n    tasks:\n" + task
    manifest = write_manifest(cli_env, "task-env", entry.format(1))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    write_manifest(cli_env, "task-env", entry.format(2))
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES and 'tasks.t1.env.LEVEL: "1" → "2"' in text, text
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert run_cli("drift", str(manifest), "--detailed-exitcode")[0] == 0


def test_a_custom_property_edited_on_a_queued_job_is_drift_not_a_plan_change(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """The documented choice (docs/apply.md, "What plan does not read on a submitted job"):
    plan judges a submitted job by its digest and the listing; `drift` reads it whole."""
    from datetime import UTC, datetime, timedelta

    from tests.plan_cli.test_lifecycle import wait_state

    hold = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = (
        f"  a:\n    properties: {{HoldUntil: {hold}}}\n    customProperties: {{team: cfd}}\n"
        "    tasks:\n      t: {commandLine: 'echo hi'}\n"
    )
    manifest = write_manifest(cli_env, "custom-queued", body)
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "custom-queued", ["a"])["a"]
    assert job_id is not None
    wait_state(cluster, job_id, "Queued")
    client = client_for(cluster)
    try:
        client.set_job_custom_properties(job_id, {"team": "other"})
    finally:
        client.close()
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in text, text
    code, text, _ = run_cli("drift", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES and 'team: live "other", manifest "cfd"' in text, text
    run_cli("destroy", str(manifest), "--auto-approve")


def test_an_edit_made_while_apply_waits_for_confirmation_is_refused_not_submitted(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """The plan read the job whole, then the user took their time to say yes: the job is read
    whole again before apply submits it (`StepRunner.unchanged_since_plan`)."""
    from collections.abc import Sequence

    from hpcspec.engine.events import Recorder
    from hpcspec.engine.outcomes import Outcome
    from hpcspec.engine.pipeline import ApplyRequest, apply_stacks
    from hpcspec.engine.plan import Action, Plan
    from hpcspec.manifest import parse_manifest, resolve

    _, job_id = _applied(cli_env, run_cli, cluster, "slow-yes")
    manifest = _configuring(cli_env, "slow-yes", state="")
    stack = resolve(parse_manifest(manifest.read_text(encoding="utf-8"), file="m.yaml"))
    client = client_for(cluster)

    def yes_after_an_edit(plans: Sequence[Plan]) -> bool:
        assert [c.action for c in plans[0].changes] == [Action.SUBMIT]
        client.set_task(job_id, 1, {"CommandLine": "echo TAMPERED"})
        return True

    try:
        request = ApplyRequest(cluster_name="emulator", journal_root=cli_env)
        report = apply_stacks(
            client, [stack], request, observer=Recorder(), confirm=yes_after_an_edit
        )
        (result,) = report.results[0].results
        assert result.outcome is Outcome.FAILED, result
        assert f"job {job_id} (a) was edited after the plan" in result.message, result
        assert client.job_state(job_id).name == "Configuring"  # never submitted
    finally:
        client.close()
