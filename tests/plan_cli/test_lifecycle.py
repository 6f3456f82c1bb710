"""Never a false green (issue 14), end to end over HTTP against the emulator: a saved plan is
bound to its cluster, a destroyed key comes back, a job cancelled outside hpcspec and drift in
a managed field are reported (never "the cluster matches"), and `ignoreChanges` leaves fields
to the cluster's admins."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.status import stack_status
from hpcspec.errors import ExitCode
from hpcspec.hpcpack.profile import ClusterProfile
from tests.conftest import Runner
from tests.engine.conftest import client_for
from tests.plan_cli.conftest import job, write_manifest

MATCHES = "No changes: the cluster matches the manifest."


def live_ids(running: Any, stack: str, keys: list[str]) -> dict[str, int | None]:
    client = client_for(running)
    try:
        return {s.key: s.job_id for s in stack_status(client, stack, keys)}
    finally:
        client.close()


def wait_state(running: Any, job_id: int, *states: str) -> None:
    client = client_for(running)
    try:
        deadline = time.monotonic() + 20
        while (state := client.job_properties(job_id, ["State"]).text("State")) not in states:
            assert time.monotonic() < deadline, state
            time.sleep(0.05)
    finally:
        client.close()


@pytest.fixture(scope="module")
def other_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.emulator_fixture import _start

    running = _start(tmp_path_factory.mktemp("other"), nodes=1, cores_per_node=2)
    yield running
    running.stop()


@pytest.mark.slow
def test_a_saved_plan_is_refused_on_another_cluster_before_any_change(
    cli_env: Path,
    run_cli: Runner,
    cluster: Any,
    other_cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding 1: `plan --out` against A, then `apply` with HPCSPEC_CLUSTER=B."""
    manifest = write_manifest(cli_env, "bound", job("a"))
    code, _, _ = run_cli("plan", str(manifest), "--out", "p.json")
    assert code == 0
    monkeypatch.setenv("HPCSPEC_CLUSTER", other_cluster.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", other_cluster.admin[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", other_cluster.admin[1])
    code, _, err = run_cli("apply", "p.json")
    assert code == 7, err  # ExitCode.WRONG_CLUSTER
    assert "[plan-other-cluster]" in err and cluster.url in err and other_cluster.url in err
    assert live_ids(other_cluster, "bound", ["a"]) == {"a": None}  # nothing created on B
    monkeypatch.setenv("HPCSPEC_CLUSTER", cluster.url)
    monkeypatch.setenv("HPCSPEC_USERNAME", cluster.admin[0])
    monkeypatch.setenv("HPCSPEC_PASSWORD", cluster.admin[1])
    code, _, err = run_cli("apply", "p.json")
    assert code == 0, err
    assert live_ids(cluster, "bound", ["a"])["a"] is not None


