"""`hpcspec adopt` against the emulator: jobs of each example, applied by hpcspec or submitted
by hand from job XML, imported with `import --job` and adopted, leave the next plan with no
changes; the `adopt:` block keeps the manifest's text; the refusals name what is wrong."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hpcspec.manifest.adopt_block import with_adoptions
from hpcspec.manifest.load import load_and_resolve
from tests.conftest import ROOT, Runner
from tests.rescue.test_import_job import EXAMPLES, client, job_ids

pytestmark = pytest.mark.slow


def plan_is_no_op(run_cli: Runner, manifest: str) -> None:
    code, out, err = run_cli("plan", manifest, "--detailed-exitcode")
    assert code == 0, out + err  # 2 would mean changes


def adopt_all(run_cli: Runner, manifest: str, ids: dict[str, int]) -> str:
    code, out, err = run_cli("adopt", manifest, *(f"{k}={i}" for k, i in ids.items()))
    assert code == 0, out + err
    return out


@pytest.mark.parametrize("example", EXAMPLES)
def test_jobs_submitted_by_hand_imported_and_adopted_plan_no_changes(
    example: str, cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    desired = load_and_resolve(ROOT / "examples" / example)
    made: dict[str, int] = {}
    with client(cluster) as api:  # as another tool would: job XML, no hpcspec identity
        for key in desired.job_order():
            job = desired.jobs[key]
            made[key] = api.create_job_xml(job.definition)
            parents = ",".join(str(made[p]) for p in job.depends_on)
            if parents:
                api.set_job(made[key], {"ParentJobIds": parents})
            api.submit_job(made[key])
    stack = f"adopted-{Path(example).stem}"
    ids = [f"--job={i}" for i in made.values()]
    code, out, err = run_cli("import", *ids, "--stack", stack, "--out", "copy.yaml")
    assert code == 0, out + err
    imported = load_and_resolve(cli_env / "copy.yaml")
    names = {dict(j.definition.properties)["Name"]: k for k, j in imported.jobs.items()}
    by_key = {
        names[dict(desired.jobs[k].definition.properties)["Name"]]: i for k, i in made.items()
    }
    code, out, err = run_cli("plan", "copy.yaml", "--detailed-exitcode")
    assert code == 2 and "create" in out  # before adopt: new jobs
    out = adopt_all(run_cli, "copy.yaml", by_key)
    assert out.count("it matches the manifest") == len(by_key), out
    assert "adopt:\n" in (cli_env / "copy.yaml").read_text(encoding="utf-8")
    plan_is_no_op(run_cli, "copy.yaml")
    code, out, err = run_cli("status", "copy.yaml", "--output", "json")
    assert code == 0, err
    rows = {row["key"]: row["job_id"] for row in json.loads(out)["jobs"]}
    assert rows == by_key  # status, logs, requeue and cancel find adopted jobs too
    key, job_id = next(iter(by_key.items()))
    code, out, err = run_cli("logs", "copy.yaml", key)
    assert code == 0 and f"==> {key}/" in out and f"(job {job_id}, task" in out, out + err


@pytest.mark.parametrize("example", EXAMPLES)
def test_an_applied_example_imported_and_adopted_plans_no_changes(
    example: str, cli_env: Path, run_cli: Runner
) -> None:
    source = str(ROOT / "examples" / example)
    assert run_cli("apply", source, "--auto-approve")[0] == 0
    original = job_ids(run_cli, source)
    ids = [f"--job={i}" for i in original.values()]
    code, out, err = run_cli("import", *ids, "--out", "copy.yaml")
    assert code == 0, out + err
    adopt_all(run_cli, "copy.yaml", original)
    plan_is_no_op(run_cli, "copy.yaml")


def test_destroy_cancels_the_adopted_jobs_plan_and_status_call_the_stacks(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """Red-team finding: after `adopt`, plan and status named the job submitted by hand as the
    key's, but `destroy MANIFEST` said "Nothing to cancel" and left it running."""
    manifest = cli_env / "m.yaml"
    held = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    job = f"    properties: {{HoldUntil: '{held}'}}\n    tasks: {{t: {{commandLine: x}}}}\n"
    manifest.write_text(  # held: they stay Queued, whatever runs task command lines
        f"apiVersion: hpcspec/v1\nstack: adopt-destroy\njobs:\n  a:\n{job}  b:\n{job}",
        encoding="utf-8",
    )
    desired = load_and_resolve(manifest)
    with client(cluster) as api:  # as another tool would: job XML, no hpcspec identity
        job_id = api.create_job_xml(desired.jobs["a"].definition)
        api.submit_job(job_id)
    # b's apply teaches the client that the cluster keeps ClientSource: listings then go by
    # hpcspec's marker alone, which the adopted job has not
    assert run_cli("apply", "m.yaml", "--auto-approve", "--target", "b")[0] == 0
    adopt_all(run_cli, "m.yaml", {"a": job_id})
    plan_is_no_op(run_cli, "m.yaml")
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert code == 0 and f"a (job {job_id}): cancelled" in out, out + err
    assert "2 to cancel" in out
    with client(cluster) as api:
        assert api.job_state(job_id).is_canceled
    code, out, _ = run_cli("plan", "m.yaml", "--detailed-exitcode")
    assert code == 2 and f"job {job_id} was destroyed by hpcspec destroy" in out, out


