"""Modify-by-state rules and sweep rules agree with the reference tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpcspec.hpcpack import modify_rules, sweep
from hpcspec.hpcpack.states import JobState, TaskState


def test_modify_rules_match_job_modify_rules_json(reference: Path) -> None:
    rules = json.loads((reference / "derived" / "job-modify-rules.json").read_text())
    assert set(rules["PropsCanBeSetAnyTime"]) == modify_rules.ANY_TIME
    queued = set(rules["Queued_WithoutProfileChecking"]) | set(rules["Queued_WithProfileChecking"])
    running = set(rules["Running_WithoutProfileChecking"]) | set(
        rules["Running_WithProfileChecking"]
    )
    assert modify_rules.SETTABLE_BY_STATE[JobState.Queued] == queued
    assert modify_rules.SETTABLE_BY_STATE[JobState.Running] == running


@pytest.mark.parametrize(
    ("name", "state", "allowed"),
    [
        ("Name", JobState.Configuring, True),
        ("Name", JobState.Queued, False),
        ("Name", JobState.Running, True),
        ("Priority", JobState.Queued, True),
        ("MinCores", JobState.Running, False),
        ("Name", JobState.Finished, False),
        ("Progress", JobState.Finished, True),
    ],
)
def test_can_set_job_property(name: str, state: JobState, allowed: bool) -> None:
    assert modify_rules.can_set_job_property(name, state) is allowed


def test_tasks_change_only_while_configuring() -> None:
    assert modify_rules.can_modify_tasks(JobState.Configuring)
    assert not modify_rules.can_modify_tasks(JobState.Queued)


def test_sweep_vectors(reference: Path) -> None:
    data = json.loads((reference / "derived" / "parametric-sweep-vectors.json").read_text())
    for vector in data["expansion_vectors"]:
        assert sweep.substitute(vector["template"], vector["value"]) == vector["expected"], vector
    for vector in data["instance_vectors"]:
        expected = [i["value"] for i in vector["instances"]]
        assert sweep.instance_values(vector["start"], vector["end"], vector["inc"]) == expected


def test_states_parse_names_and_numbers() -> None:
    assert JobState.parse("running") is JobState.Running
    assert JobState.parse("16") is JobState.Queued
    assert TaskState.parse("Queued") is TaskState.Queued
    assert TaskState.Queued.value == 8
    with pytest.raises(ValueError):
        JobState.parse("Sleeping")
    assert JobState.Finished.is_terminal and JobState.Queued.is_active


@pytest.mark.parametrize("text", ["running", " Running ", "32", "0", "Queued", "Sleeping", ""])
def test_a_state_parsed_again_is_what_it_was_the_first_time(text: str) -> None:
    # the states of a listing's rows are remembered; each enum keeps its own
    for cls in (JobState, TaskState):
        answers = []
        for _ in range(2):
            try:
                answers.append(cls.parse(text))
            except ValueError as refused:
                answers.append(str(refused))
        assert answers[0] == answers[1]
        assert type(answers[0]) in (cls, str)
