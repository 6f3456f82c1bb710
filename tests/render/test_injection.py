"""No manifest or server text can become a CI log command in any rendered plan (issue 8)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.plan import (
    Action,
    Block,
    BlockCode,
    Change,
    DiffSection,
    FieldDiff,
    Plan,
    PlanOptions,
    Reason,
    ReasonCode,
)
from hpcspec.engine.planfile import load_plan, save_plan
from hpcspec.engine.planner import make_plan
from hpcspec.hpcpack.definition import TaskDefinition
from hpcspec.hpcpack.states import JobState
from hpcspec.render import render_json, render_markdown, render_text
from tests.render import plans
from tests.render.ci import PAYLOADS, runner_commands

_OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def every_output(plan: Plan, tmp_path: Path) -> dict[str, str]:
    saved = tmp_path / "plan.json"
    save_plan(plan, saved, extra={})
    return {
        "text": render_text(plan, color=False),
        "color": _OUR_COLOURS.sub("", render_text(plan, color=True)),
        "markdown": render_markdown(plan),
        "json": render_json(plan),
        "saved": saved.read_text(encoding="utf-8"),
    }


def hostile_plan(payload: str) -> Plan:
    """Every string field of a plan holds the payload (as if from the manifest or server)."""
    change = Change(
        key=payload,
        action=Action.REPLACE,
        reasons=(
            Reason(ReasonCode.SPEC_CHANGED, f"the scheduler said: {payload}"),
            Reason(ReasonCode.ORPHAN, payload),
        ),
        diffs=(
            FieldDiff(DiffSection.PROPERTY, "Name", payload, payload + " new"),
            FieldDiff(DiffSection.TASK, f"{payload}/commandLine", payload, None),
            FieldDiff(DiffSection.ENV, payload, None, payload),  # codes and sections are enums
        ),
        blocks=(Block(BlockCode.REPLACE_RUNNING, payload, payload),),
        live_id=5,
        live_state=payload,
        live_change_time=payload,
        live_digest=payload,
        desired_digest=payload,
    )
    return Plan(
        stack=payload,
        cluster=payload,
        changes=(change,),
        source=payload,
        insecure=True,
        notes=(payload,),
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_rendering_of_a_hostile_plan_holds_a_runner_command(
    payload: str, tmp_path: Path
) -> None:
    plan = hostile_plan(payload)
    for name, output in every_output(plan, tmp_path).items():
        assert runner_commands(output) == [], name
        assert "\x1b" not in output, name
    # JSON keeps the data exact: a saved plan loads back to the very same strings.
    assert load_plan(tmp_path / "plan.json") == plan


def test_manifest_and_server_names_from_the_planner_are_neutralised(tmp_path: Path) -> None:
    manifest = plans.MANIFEST.replace(
        "tasks: {run: {commandLine: draft.exe}}",
        "properties: {Name: '::set-output name=x::y'}\n"
        "    tasks: {run: {commandLine: '##vso[task.setvariable variable=x]y'}}",
    )
    resolved = plans.stack(manifest)
    # The live job still has the old name and a task the server calls `::add-mask::…`.
    old = plans.live_job(resolved, "draft", 42, JobState.Configuring, changed={"Name": "old"})
    hostile_task = TaskDefinition(name="::add-mask::hunter2", command_line="##[group]x")
    assert old.definition is not None
    live = replace(
        old, definition=replace(old.definition, tasks=(*old.definition.tasks, hostile_task))
    )
    plan = make_plan(
        resolved,
        LiveStack(current={"draft": live}),
        cluster="c",
        options=PlanOptions(targets=frozenset({"draft"})),
    )
    change = plan.changes[0]
    shown = {d.name for d in change.diffs}
    assert {"Name", "::add-mask::hunter2"} <= shown
    for name, output in every_output(plan, tmp_path).items():
        assert runner_commands(output) == [], name
    assert "hunter2" in render_text(plan, color=False)  # neutralised, not hidden
