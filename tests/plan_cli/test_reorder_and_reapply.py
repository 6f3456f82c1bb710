"""What a Terraform user does to a stack, end to end over HTTP against the emulator: write a
list in another order, reorder tasks, destroy and apply again, apply a saved plan after
someone else changed the cluster. Each promise is held to what the cluster then holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.discovery import list_stack
from hpcspec.errors import ExitCode
from tests.conftest import Runner
from tests.engine.conftest import client_for
from tests.plan_cli.conftest import write_manifest
from tests.plan_cli.test_lifecycle import MATCHES, live_ids, wait_state

PARENTS = """\
  a:
    tasks: {t: {commandLine: 'sleep:60'}}
  b:
    tasks: {t: {commandLine: 'echo b'}}
  c:
    dependsOn: [%s]
    tasks:
      t1: {commandLine: 'echo 1'}
      t2: {commandLine: 'echo 2'}
      t3: {commandLine: 'echo 3', dependsOn: [%s]}
"""


def task_names(cluster: Any, job_id: int) -> list[str]:
    client = client_for(cluster)
    try:
        definition = client.read_whole_job(job_id).definition
        assert definition is not None
        return [t.name for t in definition.tasks]
    finally:
        client.close()


def parents(cluster: Any, job_id: int) -> tuple[int, ...]:
    client = client_for(cluster)
    try:
        definition = client.read_whole_job(job_id).definition
        assert definition is not None
        return definition.parent_job_ids
    finally:
        client.close()


def every_job(cluster: Any, stack: str, keys: list[str]) -> dict[str, list[int]]:
    client = client_for(cluster)
    try:
        found = list_stack(client, stack, keys).by_key
        return {key: sorted(j.id for j in jobs) for key, jobs in found.items()}
    finally:
        client.close()


@pytest.mark.slow
def test_dependson_written_in_another_order_is_no_change(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: `dependsOn: [b, a]` for `[a, b]` (a job's, or a task's) changed the
    digest, so a Queued job was replaced and lost its queue position, for "fields that are
    not read back"; ParentJobIds and DependsOn are sets."""
    manifest = write_manifest(cli_env, "reorder-deps", PARENTS % ("a, b", "t1, t2"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    ids = live_ids(cluster, "reorder-deps", ["a", "c"])
    assert ids["c"] is not None
    wait_state(cluster, ids["c"], "Queued")  # it waits for a
    for deps in (("b, a", "t1, t2"), ("a, b", "t2, t1"), ("b, a", "t2, t1")):
        write_manifest(cli_env, "reorder-deps", PARENTS % deps)
        code, out, err = run_cli("plan", str(manifest), "--detailed-exitcode")
        assert code == 0 and MATCHES in out, (deps, out + err)
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert live_ids(cluster, "reorder-deps", ["c"])["c"] == ids["c"]
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0


TASKS = """\
  j:
    state: configuring
    tasks:
%s"""


def test_tasks_in_another_order_need_a_new_job_and_then_match(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: reordering a Configuring job's tasks planned an `update` showing no
    field, which changed nothing on the cluster (HPC Pack cannot renumber tasks), and the next
    plan said the cluster matched while the job's tasks kept the old order."""
    lines = {n: f"      {n}: {{commandLine: 'echo {n}'}}\n" for n in ("t1", "t2", "t3")}
    manifest = write_manifest(cli_env, "reorder-tasks", TASKS % "".join(lines.values()))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    first = live_ids(cluster, "reorder-tasks", ["j"])["j"]
    assert first is not None and task_names(cluster, first) == ["t1", "t2", "t3"]
    write_manifest(cli_env, "reorder-tasks", TASKS % "".join(lines[n] for n in ("t2", "t3", "t1")))
    code, out, err = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES, out + err
    assert "-/+ j: replace" in out and "HPC Pack cannot reorder a job's tasks" in out, out
    assert '~ taskOrder: "t1, t2, t3" → "t2, t3, t1"' in out, out
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    second = live_ids(cluster, "reorder-tasks", ["j"])["j"]
    assert second not in (None, first)
    assert task_names(cluster, second) == ["t2", "t3", "t1"]
    code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in out, out
    # a task added at the end is added in place: HPC Pack numbers it last
    extra = "      t4: {commandLine: 'echo t4'}\n"
    body = "".join(lines[n] for n in ("t2", "t3", "t1")) + extra
    write_manifest(cli_env, "reorder-tasks", TASKS % body)
    code, out, _ = run_cli("plan", str(manifest))
    assert "~ j: update" in out and "taskOrder" not in out, out
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert task_names(cluster, second) == ["t2", "t3", "t1", "t4"]
    assert run_cli("plan", str(manifest), "--detailed-exitcode")[0] == 0
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0


CHAIN = """\
  mesh:
    tasks: {t: {commandLine: 'echo mesh'}}
  solve:
    dependsOn: [mesh]
    tasks: {t: {commandLine: 'sleep:60'}}
  report:
    dependsOn: [solve]
    tasks: {t: {commandLine: 'echo report'}}
"""


@pytest.mark.slow
def test_destroy_then_apply_again_brings_back_exactly_the_destroyed_jobs(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """A user who destroys and re-applies: the jobs destroy cancelled (a running one and the
    one waiting on it) come back once each, waiting on the right parents; the job that had
    finished stays the key's job; a second destroy and apply converge the same way."""
    keys = ["mesh", "solve", "report"]
    manifest = write_manifest(cli_env, "reapply", CHAIN)
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    first = live_ids(cluster, "reapply", keys)
    mesh, solve, report = (first[k] for k in keys)
    assert mesh is not None and solve is not None and report is not None
    wait_state(cluster, mesh, "Finished")
    wait_state(cluster, solve, "Running")
    for round_ in range(2):
        code, out, err = run_cli("destroy", str(manifest), "--auto-approve")
        assert code == 0, out + err
        assert "mesh" not in out  # finished jobs stay as they are
        wait_state(cluster, solve, "Canceled")
        wait_state(cluster, report, "Canceled")
        code, out, err = run_cli("destroy", str(manifest), "--auto-approve")
        assert code == 0 and "Nothing to cancel." in out and "cancelled" not in out, out + err
        assert "matches the manifest" not in out  # a destroyed stack does not match it
        code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
        assert code == ExitCode.CHANGES and "2 to create, 1 unchanged" in out, out
        assert f"job {solve} was destroyed by hpcspec destroy at" in out
        code, out, err = run_cli("apply", str(manifest), "--auto-approve")
        assert code == 0, out + err
        now = live_ids(cluster, "reapply", keys)
        assert now["mesh"] == mesh, round_
        assert now["solve"] not in (None, solve) and now["report"] not in (None, report)
        solve, report = now["solve"], now["report"]
        assert solve is not None and report is not None
        assert parents(cluster, solve) == (mesh,)
        assert parents(cluster, report) == (solve,)
        jobs = every_job(cluster, "reapply", keys)
        assert len(jobs["mesh"]) == 1 and len(jobs["solve"]) == len(jobs["report"]) == 2 + round_
        code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
        assert code == 0 and MATCHES in out, out
        wait_state(cluster, solve, "Running")
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0


@pytest.mark.slow
def test_a_saved_plan_applied_after_someone_else_changed_the_cluster_changes_nothing_twice(
    cli_env: Path, run_cli: Runner, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plan --out` is reviewed; meanwhile a colleague (another checkout, another journal)
    applies the stack, destroys it and applies one key again. The reviewed plan is then stale
    for every key it would have changed: exit 4, nothing created or cancelled; a new plan
    shows what is left to do, and applying it converges with one job per key."""
    keys = ["a", "b"]
    jobs = "".join(f"  {k}:\n    tasks: {{t: {{commandLine: 'sleep:60'}}}}\n" for k in keys)
    manifest = write_manifest(cli_env, "saved-race", jobs)
    code, out, err = run_cli("plan", str(manifest), "--out", "reviewed.json")
    assert code == 0 and "2 to create" in out, out + err

    colleague = cli_env / "colleague"
    colleague.mkdir()
    theirs = write_manifest(colleague, "saved-race", jobs)
    monkeypatch.setenv("HPCSPEC_STATE_DIR", str(colleague / "state"))
    assert run_cli("apply", str(theirs), "--auto-approve")[0] == 0
    destroyed = live_ids(cluster, "saved-race", keys)
    assert run_cli("destroy", str(theirs), "--auto-approve")[0] == 0
    for job_id in destroyed.values():
        wait_state(cluster, job_id or 0, "Canceled")
    assert run_cli("apply", str(theirs), "--auto-approve", "--target", "a")[0] == 0
    monkeypatch.delenv("HPCSPEC_STATE_DIR")
    kept = live_ids(cluster, "saved-race", keys)["a"]
    assert kept not in (None, destroyed["a"])

    before = every_job(cluster, "saved-race", keys)
    code, out, err = run_cli("apply", "reviewed.json")
    assert code == ExitCode.STALE_PLAN, out + err
    assert out.count("! refused: the plan is stale for") == 2, out
    assert f"the key's live job is now job {kept}, the plan saw none" in out, out
    assert every_job(cluster, "saved-race", keys) == before  # nothing made, nothing cancelled

    code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == ExitCode.CHANGES and "1 to create, 1 unchanged" in out, out
    assert f"job {destroyed['b']} was destroyed by hpcspec destroy" in out, out
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in out, out
    now = live_ids(cluster, "saved-race", keys)
    assert now["a"] == kept and now["b"] not in (None, destroyed["b"])
    assert {k: len(v) for k, v in every_job(cluster, "saved-race", keys).items()} == {
        "a": 2,
        "b": 2,
    }
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0


@pytest.mark.slow
def test_after_a_destroy_a_targeted_child_is_refused_until_its_parents_come_along(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: after `destroy`, `apply --target report` planned "1 to create",
    created the job with the destroyed parent's id in ParentJobIds, and HPC Pack cancelled it
    at once (`--wait` exit 5)."""
    keys = ["mesh", "solve", "report"]
    manifest = write_manifest(cli_env, "retarget", CHAIN.replace("sleep:60", "echo solve"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0
    before = every_job(cluster, "retarget", keys)
    code, out, err = run_cli("apply", str(manifest), "--auto-approve", "--target", "report")
    assert code == ExitCode.ERROR, out + err
    assert "report depends on solve (job" in out and "--target solve takes it along" in out
    assert every_job(cluster, "retarget", keys) == before  # nothing made
    code, out, err = run_cli(
        "apply", str(manifest), "--auto-approve", "--wait", "--timeout", "1m",
        *(f"--target={k}" for k in keys),
    )  # fmt: skip
    assert code == 0, out + err
    now = live_ids(cluster, "retarget", keys)
    assert parents(cluster, now["report"] or 0) == (now["solve"],)
    assert run_cli("plan", str(manifest), "--detailed-exitcode")[0] == 0


MOVES = """\
  {fin}:
    tasks: {{t: {{commandLine: 'echo fin'}}}}
  done:
    dependsOn: [{fin}]
    tasks: {{t: {{commandLine: 'echo done'}}}}
  {run}:
    tasks: {{t: {{commandLine: 'sleep:60'}}}}
  waiting:
    dependsOn: [{run}]
    tasks: {{t: {{commandLine: 'echo waiting'}}}}
"""


@pytest.mark.slow
def test_a_key_renamed_with_moved_leaves_the_jobs_that_depend_on_it_alone(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: `moved: {old: new}` with a child's `dependsOn: [old]` renamed to
    `[new]` changed the child's digest: its Finished job ran again and its Queued job was
    replaced (losing its queue position), though its parent is the same job."""
    keys = ["fin", "done", "run", "waiting"]
    manifest = write_manifest(cli_env, "moves", MOVES.format(fin="fin", run="run"))
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    ids = live_ids(cluster, "moves", keys)
    wait_state(cluster, ids["done"] or 0, "Finished")
    wait_state(cluster, ids["waiting"] or 0, "Queued")
    body = "moved: {fin: fin2, run: run2}\njobs:\n" + MOVES.format(fin="fin2", run="run2")
    manifest.write_text(manifest.read_text().split("jobs:\n")[0] + body, encoding="utf-8")
    code, out, _ = run_cli("plan", str(manifest))
    assert "rerun" not in out and "replace" not in out, out
    assert "done: no change" in out and "~ waiting: update" in out, out
    assert "only its parents' keys changed, by moved: (fin → fin2)" in out, out
    assert run_cli("apply", str(manifest), "--auto-approve")[0] == 0
    code, out, _ = run_cli("status", str(manifest), "-o", "json")
    rows = {row["key"]: row["job_id"] for row in json.loads(out)["jobs"]}
    assert rows == {"fin2": ids["fin"], "done": ids["done"], "run2": ids["run"], **{
        "waiting": ids["waiting"]}}  # fmt: skip
    code, out, _ = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0 and MATCHES in out, out
    assert run_cli("destroy", str(manifest), "--auto-approve")[0] == 0


@pytest.mark.slow
def test_a_forgotten_job_cannot_move_to_another_stack_and_the_error_says_why(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Moving a job between stacks, as `terraform state rm` then `import` would: `forget` it in
    its stack, then `adopt` it in another. Its ClientSource marker still names the old stack
    and key (HPC Pack lets it change only while Configuring), so adopt refuses it; the error
    said it "already belongs to another hpcspec stack or key", about a job just released."""
    job = "  x:\n    tasks: {t: {commandLine: 'sleep:60'}}\n"
    old = write_manifest(cli_env, "from-stack", job + "  y:\n    tasks: {t: {commandLine: y}}\n")
    assert run_cli("apply", str(old), "--auto-approve")[0] == 0
    job_id = live_ids(cluster, "from-stack", ["x"])["x"]
    write_manifest(cli_env, "from-stack", "  y:\n    tasks: {t: {commandLine: y}}\n")
    assert run_cli("forget", str(old), "x")[0] == 0
    new = write_manifest(cli_env, "to-stack", job, name="new.yaml")
    code, _, err = run_cli("adopt", str(new), f"x={job_id}")
    assert code == 1 and "[adopted-elsewhere]" in err, err
    assert f"job {job_id} was forgotten (hpcspec.forgotten: x at 20" in err, err
    assert "a job cannot move between stacks" in err
    write_manifest(cli_env, "from-stack", job)  # its old key, written again, takes it back
    assert live_ids(cluster, "from-stack", ["x"])["x"] == job_id
    assert run_cli("destroy", str(old), "--auto-approve")[0] == 0