def test_destroy_passes_over_an_adopt_entry_whose_job_the_cluster_purged(
    cli_env: Path, run_cli: Runner
) -> None:
    """A cluster's retention deletes old jobs: plan stops on such an `adopt:` entry (so the
    manifest gets fixed), but destroy, which now follows `adopt:`, must not be stopped by a
    job that is not there to cancel."""
    (cli_env / "m.yaml").write_text(
        "apiVersion: hpcspec/v1\nstack: adopt-purged\njobs:\n"
        "  a:\n    tasks: {t: {commandLine: x}}\nadopt:\n  a: 987654\n",
        encoding="utf-8",
    )
    code, _, err = run_cli("plan", "m.yaml")
    assert code == 1 and "[adopted-job-missing]" in err, err
    code, out, err = run_cli("destroy", "m.yaml", "--auto-approve")
    assert code == 0 and "Nothing to cancel." in out, out + err


def test_import_says_which_adopt_makes_the_next_plan_a_no_op(
    cli_env: Path, run_cli: Runner
) -> None:
    """Red-team finding: `import --job` of jobs hpcspec applied, then `plan`, planned to run
    every finished job again (its Priority: Normal left out as HPC Pack's default changes the
    spec digest), and nothing said that `adopt` was the step in between."""
    source = str(ROOT / "examples" / "multi-job.yaml")
    assert run_cli("apply", source, "--auto-approve")[0] == 0
    original = job_ids(run_cli, source)
    code, out, err = run_cli(
        "import", *(f"--job={i}" for i in original.values()), "--out", "m.yaml"
    )
    assert code == 0, out + err
    line = next(x for x in err.splitlines() if x.startswith("hpcspec: next, hpcspec adopt"))
    argv = shlex.split(line.removeprefix("hpcspec: next, ").split(" makes ")[0])
    assert argv[:3] == ["hpcspec", "adopt", "m.yaml"]
    assert sorted(argv[3:]) == sorted(f"{k}={i}" for k, i in original.items())
    code, out, err = run_cli(*argv[1:])
    assert code == 0, out + err
    plan_is_no_op(run_cli, "m.yaml")
    code, _, err = run_cli("import", f"--job={original['mesh']}", "--stack", "a-copy")
    assert code == 0 and "adopt" not in err  # another stack's job: adopt would refuse it


MANIFEST = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  a:
    tasks:
      t: {{commandLine: echo a}}
  b:
    tasks:
      t: {{commandLine: echo b}}
"""


def test_adopt_refuses_a_job_of_another_stack_and_a_key_with_its_own_job(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    (cli_env / "one.yaml").write_text(MANIFEST.format(stack="adopt-one"), encoding="utf-8")
    (cli_env / "two.yaml").write_text(MANIFEST.format(stack="adopt-two"), encoding="utf-8")
    assert run_cli("apply", "one.yaml", "--auto-approve")[0] == 0
    ids = job_ids(run_cli, "one.yaml")
    before = (cli_env / "two.yaml").read_text(encoding="utf-8")
    code, _, err = run_cli("adopt", "two.yaml", f"a={ids['a']}")
    assert code == 1 and "[adopted-elsewhere]" in err
    code, _, err = run_cli("adopt", "one.yaml", f"a={ids['b']}")
    assert code == 1 and "[adopted-elsewhere]" in err  # b's marker names key b
    code, _, err = run_cli("adopt", "two.yaml", "nope=1")
    assert code == 1 and "[unknown-job-key]" in err
    code, _, err = run_cli("adopt", "two.yaml", "a=999999")
    assert code == 1 and "does not exist" in err
    code, _, err = run_cli("adopt", "two.yaml", "a:1")
    assert code == 1 and "expected KEY=ID" in err
    assert (cli_env / "two.yaml").read_text(encoding="utf-8") == before  # nothing written
    with client(cluster) as api:
        configuring = api.create_job({"Name": "by hand"})
        api.add_task(configuring, {"Name": "t", "CommandLine": "echo b"})
    code, out, err = run_cli("adopt", "two.yaml", f"b={configuring}")
    assert code == 0 and "differs from the manifest" in out and "next plan: update" in out, (
        out + err
    )
    code, out, err = run_cli("plan", "two.yaml", "--output", "json")
    changes = {c["key"]: c for c in json.loads(out)["changes"]}
    assert changes["b"]["live_id"] == configuring and changes["b"]["action"] == "update"


def test_adopt_refuses_a_moved_key_whose_job_is_still_under_its_old_key(
    cli_env: Path, run_cli: Runner, cluster: Any
) -> None:
    """`moved: {a: c}` makes a's job c's before any apply (as plan and status see it): a job
    adopted for c would be c's second job."""
    path = cli_env / "m.yaml"
    path.write_text(MANIFEST.format(stack="adopt-moved"), encoding="utf-8")
    assert run_cli("apply", "m.yaml", "--auto-approve")[0] == 0
    ids = job_ids(run_cli, "m.yaml")
    text = path.read_text(encoding="utf-8").replace("  a:\n", "  c:\n") + "moved:\n  a: c\n"
    path.write_text(text, encoding="utf-8")
    with client(cluster) as api:
        by_hand = api.create_job({"Name": "by hand"})
        api.add_task(by_hand, {"Name": "t", "CommandLine": "echo a"})
    code, _, err = run_cli("adopt", "m.yaml", f"c={by_hand}")
    assert code == 1 and "[key-already-managed]" in err and str(ids["a"]) in err, err
    assert path.read_text(encoding="utf-8") == text  # nothing written


def test_the_adopt_block_is_added_or_updated_and_the_rest_of_the_text_kept() -> None:
    text = "apiVersion: hpcspec/v1\nstack: s  # mine\njobs:\n  a: {}\n"
    added = with_adoptions(text, {"a": 7})
    assert added.startswith(text) and added.endswith("adopt:\n  a: 7\n")
    again = with_adoptions(added + "vars:\n  x: 1\n", {"a": 8, "b": 9})
    assert "adopt:\n  a: 8\n  b: 9\n\nvars:\n  x: 1\n" in again
    assert again.startswith(text)
