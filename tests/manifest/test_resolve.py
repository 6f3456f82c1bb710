"""Resolution: vars, defaults, properties, matrix, sweeps, dependencies, digests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpcspec.hpcpack.definition import SecretRef
from hpcspec.manifest import InvalidManifest, parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack
from tests.conftest import examples

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def resolved(text: str, overrides: dict[str, str] | None = None) -> ResolvedStack:
    return resolve(parse_manifest(text, file="m.yaml"), overrides)


def dump(data: dict[str, Any]) -> str:
    # JSON is YAML, and keeps key order (the safe dumper would sort keys).
    return json.dumps(data, indent=2)


MANIFEST = """\
apiVersion: hpcspec/v1
stack: cfd
vars: {cases: 3, solver: solve.exe}
defaults:
  properties: {Project: cfd, NodeGroups: [ComputeNodes], UnitType: Core, Priority: Normal}
  customProperties: {team: aero}
  retries: 1
jobs:
  mesh:
    properties:
      Name: Mesh for ${stack}
      Priority: AboveNormal
      RuntimeSeconds: 2h
    env:
      OMP_NUM_THREADS: 4
      LICENSE_KEY: {secret: env:CFD_LICENSE}
    runAs: {userName: 'HPC\\svc', password: {secret: 'file:/run/pw'}}
    tasks:
      prep: {commandLine: prep.exe --out mesh, workDirectory: '\\\\fs\\cfd'}
      solve:
        commandLine: ${solver} --case * --literal $${HOME}
        sweep: {start: 1, end: "${cases}", increment: 1}
        dependsOn: [prep]
      post:
        commandLine: post.exe --mesh ${matrix.mesh} --re ${matrix.re}
        matrix: {mesh: [coarse, fine], re: [1e5, 1e6]}
        dependsOn: [solve]
        properties: {IsRerunnable: true, StdOutFilePath: 'post-${matrix.mesh}.log'}
  report:
    dependsOn: [mesh]
    retries: 0
    tasks: {render: {commandLine: 'report.exe ${job}'}}
