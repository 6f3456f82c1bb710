"""`moved:` and `ignoreChanges:` in the manifest: checked, located, and never part of a digest."""

from __future__ import annotations

import pytest

from hpcspec.manifest import InvalidManifest, parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack, SpecChangePolicy

BASE = """\
apiVersion: hpcspec/v1
stack: s
{defaults}jobs:
  a:
{job}    properties: {{Priority: Normal}}
    tasks: {{t: {{commandLine: echo}}}}
  b:
    tasks: {{t: {{commandLine: echo}}}}
{moved}"""


def stack(defaults: str = "", job: str = "", moved: str = "") -> ResolvedStack:
    text = BASE.format(defaults=defaults, job=job, moved=moved)
    return resolve(parse_manifest(text, file="m.yaml"))


def test_ignore_changes_in_defaults_applies_to_every_job() -> None:
    resolved = stack(defaults="defaults: {ignoreChanges: [priority, Project]}\n")
    assert resolved.jobs["a"].ignore_changes == {"Priority", "Project"}
    assert resolved.jobs["b"].ignore_changes == {"Priority", "Project"}


def test_a_jobs_ignore_changes_replaces_the_defaults_list() -> None:
    resolved = stack(
        defaults="defaults: {ignoreChanges: [Priority]}\n", job="    ignoreChanges: []\n"
    )
    assert resolved.jobs["a"].ignore_changes == frozenset()
    assert resolved.jobs["b"].ignore_changes == {"Priority"}


def test_ignore_changes_is_not_part_of_the_digest() -> None:
    plain = stack()
    ignoring = stack(job="    ignoreChanges: [Priority]\n")
    assert ignoring.jobs["a"].digest == plain.jobs["a"].digest


def test_an_unknown_ignore_changes_name_is_located_with_a_guess() -> None:
    with pytest.raises(InvalidManifest) as caught:
        stack(job="    ignoreChanges: [Priorty]\n")
    error = caught.value.problems[0]
    assert error.code == "unknown-property"
    assert error.location.line == 5
    assert error.location.path == "jobs.a.ignoreChanges[0]"
    assert "Priority" in (error.hint or "")


def test_moved_maps_old_keys_to_jobs_and_leaves_digests_alone() -> None:
    resolved = stack(moved="moved: {old: a}\n")
    assert resolved.moved == {"old": "a"}
    assert resolved.jobs["a"].digest == stack().jobs["a"].digest


@pytest.mark.parametrize(
    ("moved", "expected"),
    [
        ("moved: {a: b}\n", "is still a job"),
        ("moved: {old: nowhere}\n", "not a job under jobs:"),
        ("moved: {x: a, y: a}\n", "both move to 'a'"),
        ("moved: {'bad key': a}\n", "not a pair of job keys"),
    ],
)
def test_a_move_that_cannot_hold_is_a_located_error(moved: str, expected: str) -> None:
    with pytest.raises(InvalidManifest) as caught:
        stack(moved=moved)
    error = caught.value.problems[0]
    assert expected in error.message
    assert error.location.line is not None and error.location.line >= 8


def test_replace_cancel_first_is_an_on_spec_change_policy() -> None:
    resolved = stack(job="    onSpecChange: replace-cancel-first\n")
    assert resolved.jobs["a"].on_spec_change is SpecChangePolicy.REPLACE_CANCEL_FIRST
