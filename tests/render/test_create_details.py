"""A create shows everything a reviewer needs, with values as typed (issue 14, finding 11):
task and job dependencies, task properties, retries, the run-as user; numbers unquoted and
inner quotes escaped."""

from __future__ import annotations

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.planner import make_plan
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.render import render_text

MANIFEST = """\
apiVersion: hpcspec/v1
stack: review
jobs:
  prep:
    tasks: {t: {commandLine: prep.exe}}
  solve:
    dependsOn: [prep]
    retries: 2
    runAs: {userName: 'HPC\\\\svc-cfd', password: {secret: 'env:SVC_PASSWORD'}}
    properties: {MaxCores: 2, Name: 'say "hi"'}
    tasks:
      mesh: {commandLine: mesh.exe, properties: {MinCores: 2}}
      run: {commandLine: 'solve.exe --title "a b"', dependsOn: [mesh]}
"""


def test_a_create_lists_dependencies_task_properties_retries_and_run_as_as_typed() -> None:
    stack = resolve(parse_manifest(MANIFEST, file="m.yaml"))
    text = render_text(make_plan(stack, LiveStack(), cluster="c"), color=False)
    solve = text[text.index("+ solve: create") :]
    assert "+ MaxCores: 2\n" in solve  # a number, not "2"
    assert '+ Name: "say \\"hi\\""' in solve  # inner quotes escaped
    assert "+ dependsOn: prep" in solve.replace('"', "")
    assert "+ retries: 2\n" in solve
    assert "+ runAs.userName:" in solve and "svc-cfd" in solve
    assert "+ tasks.mesh.MinCores: 2\n" in solve
    assert "+ tasks.run.dependsOn:" in solve and "mesh" in solve
    assert '+ tasks.run: "solve.exe --title \\"a b\\""' in solve
