"""Saved plans: a versioned JSON document that loads back to the same Plan, never with secrets."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hpcspec.engine.plan import Action, Change, DiffSection, FieldDiff, Plan, Reason, ReasonCode
from hpcspec.engine.planfile import (
    FORMAT_VERSION,
    PlanFileError,
    load_plan,
    plan_digest,
    read_saved_plan,
    save_plan,
)
from tests.conftest import examples
from tests.render.strategies import plan_strategy


@settings(
    max_examples=examples(50),
    deadline=None,  # a round trip: time under a loaded run is not what it checks
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plan_strategy)
def test_a_saved_plan_loads_back_to_the_same_plan(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    save_plan(plan, path, extra={"manifest": "m.yaml", "options": {"prune": True}})
    saved = read_saved_plan(path)
    assert saved.plan == plan
    assert saved.extra == {"manifest": "m.yaml", "options": {"prune": True}}
    assert saved.digest == plan_digest(plan)


def test_what_a_plan_saw_of_a_configuring_job_is_saved_but_not_part_of_its_digest(
    tmp_path: Path,
) -> None:
    """`live_content` (1.3) is checked per job by apply, as State and ChangeTime are."""
    solve, mesh = _plan().changes
    seen = replace(_plan(), changes=(replace(solve, live_content="sha256:ab"), mesh))
    path = tmp_path / "plan.json"
    save_plan(seen, path, extra={})
    assert load_plan(path).changes[0].live_content == "sha256:ab"
    assert plan_digest(seen) == plan_digest(_plan())


def _plan() -> Plan:
    return Plan(
        stack="cfd",
        cluster="https://head/hpc",
        changes=(
            Change(
                "solve",
                Action.REPLACE,
                reasons=(Reason(ReasonCode.NOT_SETTABLE, "MinCores cannot change while Running"),),
                diffs=(FieldDiff(DiffSection.PROPERTY, "MinCores", "4", "8", allowed_now=False),),
                live_id=44,
                live_state="Running",
                live_change_time="2026-11-28T09:30:00+00:00",
                live_digest="aaaa",
                desired_digest="bbbb",
                running_tasks=3,
            ),
            Change("mesh", Action.CREATE, desired_digest="cccc"),
        ),
    )


def test_each_change_records_what_it_saw(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    save_plan(_plan(), path, extra={})
    solve = json.loads(path.read_text())["changes"][0]
    assert (solve["live_id"], solve["live_state"], solve["live_change_time"]) == (
        44,
        "Running",
        "2026-11-28T09:30:00+00:00",
    )
    assert (solve["live_digest"], solve["desired_digest"]) == ("aaaa", "bbbb")


def test_the_digest_covers_what_the_plan_will_do() -> None:
    plan = _plan()
    digest = plan_digest(plan)
    assert digest.startswith("sha256:") and len(digest) == 7 + 64
    solve, mesh = plan.changes
    moved_on = replace(
        solve,
        live_state="Running",
        live_change_time="2026-11-28T10:00:00+00:00",
        running_tasks=5,
        reasons=(Reason(ReasonCode.NOT_SETTABLE, "worded differently"),),
    )
    same = replace(plan, changes=(mesh, moved_on), notes=("a note",), insecure=True)
    assert plan_digest(same) == digest
    assert (
        plan_digest(replace(plan, changes=(replace(solve, action=Action.UPDATE), mesh))) != digest
    )
    other_value = replace(solve, diffs=(FieldDiff(DiffSection.PROPERTY, "MinCores", "4", "16"),))
    assert plan_digest(replace(plan, changes=(other_value, mesh))) != digest
    assert plan_digest(replace(plan, cluster="https://other/hpc")) != digest


def test_sensitive_values_are_never_saved(tmp_path: Path) -> None:
    leaky = Change(
        "a",
        Action.UPDATE,
        diffs=(FieldDiff(DiffSection.ENV, "T", "old-s3cret", "new-s3cret", sensitive=True),),
    )
    path = tmp_path / "plan.json"
    save_plan(Plan("s", "c", (leaky,)), path, extra={})
    assert "s3cret" not in path.read_text()
    diff = load_plan(path).changes[0].diffs[0]
    assert (diff.before, diff.after, diff.sensitive) == ("(sensitive)", "(sensitive)", True)


def test_extra_must_be_json_data(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        save_plan(_plan(), tmp_path / "plan.json", extra={"x": object()})
    assert not (tmp_path / "plan.json").exists()


def _saved(tmp_path: Path, **edits: object) -> Path:
    path = tmp_path / "plan.json"
    save_plan(_plan(), path, extra={})
    document = json.loads(path.read_text())
    document.update(edits)
    path.write_text(json.dumps(document))
    return path


def test_a_later_minor_version_with_unknown_fields_is_read(tmp_path: Path) -> None:
    path = _saved(tmp_path, format_version="1.7", drift=[{"key": "x"}])
    assert load_plan(path) == _plan()
    assert FORMAT_VERSION == "1.3"


def test_an_unknown_major_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan(_saved(tmp_path, format_version="2.0"))
    assert caught.value.code == "plan-format-unsupported"
    assert "format_version 2.0" in caught.value.message and "1.x" in caught.value.message


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "no format_version"),
        ('{"format_version": "one"}', "not MAJOR.MINOR"),
    ],
)
def test_a_file_that_is_not_a_plan_is_refused(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert caught.value.code == "plan-file-invalid" and needle in caught.value.message


def test_a_field_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    document["changes"][0]["live_id"] = "44"
    path.write_text(json.dumps(document))
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert caught.value.code == "plan-file-invalid" and "changes.0.live_id" in caught.value.message


def test_an_edited_plan_is_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    document["changes"][0]["action"] = "update"
    path.write_text(json.dumps(document))
    with pytest.raises(PlanFileError) as caught:
        load_plan(path)
    assert caught.value.code == "plan-file-modified"


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError) as caught:
        load_plan(tmp_path / "nope.json")
    assert caught.value.code == "plan-file-unreadable"
