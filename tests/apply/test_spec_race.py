"""Two versions of one manifest applied at the same time (two pipelines, `--no-lock`): the race
rule leaves one job per key (the lowest id), but the apply whose job lost must not report the
key done when the winner holds another spec: the cluster does not hold what it asked for (a
false green). Its key fails with `spec-raced`; the next plan shows the difference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpcspec.engine.discovery import list_stack
from hpcspec.engine.events import Recorder
from hpcspec.engine.journal import Journal
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.steps import ApplyOptions
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack
from tests.engine.conftest import client_for
from tests.plan_cli.test_lifecycle import wait_state


def _version(command: str) -> ResolvedStack:
    text = f"""\
apiVersion: hpcspec/v1
stack: spec-race
jobs:
  build:
    tasks: {{t: {{commandLine: '{command}'}}}}
  same:
    tasks: {{t: {{commandLine: 'echo same'}}}}
"""
    return resolve(parse_manifest(text, file="m.yaml"))


def test_the_apply_whose_job_lost_to_another_spec_fails_that_key_not_reports_it_done(
    cluster: Any, tmp_path: Path
) -> None:
    client = client_for(cluster)
    try:
        main, branch = _version("make main"), _version("make branch")
        # Both pipelines plan before either creates anything: both plan to create each key.
        plans = [plan_stack(client, s, cluster_name="emulator") for s in (main, branch)]
        results = []
        for n, (stack, plan) in enumerate(zip((main, branch), plans, strict=True)):
            journal = Journal(tmp_path / f"{n}.jsonl")
            applied = apply_plan(client, stack, plan, journal, options=ApplyOptions(),
                                 observer=Recorder())  # fmt: skip
            results.append(applied.results)
        listed = list_stack(client, "spec-race", ["build", "same"])
    finally:
        client.close()
    first, second = ({r.key: r for r in rs} for rs in results)
    assert {r.outcome for r in first.values()} == {Outcome.DONE}
    # `same`: the same spec won, so the key holds what the second apply asked for.
    assert second["same"].outcome is Outcome.DONE
    assert second["same"].job_id == first["same"].job_id
    # `build`: the first apply's spec won; the second apply says so, and fails the key.
    assert second["build"].outcome is Outcome.FAILED, second["build"]
    assert second["build"].job_id == first["build"].job_id
    assert "holds another spec" in second["build"].message
    assert second["build"].message.endswith("[spec-raced]")
    alive = [j.id for j in listed.alive("build")]
    assert alive == [first["build"].job_id]


def _priority(priority: str) -> ResolvedStack:
    text = f"""\
apiVersion: hpcspec/v1
stack: spec-race-updated
jobs:
  build:
    properties: {{Priority: {priority}}}
    tasks: {{t: {{commandLine: 'sleep:60'}}}}
"""
    return resolve(parse_manifest(text, file="m.yaml"))


def test_a_winner_updated_in_place_to_our_spec_is_our_spec_not_another(
    cluster: Any, tmp_path: Path
) -> None:
    """Found by the verification pass: a submitted job keeps the ClientSource marker of the
    spec it was created with (HPC Pack lets it change only while Configuring); an update in
    place moves its `hpcspec.digest` tag to the new spec. The verdict compared markers only,
    so a lost race to a job another apply had since updated to our very spec failed the key
    with spec-raced — and `hpcspec plan` then showed nothing to change."""
    client = client_for(cluster)
    try:
        old, new = _priority("Normal"), _priority("AboveNormal")
        late = plan_stack(client, new, cluster_name="emulator")  # planned before any job
        first = apply_plan(client, old, plan_stack(client, old, cluster_name="emulator"),
                           Journal(tmp_path / "0.jsonl"), options=ApplyOptions(),
                           observer=Recorder())  # fmt: skip
        job = first.results[0].job_id
        assert job is not None
        wait_state(cluster, job, "Running")  # Priority may change in place
        updated = apply_plan(client, new, plan_stack(client, new, cluster_name="emulator"),
                             Journal(tmp_path / "1.jsonl"), options=ApplyOptions(),
                             observer=Recorder())  # fmt: skip
        assert [(r.outcome, r.job_id) for r in updated.results] == [(Outcome.DONE, job)], [
            (c.action, c.reasons) for c in plan_stack(client, new, cluster_name="e").changes
        ]
        raced = apply_plan(client, new, late, Journal(tmp_path / "2.jsonl"),
                           options=ApplyOptions(), observer=Recorder())  # fmt: skip
        listed = list_stack(client, "spec-race-updated", ["build"])
    finally:
        client.close()
    (result,) = raced.results
    assert (result.outcome, result.job_id) == (Outcome.DONE, job), result
    assert [j.id for j in listed.alive("build")] == [job]