def test_a_saved_plan_that_records_no_cluster_is_refused(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    import json

    manifest = write_manifest(cli_env, "unbound", job("a"))
    assert run_cli("plan", str(manifest), "--out", "p.json")[0] == 0
    document = json.loads(Path("p.json").read_text(encoding="utf-8"))
    del document["extra"]["cluster"]
    Path("p.json").write_text(json.dumps(document), encoding="utf-8")
    code, _, err = run_cli("apply", "p.json")
    assert code == 7 and "[plan-cluster-unknown]" in err
    assert live_ids(cluster, "unbound", ["a"]) == {"a": None}


@pytest.mark.slow
def test_a_destroyed_key_is_planned_and_applied_again(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Finding 3: after `destroy`, plan said "No changes" and apply never brought it back."""
    manifest = write_manifest(cli_env, "undo", job("a", "sleep:60"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    first = live_ids(cluster, "undo", ["a"])["a"]
    assert first is not None
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0
    wait_state(cluster, first, "Canceled")

    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES, text
    assert "  + a: create" in text
    assert f"job {first} was destroyed by hpcspec destroy at 20" in text
    assert MATCHES not in text

    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    second = live_ids(cluster, "undo", ["a"])["a"]
    assert second not in (None, first)
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in text
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_a_job_canceled_outside_hpcspec_is_reported_with_the_command_that_reruns_it(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    manifest = write_manifest(cli_env, "outside", job("a", "sleep:60"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "outside", ["a"])["a"]
    assert job_id is not None
    client = client_for(cluster)
    try:
        client.cancel_job(job_id, "maintenance window")
    finally:
        client.close()
    wait_state(cluster, job_id, "Canceled")

    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert MATCHES not in text
    assert "1 canceled outside hpcspec" in text.splitlines()[0]
    assert f"job {job_id} was canceled outside hpcspec" in text and "--rerun a" in text
    assert code == ExitCode.ERROR  # needs a person: never a green check

    assert run_cli("apply", str(manifest), "--auto-approve", "--rerun", "a")[0] == 0
    assert live_ids(cluster, "outside", ["a"])["a"] not in (None, job_id)
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_a_rerun_of_the_same_spec_is_the_keys_job_while_it_runs(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: after `apply --rerun a`, status and --wait followed the old Finished
    job of the same spec, plan called the new run a duplicate, and the next apply cancelled
    it as an extra job."""
    manifest = write_manifest(cli_env, "rerun-same", job("a", "sleep:60"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    first = live_ids(cluster, "rerun-same", ["a"])["a"]
    assert first is not None
    wait_state(cluster, first, "Queued", "Running")
    client = client_for(cluster)
    try:
        client.finish_job(first, "done early")
    finally:
        client.close()
    wait_state(cluster, first, "Finished")
    code, out, err = run_cli("apply", str(manifest), "--auto-approve", "--rerun", "a")
    assert code == 0, out + err
    rerun = live_ids(cluster, "rerun-same", ["a"])["a"]
    assert rerun not in (None, first)
    code, out, _ = run_cli("status", str(manifest), "-o", "json")
    assert f'"job_id": {rerun}' in out, out
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and "duplicate" not in text, text
    code, out, err = run_cli("apply", str(manifest), "--auto-approve")
    assert code == 0 and "extra job" not in out + err, out + err
    assert live_ids(cluster, "rerun-same", ["a"])["a"] == rerun
    client = client_for(cluster)
    try:
        assert client.job_state(rerun).is_alive
    finally:
        client.close()
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_drift_in_a_managed_field_is_an_update_that_apply_restores(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Finding 3: plan said "No changes" while drift showed a hand-changed Priority."""
    body = "    properties: {Priority: Normal}\n"
    manifest = write_manifest(cli_env, "drifty", job("a", "sleep:60", body))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "drifty", ["a"])["a"]
    assert job_id is not None
    wait_state(cluster, job_id, "Queued", "Running")
    client = client_for(cluster)
    try:
        client.set_job(job_id, {"Priority": "Highest"})
    finally:
        client.close()

    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES, text
    assert "  ~ a: update" in text and "drift: Priority Highest → Normal" in text
    assert MATCHES not in text
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in text
    assert live_ids(cluster, "drifty", ["a"])["a"] == job_id  # restored in place

    ignoring = "    ignoreChanges: [Priority]\n" + body
    write_manifest(cli_env, "drifty", job("a", "sleep:60", ignoring))
    client = client_for(cluster)
    try:
        client.set_job(job_id, {"Priority": "Lowest"})
    finally:
        client.close()
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert "drift:" not in text and "Lowest" not in text
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
@pytest.mark.parametrize("held", [True, False], ids=["queued", "running"])
def test_moved_renames_a_key_without_touching_its_job(
    cli_env: Path, run_cli: Runner, cluster: Any, held: bool
) -> None:
    """The job keeps its id, its queue position and its Name. A Queued job's Name can only
    change by reconfiguring it (derived/job-modify-rules.json), so when the Name was only the
    key's default, the move must not replace the job; a held job (HoldUntil) stays Queued."""
    stack = f"renamed-{'queued' if held else 'running'}"
    hold = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    extra = f"    properties: {{HoldUntil: {hold}}}\n" if held else ""
    manifest = write_manifest(cli_env, stack, job("old", "sleep:60", extra))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, stack, ["old"])["old"]
    assert job_id is not None
    wait_state(cluster, job_id, *(["Queued"] if held else ["Running"]))
    moved = write_manifest(cli_env, stack, job("new", "sleep:60", extra))
    moved.write_text(moved.read_text(encoding="utf-8") + "moved: {old: new}\n", encoding="utf-8")

    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES, text
    assert "1 moved" in text.splitlines()[0], text
    assert "create" not in text and "replace" not in text, text
    assert f"moved from old: job {job_id} becomes this key's job, untouched" in text
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert live_ids(cluster, stack, ["new"])["new"] == job_id, text
    client = client_for(cluster)
    try:
        assert client.job_properties(job_id, ["Name"]).text("Name") == "old"
    finally:
        client.close()
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in text, text

    write_manifest(cli_env, stack, job("new", "sleep:60", extra))  # the moved: entry dropped
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in text, text
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_wait_follows_only_the_selected_jobs_and_ignores_removed_keys(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Finding 4: --wait exited 5 for a job hpcspec itself cancelled (--prune) and followed
    untargeted jobs."""
    manifest = write_manifest(cli_env, "followed", job("gone", "sleep:60") + job("a"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    write_manifest(cli_env, "followed", job("a") + job("b", "sleep:60") + job("c"))
    code, out, err = run_cli(
        "apply",
        str(manifest),
        "--auto-approve",
        "--prune",
        "--target",
        "c",
        "--target",
        "gone",
        "--wait",
        "--timeout",
        "20s",
    )
    assert code == 0, out + err
    ids = live_ids(cluster, "followed", ["a", "b", "c", "gone"])
    assert ids["b"] is None and ids["c"] is not None
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_a_replace_with_a_missing_secret_leaves_the_old_job_alive(
    cli_env: Path, run_cli: Runner, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 5: with a secret's variable unset, `apply --rerun K` cancelled the queued job
    and then failed, leaving the key with no live job."""
    body = "    env: {TOKEN: {secret: 'env:LIFE_TEST_TOKEN'}}\n"
    manifest = write_manifest(cli_env, "secretive", job("a", "sleep:60", body))
    monkeypatch.setenv("LIFE_TEST_TOKEN", "s3cret")
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "secretive", ["a"])["a"]
    assert job_id is not None
    monkeypatch.delenv("LIFE_TEST_TOKEN")
    code, _, err = run_cli("apply", str(manifest), "--auto-approve", "--rerun", "a")
    assert code == ExitCode.ERROR and "secret env:LIFE_TEST_TOKEN is not set" in err
    client = client_for(cluster)
    try:
        alive = ("Submitted", "Validating", "Queued", "Running")
        assert client.job_properties(job_id, ["State"]).text("State") in alive
    finally:
        client.close()
    monkeypatch.setenv("LIFE_TEST_TOKEN", "s3cret")
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_a_replace_submits_the_new_job_before_it_cancels_the_old_one(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    manifest = write_manifest(cli_env, "cbd", job("a", "sleep:60"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    old = live_ids(cluster, "cbd", ["a"])["a"]
    assert old is not None
    write_manifest(cli_env, "cbd", job("a", "sleep:61", "    onSpecChange: replace\n"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    new = live_ids(cluster, "cbd", ["a"])["a"]
    assert new not in (None, old)
    client = client_for(cluster)
    try:
        message = client.job_properties(old, ["ErrorMessage"]).text("ErrorMessage")
    finally:
        client.close()
    assert f": replaced by job {new}" in message and "hpcspec replace at 20" in message
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in text
    run_cli("destroy", str(manifest), "--auto-approve")


def test_drift_is_read_in_the_job_listing_at_no_extra_request(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    from hpcspec.engine.pipeline import plan_stack
    from hpcspec.manifest import parse_manifest, resolve
    from tests.engine.test_plan_table_e2e import Counting

    body = "    state: configuring\n    properties: {Priority: Normal, Name: Kept, MinCores: 1}\n"
    manifest = write_manifest(cli_env, "cheap", job("a", extra=body) + job("b", extra=body))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    stack = resolve(parse_manifest(manifest.read_text(encoding="utf-8"), file="m.yaml"))
    client = client_for(cluster)
    # As after the first apply that submitted a job: a client with no profile, before any
    # submit has shown that ClientSource is kept, lists the user's jobs too (`custom_identity.
    # unmeasured`), since a marker on a job never submitted proves nothing.
    client.profile = ClusterProfile()
    try:
        job_id = live_ids(cluster, "cheap", ["a"])["a"]
        assert job_id is not None
        client.set_job(job_id, {"Priority": "Highest"})
        counting = Counting(client)
        plan = plan_stack(client, stack, cluster_name="e")
    finally:
        client.close()
    drifted = {c.key: c.action.value for c in plan.changes}
    assert drifted == {"a": "update", "b": "no-op"}
    listings = [c for c in counting.calls if c == ("GET", "/jobs")]
    others = [c for c in counting.calls if c != ("GET", "/jobs")]
    # Configuring jobs are read whole (docs/apply.md, cost model): 4 + 2 per task each; a
    # job of another state costs the listing alone.
    assert len(listings) == 1 and len(others) <= 2 * (4 + 2) + 1, counting.calls


def test_a_no_op_apply_says_no_changes_once_and_counts_what_the_plan_counted(
    cli_env: Path, run_cli: Runner
) -> None:
    """Finding 9: "No changes" printed twice, and "0 unchanged" after the plan said 1."""
    manifest = write_manifest(cli_env, "quiet", job("a", extra="    state: configuring\n"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    code, out, _ = run_cli("apply", str(manifest), "--auto-approve")
    assert code == 0
    assert out.lower().count("no changes") == 1, out
    assert "1 unchanged" in out.splitlines()[0]
    assert "Apply: 0 done, 0 failed, 0 not started, 0 refused, 1 unchanged." in out


@pytest.mark.slow
def test_forget_stops_managing_a_removed_key_without_touching_its_job(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    manifest = write_manifest(cli_env, "forgetful", job("a") + job("old", "sleep:60"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "forgetful", ["old"])["old"]
    assert job_id is not None
    wait_state(cluster, job_id, "Queued", "Running")
    write_manifest(cli_env, "forgetful", job("a"))
    code, text, _ = run_cli("plan", str(manifest))
    assert "1 removed key" in text.splitlines()[0] and "old:" not in text  # one line only

    code, _, err = run_cli("forget", str(manifest), "a")
    assert code == 1 and "[forget-managed-key]" in err
    code, out, err = run_cli("forget", str(manifest), "old")
    assert code == 0, err
    assert f"old (job {job_id}): forgotten" in out
    code, text, _ = run_cli("plan", str(manifest), "--prune", "--detailed-exitcode")
    assert code == 0 and "removed" not in text and MATCHES in text
    client = client_for(cluster)
    try:
        state = client.job_properties(job_id, ["State"]).text("State")
        assert state in ("Queued", "Running")  # forgotten, not cancelled
        client.cancel_job(job_id, "test cleanup")
    finally:
        client.close()
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_forget_refuses_a_key_the_manifest_moves_so_its_job_is_not_orphaned(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """`moved: {old: new}` says old's job is new's: forgetting old would leave new without it
    (the next apply would create a second job). Before the move is applied and after."""
    manifest = write_manifest(cli_env, "forget-moved", job("old", "sleep:60"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "forget-moved", ["old"])["old"]
    write_manifest(cli_env, "forget-moved", job("new", "sleep:60") + "moved:\n  old: new\n")
    for _ in range(2):  # the move not applied yet, then applied
        code, out, err = run_cli("forget", str(manifest), "old")
        assert code == 1 and "[forget-moved-key]" in err, out + err
        assert "old moves to new" in err and "moved:" in err, err
        code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
        assert "moved from old" in text or MATCHES in text, text
        assert "create" not in text.lower().split("plan:")[-1].split(",")[0], text
        code, out, err = run_cli("apply", str(manifest), "--auto-approve")
        assert code == 0, text + out + err
    assert live_ids(cluster, "forget-moved", ["new"])["new"] == job_id
    run_cli("destroy", str(manifest), "--auto-approve")


@pytest.mark.slow
def test_a_job_stopped_with_hpcspec_cancel_stays_stopped_until_rerun(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    manifest = write_manifest(cli_env, "stopped", job("a", "sleep:60"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "stopped", ["a"])["a"]
    assert job_id is not None
    assert run_cli("cancel", str(manifest), "a", "--auto-approve")[0] == 0
    wait_state(cluster, job_id, "Canceled")
    code, text, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.ERROR and MATCHES not in text and "create" not in text
    assert f"job {job_id} was cancelled by hpcspec cancel at 20" in text and "--rerun a" in text
    assert "1 canceled by hpcspec cancel" in text.splitlines()[0]
    assert run_cli("apply", str(manifest), "--auto-approve", "--rerun", "a")[0] == 0
    assert live_ids(cluster, "stopped", ["a"])["a"] not in (None, job_id)
    run_cli("destroy", str(manifest), "--auto-approve")
