"""The JSON renderer: the versioned plan document, deterministic, Terraform-style actions."""

from __future__ import annotations

import json

from hpcspec.engine.plan import Action, Change, DiffSection, FieldDiff, Plan
from hpcspec.engine.planfile import plan_document
from hpcspec.render import render_json
from tests.render import plans


def test_document_has_version_summary_and_flags() -> None:
    plan = plans.every_action()
    doc = json.loads(render_json(plan))
    assert doc["format_version"] == "1.3"
    assert (doc["stack"], doc["cluster"]) == ("cfd-nightly", "https://head.example.org/hpc")
    assert doc["summary"] == {a.value: plan.counts()[a] for a in Action}
    assert doc["has_changes"] is True and doc["blocked"] is True and doc["insecure"] is True
    assert doc == plan_document(plan)


def test_actions_use_terraform_vocabulary() -> None:
    doc = json.loads(render_json(plans.every_action()))
    actions = {c["action"]: c["actions"] for c in doc["changes"]}
    assert actions == {
        "create": ["create"],
        "update": ["update"],
        "submit": ["update"],
        "replace": ["delete", "create"],
        "rerun": ["create"],
        "extend": ["create"],
        "requeue": ["update"],
        "cancel": ["delete"],
        "no-op": ["no-op"],
    }


def test_each_change_records_what_the_plan_saw() -> None:
    doc = json.loads(render_json(plans.every_action()))
    solve = next(c for c in doc["changes"] if c["key"] == "solve")
    assert solve["live_id"] == 44 and solve["live_state"] == "Running"
    assert solve["live_change_time"] == "2026-11-28T09:30:00+00:00"
    assert solve["live_digest"] == "000000000000" and solve["desired_digest"]
    assert solve["running_tasks"] == 3
    assert solve["blocks"][0]["code"] == "replace-running"
    assert solve["diffs"] == [
        {
            "section": "property",
            "name": "MinCores",
            "before": "4",
            "after": "8",
            "sensitive": False,
            "allowed_now": False,
            "literal": True,
        }
    ]


def test_output_is_deterministic_with_sorted_keys() -> None:
    first, second = render_json(plans.every_action()), render_json(plans.every_action())
    assert first == second
    doc = json.loads(first)
    assert list(doc) == sorted(doc)
    assert all(list(c) == sorted(c) for c in doc["changes"])
    assert first.endswith("}\n") and "\r" not in first


def test_sensitive_diffs_carry_no_values() -> None:
    change = Change(
        "a",
        Action.UPDATE,
        diffs=(FieldDiff(DiffSection.ENV, "TOKEN", "old-secret", "new", sensitive=True),),
    )
    text = render_json(Plan("s", "c", (change,)))
    assert "old-secret" not in text and '"new"' not in text
    diff = json.loads(text)["changes"][0]["diffs"][0]
    assert (diff["before"], diff["after"], diff["sensitive"]) == (
        "(sensitive)",
        "(sensitive)",
        True,
    )
