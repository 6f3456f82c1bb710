"""Apply then plan shows no changes, for Hypothesis-generated manifests, over HTTP, both paths.

Manifests vary job and task properties, env, custom properties, task dependencies, sweeps,
job dependencies and the desired state; each example gets its own stack name and is applied
with `--create-via xml` or `rest` semantics (the engine, as the CLI calls it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcspec.emulator import Timings
from hpcspec.engine.outcomes import Outcome
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.manifest import parse_manifest, resolve
from tests.apply.stacks import apply_once
from tests.conftest import examples
from tests.emulator_fixture import _start
from tests.engine.conftest import client_for

SPARSE = ClusterProfile(listing_omits_empty=True)

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


@pytest.fixture(scope="module")
def sparse_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A cluster whose rows leave empty values out (`listing.omits_empty`, measured)."""
    running = _start(tmp_path_factory.mktemp("sparse"), nodes=2, cores_per_node=8,
                     timings=Timings(tick=0.05, simulate=0.1), profile=SPARSE)  # fmt: skip
    yield running
    running.stop()


@pytest.mark.parametrize("via", ["xml", "rest"])
def test_generated_manifests_apply_then_plan_clean(cluster: Any, tmp_path: Path, via: str) -> None:
    _apply_then_plan_clean(client_for(cluster), tmp_path, via)


@pytest.mark.parametrize("via", ["xml", "rest"])
def test_generated_manifests_apply_then_plan_clean_where_rows_leave_empty_values_out(
    sparse_cluster: Any, tmp_path: Path, via: str
) -> None:
    """Empty values a manifest sets (`Project: ""`) or the server fills in read back as left
    out: neither a plan that never converges nor a job of the stack missed."""
    _apply_then_plan_clean(client_for(sparse_cluster, profile=SPARSE), tmp_path, via, empty=True)


def _apply_then_plan_clean(client: Any, tmp_path: Path, via: str, *, empty: bool = False) -> None:

    @settings(
        max_examples=examples(15),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(manifests(), st.booleans())
    def check(data: dict[str, Any], blank: bool) -> None:
        data = {**data, "stack": f"gen-{uuid.uuid4().hex[:8]}"}
        if empty and blank:  # an empty value the manifest sets on every job
            for job in data["jobs"].values():
                job["properties"] = {**job.get("properties", {}), "Project": ""}
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
