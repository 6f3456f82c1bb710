"""`onSpecChange: extend` (engine/extension.py): which points are new, what is not a pure
extension, and the job apply creates for the new points (pure)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hpcspec.engine.extension import (
    COVERS_TAG,
    EXTENDS_TAG,
    covered_shape,
    extension_job,
    find_extension,
)
from hpcspec.engine.plan import Action, Extension, Plan, PlanOptions, ReasonCode
from hpcspec.engine.planfile import load_plan, save_plan
from hpcspec.engine.planner import decide
from hpcspec.hpcpack.definition import Sweep
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import DesiredJob

MANIFEST = """\
apiVersion: hpcspec/v1
stack: demo
jobs:
  a:
    onSpecChange: extend
    tasks:
      run: {commandLine: solve *, sweep: {start: 1, end: END}}
      post:
        commandLine: post ${matrix.mesh} ${matrix.re}
        matrix: {mesh: [coarse, fine], re: RE}
"""


def job(end: int = 20, re: str = "[1e5]", text: str = MANIFEST) -> DesiredJob:
    source = text.replace("END", str(end)).replace("RE", re)
    return resolve(parse_manifest(source, file="m.yaml")).jobs["a"]


def ran(spec: DesiredJob, state: JobState = JobState.Finished, **custom: str) -> LiveJob:
    """The live job `spec` created, ended in `state`."""
    return LiveJob(
        id=7,
        state=state,
        client_source=f"hpcspec:{'0' * 16}:{spec.digest}",
        definition=spec.definition,
        custom_properties=tuple(sorted(custom.items())) or None,
    )


def test_a_grown_sweep_end_makes_only_the_new_instances_new() -> None:
    found = find_extension(job(25), ran(job(20)))
    assert found == Extension(points=5, total=27, starts=(("run", 21),))


def test_a_stepped_sweep_extends_from_the_value_after_the_last_that_ran() -> None:
    stepped = MANIFEST.replace("start: 1,", "start: 1, increment: 3,")
    found = find_extension(job(25, text=stepped), ran(job(20, text=stepped)))  # 1, 4, … 19
    assert isinstance(found, Extension) and found.starts == (("run", 22),), found
    assert found.points == 2  # 22 and 25


def test_a_new_matrix_value_makes_only_its_rows_new() -> None:
    found = find_extension(job(re="[1e5, 1e6]"), ran(job(re="[1e5]")))
    assert isinstance(found, Extension), found
    assert found.points == 2 and found.total == 24
    assert {name for name, start in found.starts if start is None} == {
        "post[mesh=coarse;re=1e6]",
        "post[mesh=fine;re=1e6]",
    }


def test_a_changed_command_with_a_grown_sweep_is_not_an_extension() -> None:
    changed = job(25, text=MANIFEST.replace("solve *", "solve2 *"))
    assert "more than sweep ends" in str(find_extension(changed, ran(job(20))))


def test_a_shrunk_sweep_is_not_an_extension() -> None:
    assert "shrank (20 → 15)" in str(find_extension(job(15), ran(job(20))))


def test_a_moved_sweep_start_is_not_an_extension() -> None:
    moved = job(25, text=MANIFEST.replace("start: 1", "start: 2"))
    assert "start or step" in str(find_extension(moved, ran(job(20))))


def test_a_failed_job_is_not_extended_so_its_failed_points_stay_visible() -> None:
    assert "Failed" in str(find_extension(job(25), ran(job(20), JobState.Failed)))


def test_a_task_depending_on_the_grown_sweep_makes_it_a_rerun() -> None:
    text = MANIFEST.replace("matrix: {mesh", "dependsOn: [run]\n        matrix: {mesh")
    assert "depends on run" in str(find_extension(job(25, text=text), ran(job(20, text=text))))


def test_the_planner_extends_or_says_why_it_reruns() -> None:
    change = decide(job(25), ran(job(20)), PlanOptions())
    assert change.action is Action.EXTEND and change.extension is not None
    assert ReasonCode.EXTENSION in {r.code for r in change.reasons}
    rerun = decide(job(15), ran(job(20)), PlanOptions())
    assert rerun.action is Action.RERUN and rerun.extension is None
    assert ReasonCode.NOT_AN_EXTENSION in {r.code for r in rerun.reasons}


def test_the_extension_job_holds_the_new_points_the_full_digest_and_the_covered_shape() -> None:
    wanted = job(25)
    found = find_extension(wanted, ran(job(20)))
    assert isinstance(found, Extension)
    new = extension_job(wanted, found, extends=7)
    assert [(t.name, t.sweep) for t in new.definition.tasks] == [("run", Sweep(21, 25))]
    assert new.digest == wanted.digest
    custom = dict(new.definition.custom_properties)
    assert custom[EXTENDS_TAG] == "7"
    assert new.definition.user_custom_properties() == wanted.definition.user_custom_properties()
    # Once created it is the key's job: the same spec is unchanged, a bigger one extends
    # from everything covered so far (1-25), not from its own 21-25.
    created = replace(ran(wanted, **{COVERS_TAG: custom[COVERS_TAG]}), definition=new.definition)
    assert covered_shape(created) == tuple((t.name, t.sweep) for t in wanted.definition.tasks)
    assert decide(wanted, created, PlanOptions()).action is Action.NO_OP
    again = find_extension(job(30), created)
    assert isinstance(again, Extension) and again.starts == (("run", 26),), again


def test_a_saved_extend_plan_reads_back_with_its_extension(tmp_path: Path) -> None:
    change = decide(job(25), ran(job(20)), PlanOptions())
    plan = Plan(stack="demo", cluster="https://head", changes=(change,))
    save_plan(plan, tmp_path / "plan.json", extra={})
    assert load_plan(tmp_path / "plan.json").changes[0].extension == change.extension
