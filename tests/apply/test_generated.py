"""Apply then plan shows no changes, for Hypothesis-generated manifests, over HTTP, both paths.

Manifests vary job and task properties, env, custom properties, task dependencies, sweeps,
job dependencies and the desired state; each example gets its own stack name and is applied
with `--create-via xml` or `rest` semantics (the engine, as the CLI calls it).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcspec.engine.outcomes import Outcome
from hpcspec.manifest import parse_manifest, resolve
from tests.apply.stacks import apply_once
from tests.conftest import examples
from tests.engine.conftest import client_for

_names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="$*"),
    min_size=1,
    max_size=16,
).filter(lambda s: s.strip() == s)


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    jobs: dict[str, Any] = {}
    for key in draw(st.lists(_names, min_size=1, max_size=3, unique=True)):
        names = draw(st.lists(_names, min_size=1, max_size=3, unique_by=str.lower))
        tasks: dict[str, Any] = {}
        for n, name in enumerate(names):
            task: dict[str, Any] = {"commandLine": "echo " + draw(_text)}
            if n and draw(st.booleans()):
                task["dependsOn"] = [names[n - 1]]
            if draw(st.booleans()):
                task["properties"] = {"MinCores": 1, "MaxCores": draw(st.integers(1, 4))}
            if draw(st.booleans()):
                task["env"] = {"T": draw(_text)}
            if n == 0 and draw(st.booleans()):
                task["commandLine"] = "echo case *"
                task["sweep"] = {"start": 1, "end": draw(st.integers(1, 5)), "increment": 1}
            tasks[name] = task
        job: dict[str, Any] = {"state": draw(st.sampled_from(["configuring", "submitted"]))}
        if jobs and draw(st.booleans()):
            job["dependsOn"] = [draw(st.sampled_from(sorted(jobs)))]
            job["state"] = "submitted"
            jobs[job["dependsOn"][0]]["state"] = "submitted"
        if draw(st.booleans()):
            job["properties"] = {
                "Priority": draw(st.sampled_from(["Lowest", "Normal", "Highest", "Normal+5"])),
                "Project": draw(_text),
                "RuntimeSeconds": draw(st.sampled_from(["10m", "1h", 120])),
            }
        if draw(st.booleans()):
            job["env"] = {"VAR": draw(_text)}
        if draw(st.booleans()):
            job["customProperties"] = {"team": draw(_text)}
        job["tasks"] = tasks
        jobs[key] = job
    return {"apiVersion": "hpcspec/v1", "stack": "gen", "jobs": jobs}


@pytest.mark.parametrize("via", ["xml", "rest"])
def test_generated_manifests_apply_then_plan_clean(cluster: Any, tmp_path: Path, via: str) -> None:
    client = client_for(cluster)

    @settings(
        max_examples=examples(15),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(manifests())
    def check(data: dict[str, Any]) -> None:
        data = {**data, "stack": f"gen-{uuid.uuid4().hex[:8]}"}
        stack = resolve(parse_manifest(json.dumps(data), file="gen.yaml"))
        changed, result = apply_once(client, stack, tmp_path, via=via)
        assert changed and result is not None
        assert {r.outcome for r in result.results} == {Outcome.DONE}, result
        changed, _ = apply_once(client, stack, tmp_path, via=via)
        assert not changed, data

    try:
        check()
    finally:
        client.close()
