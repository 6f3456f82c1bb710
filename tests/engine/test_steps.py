"""A plan becomes typed steps by the generator's rules; impossible step orders cannot be built."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hpcspec.engine.lifecycle import CancelReason
from hpcspec.engine.plan import Action, Block, BlockCode, Change, Plan
from hpcspec.engine.step_generator import destroy_steps, generate_steps, job_steps
from hpcspec.engine.steps import (
    ApplyOptions,
    Cancel,
    CancelDuplicate,
    CreateMethod,
    CreateViaRest,
    CreateViaXml,
    JobSteps,
    Mark,
    RequeueFailed,
    SettleRace,
    StepKind,
    Submit,
    Update,
    mark_beside_race_check,
)
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import DesiredState, ResolvedStack, SpecChangePolicy

MANIFEST = """\
apiVersion: hpcspec/v1
stack: s
jobs:
  a:
    tasks: {t: {commandLine: echo a}}
  b:
    dependsOn: [a]
    state: configuring
    tasks: {t: {commandLine: echo b}}
"""
XML = ApplyOptions()


def stack() -> ResolvedStack:
    return resolve(parse_manifest(MANIFEST, file="m.yaml"))


def kinds(steps: JobSteps) -> list[StepKind]:
    return [step.kind for step in steps.steps]


@pytest.mark.parametrize(
    ("via", "key", "beside"),
    [
        (CreateMethod.XML, "a", True),
        (CreateMethod.REST, "a", False),
        (CreateMethod.XML, "b", False),
    ],
    ids=["xml-submitted", "rest-submitted", "xml-configuring"],
)
def test_only_a_job_xml_creates_mark_runs_beside_the_race_check_before_its_submit(
    via: CreateMethod, key: str, beside: bool
) -> None:
    options = ApplyOptions(via=via)
    steps = job_steps(Change(key, Action.CREATE), stack().jobs[key], "s", options).steps
    found = [n for n, step in enumerate(steps) if mark_beside_race_check(steps, n)]
    marks = [n for n, step in enumerate(steps) if isinstance(step, Mark)]
    assert len(marks) == 1 and found == (marks if beside else [])


def test_a_create_is_created_marked_settled_submitted_then_rechecked() -> None:
    steps = job_steps(Change("a", Action.CREATE), stack().jobs["a"], "s", XML)
    assert kinds(steps) == [
        StepKind.CREATE_VIA_XML,
        StepKind.MARK,
        StepKind.SETTLE_RACE,
        StepKind.SUBMIT,
        StepKind.RECHECK_RACE,
    ]
    assert isinstance(steps.steps[0], CreateViaXml) and steps.steps[0].via is CreateMethod.XML


def test_a_job_wanted_configuring_stops_after_its_marker_and_keeps_its_parents() -> None:
    rest = ApplyOptions(via=CreateMethod.REST)
    steps = job_steps(Change("b", Action.CREATE), stack().jobs["b"], "s", rest)
    assert kinds(steps) == [StepKind.CREATE_VIA_REST, StepKind.MARK]
    assert isinstance(steps.steps[0], CreateViaRest) and steps.depends_on == ("a",)
    assert isinstance(steps.steps[1], Mark) and steps.steps[1].via is CreateMethod.REST


def test_duplicates_are_cancelled_before_anything_else() -> None:
    change = Change("a", Action.SUBMIT, live_id=5, duplicates=(7, 8))
    steps = job_steps(change, stack().jobs["a"], "s", XML)
    assert steps.steps[:2] == (CancelDuplicate("a", 7, 5), CancelDuplicate("a", 8, 5))
    assert kinds(steps)[2:] == [StepKind.SETTLE_RACE, StepKind.SUBMIT, StepKind.RECHECK_RACE]


def test_a_replace_creates_and_submits_the_new_job_before_it_cancels_the_old_one() -> None:
    steps = job_steps(Change("a", Action.REPLACE, live_id=5), stack().jobs["a"], "s", XML)
    assert kinds(steps) == [
        StepKind.CREATE_VIA_XML,
        StepKind.MARK,
        StepKind.SETTLE_RACE,
        StepKind.SUBMIT,
        StepKind.RECHECK_RACE,
        StepKind.CANCEL,
    ]
    assert steps.steps[-1] == Cancel("a", 5, CancelReason.REPLACED)
    race = steps.steps[2]
    assert isinstance(race, SettleRace) and race.superseded == 5


def test_replace_cancel_first_cancels_the_old_job_before_the_create() -> None:
    job = replace(stack().jobs["a"], on_spec_change=SpecChangePolicy.REPLACE_CANCEL_FIRST)
    steps = job_steps(Change("a", Action.REPLACE, live_id=5), job, "s", XML)
    assert steps.steps[0] == Cancel("a", 5, CancelReason.REPLACED)
    assert kinds(steps)[1:] == [
        StepKind.CREATE_VIA_XML,
        StepKind.MARK,
        StepKind.SETTLE_RACE,
        StepKind.SUBMIT,
        StepKind.RECHECK_RACE,
    ]


def test_an_update_submits_only_a_configuring_job_the_manifest_wants_submitted() -> None:
    job = stack().jobs["a"]
    configuring = Change("a", Action.UPDATE, live_id=5, live_state="Configuring")
    assert kinds(job_steps(configuring, job, "s", XML)) == [
        StepKind.UPDATE,
        StepKind.SETTLE_RACE,
        StepKind.SUBMIT,
        StepKind.RECHECK_RACE,
    ]
    running = replace(configuring, live_state="Running")
    only = job_steps(running, job, "s", XML).steps
    assert len(only) == 1 and isinstance(only[0], Update) and only[0].job_id == 5
    held = replace(job, state=DesiredState.CONFIGURING)
    assert kinds(job_steps(configuring, held, "s", XML)) == [StepKind.UPDATE]


def test_requeue_and_cancel_act_on_the_live_job() -> None:
    job = stack().jobs["a"]
    # retries rerun the failed tasks only, as `hpcspec requeue --failed-only` does
    assert job_steps(Change("a", Action.REQUEUE, live_id=5), job, "s", XML).steps == (
        RequeueFailed("a", 5),
    )
    orphan = job_steps(Change("gone", Action.CANCEL, live_id=6), None, "s", XML)
    assert orphan.steps == (Cancel("gone", 6, CancelReason.REMOVED),)
    wanted = job_steps(Change("a", Action.CANCEL, live_id=5), job, "s", XML)
    assert wanted.steps == (Cancel("a", 5, CancelReason.WANTED_CANCELED),)


def test_refused_and_unchanged_keys_get_no_steps() -> None:
    refused = Change(
        "a", Action.REPLACE, live_id=5, blocks=(Block(BlockCode.REPLACE_RUNNING, "no"),)
    )
    plan = Plan("s", "c", (refused, Change("b", Action.NO_OP, live_id=6)))
    assert generate_steps(plan, stack(), XML) == []


def test_destroy_cancels_every_live_job_of_a_key() -> None:
    plan = Plan("s", "c", (Change("a", Action.CANCEL, live_id=5, duplicates=(9,)),))
    [steps] = destroy_steps(plan)
    assert steps.steps == (
        Cancel("a", 9, CancelReason.DESTROYED),
        Cancel("a", 5, CancelReason.DESTROYED),
    )


def test_impossible_step_orders_cannot_be_built() -> None:
    job = stack().jobs["a"]
    with pytest.raises(ValueError, match="must follow a race check"):
        JobSteps("a", Action.SUBMIT, (Submit("a"),), live_id=5)
    with pytest.raises(ValueError, match="must follow a create"):
        JobSteps("a", Action.CREATE, (Mark("a", "s", job, CreateMethod.XML),))
    with pytest.raises(ValueError, match="needs a job"):
        JobSteps("a", Action.SUBMIT, (SettleRace("a", "d"), Submit("a")))
    with pytest.raises(ValueError, match="one create per key"):
        create = CreateViaXml("a", "s", job)
        JobSteps("a", Action.CREATE, (create, create))
    with pytest.raises(ValueError, match="an UPDATE of a live job"):
        Update("a", "s", job, Change("a", Action.UPDATE))
    with pytest.raises(ValueError, match="got job"):
        CreateViaXml("b", "s", job)
    with pytest.raises(ValueError, match="parallelism"):
        ApplyOptions(parallelism=0)