"""


def test_design_example_resolves() -> None:
    stack = resolved(MANIFEST)
    mesh = stack.jobs["mesh"]
    props = dict(mesh.definition.properties)
    assert props["Name"] == "Mesh for cfd"
    assert props["Priority"] == 3000  # job wins over defaults
    assert props["Project"] == "cfd" and props["NodeGroups"] == "ComputeNodes"
    assert props["RuntimeSeconds"] == 7200
    assert dict(mesh.definition.custom_properties) == {"team": "aero"}
    env = dict(mesh.definition.env)
    assert env["OMP_NUM_THREADS"] == "4"
    assert env["LICENSE_KEY"] == SecretRef("env", "CFD_LICENSE")
    assert mesh.definition.run_as is not None
    assert mesh.definition.run_as.password == SecretRef("file", "/run/pw")
    names = [t.name for t in mesh.definition.tasks]
    assert names == [
        "prep",
        "solve",
        "post[mesh=coarse;re=1e5]",
        "post[mesh=coarse;re=1e6]",
        "post[mesh=fine;re=1e5]",
        "post[mesh=fine;re=1e6]",
    ]
    solve = mesh.definition.tasks[1]
    assert solve.command_line == "solve.exe --case * --literal ${HOME}"
    assert solve.sweep is not None and (solve.sweep.start, solve.sweep.end) == (1, 3)
    assert solve.depends_on == ("prep",)
    post = mesh.definition.tasks[2]
    assert post.command_line == "post.exe --mesh coarse --re 1e5"
    assert post.get("StdOutFilePath") == "post-coarse.log" and post.get("IsRerunnable") is True
    assert post.depends_on == ("solve",)
    assert mesh.retries == 1 and stack.jobs["report"].retries == 0
    assert stack.jobs["report"].definition.tasks[0].command_line == "report.exe report"
    assert stack.jobs["report"].definition.name == "report"  # Name defaults to the key
    assert stack.job_order() == ["mesh", "report"]


def test_var_overrides_change_the_digest() -> None:
    base = resolved(MANIFEST)
    nightly = resolved(MANIFEST, {"cases": "5"})
    assert nightly.jobs["mesh"].definition.tasks[1].sweep.end == 5  # type: ignore[union-attr]
    assert nightly.jobs["mesh"].digest != base.jobs["mesh"].digest
    assert nightly.jobs["report"].digest == base.jobs["report"].digest


def test_digest_is_stable_and_never_holds_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CFD_LICENSE", "canary-1")
    first = resolved(MANIFEST).jobs["mesh"].digest
    monkeypatch.setenv("CFD_LICENSE", "canary-2")
    assert resolved(MANIFEST).jobs["mesh"].digest == first
    assert "canary" not in repr(resolved(MANIFEST))


def test_matrix_include_and_exclude() -> None:
    stack = resolved(
        "apiVersion: hpcspec/v1\nstack: s\njobs:\n  a:\n    tasks:\n      t:\n"
        "        commandLine: run ${matrix.x} ${matrix.y}\n"
        "        matrix:\n          x: [1, 2]\n          y: [a, b]\n"
        "          exclude: [{x: 2, y: b}]\n          include: [{x: 3, y: c}]\n"
    )
    assert [t.name for t in stack.jobs["a"].definition.tasks] == [
        "t[x=1;y=a]",
        "t[x=1;y=b]",
        "t[x=2;y=a]",
        "t[x=3;y=c]",
    ]


def test_more_than_100_sweep_tasks_is_refused() -> None:
    tasks = "".join(
        f"      s{i}: {{commandLine: echo *, sweep: {{start: 1, end: 2}}}}\n" for i in range(101)
    )
    with pytest.raises(InvalidManifest, match="more than 100 parametric sweep tasks") as raised:
        resolved("apiVersion: hpcspec/v1\nstack: s\njobs:\n  a:\n    tasks:\n" + tasks)
    assert raised.value.problems[0].location.line == 106


def test_escaped_dollar_brace_stays_literal() -> None:
    stack = resolved(
        "apiVersion: hpcspec/v1\nstack: s\njobs:\n  a:\n    tasks:\n"
        "      t: {commandLine: 'echo $${PATH} ${stack} $$'}\n"
    )
    assert stack.jobs["a"].definition.tasks[0].command_line == "echo ${PATH} s $$"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_resolve(path: Path) -> None:
    stack = resolve(parse_manifest(path.read_text(), file=str(path)))
    assert stack.jobs
    for job in stack.jobs.values():
        assert job.definition.tasks and len(job.digest) == 16


_names = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="$"),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and s.strip())


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    jobs: dict[str, Any] = {}
    for key in draw(st.lists(_names, min_size=1, max_size=3, unique=True)):
        tasks = {
            name: {"commandLine": draw(_text)}
            for name in draw(st.lists(_names, min_size=1, max_size=4, unique_by=str.lower))
        }
        job: dict[str, Any] = {"tasks": tasks}
        if draw(st.booleans()):
            job["properties"] = {
                "Priority": draw(st.integers(0, 4000)),
                "MaxCores": draw(st.integers(1, 64)),
                "Project": draw(_text),
            }
        if draw(st.booleans()):
            job["env"] = {"VAR": draw(_text)}
        jobs[key] = job
    return {"apiVersion": "hpcspec/v1", "stack": draw(_names), "jobs": jobs}


@settings(max_examples=examples(40), deadline=None)
@given(manifests())
def test_generated_manifests_resolve_to_what_they_say(data: dict[str, Any]) -> None:
    stack = resolve(parse_manifest(dump(data), file="gen.yaml"))
    again = resolve(parse_manifest(dump(data), file="gen.yaml"))
    assert list(stack.jobs) == list(data["jobs"])
    for key, job in stack.jobs.items():
        assert job.digest == again.jobs[key].digest
        given_tasks = data["jobs"][key]["tasks"]
        assert [t.name for t in job.definition.tasks] == list(given_tasks)
        assert [t.command_line for t in job.definition.tasks] == [
            t["commandLine"] for t in given_tasks.values()
        ]
        props = data["jobs"][key].get("properties")
        if props:
            assert job.definition.get("Priority") == props["Priority"]
            assert job.definition.get("Project") == props["Project"]


def test_ampersand_with_a_flow_secret_loads() -> None:
    # libyaml refuses `env:X` in a flow mapping; the anchor scan must fall back as the load does.
    stack = resolved(
        "apiVersion: hpcspec/v1\nstack: s\njobs:\n  a:\n    env: {K: {secret: env:X}}\n"
        "    tasks:\n      t: {commandLine: 'a && b'}\n"
    )
    assert stack.jobs["a"].definition.tasks[0].command_line == "a && b"
