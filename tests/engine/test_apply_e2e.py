"""Plan and apply over real HTTP against the emulator: create, converge, no perpetual diffs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.events import Recorder
from hpcspec.engine.journal import Journal
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.plan import Action, PlanOptions
from hpcspec.engine.status import stack_status
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.manifest import load_and_resolve, parse_manifest, resolve
from hpcspec.manifest.resolve import DesiredState, ResolvedStack
from tests.engine.conftest import client_for

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def unique(stack: ResolvedStack) -> ResolvedStack:
    """The same manifest under a stack name no other test uses (the emulator is shared)."""
    name = f"{stack.stack}-{uuid.uuid4().hex[:6]}"
    return replace(stack, stack=name)


def converge(
    client: HpcPackClient,
    stack: ResolvedStack,
    tmp: Path,
    *,
    via: str = "xml",
    options: PlanOptions | None = None,
) -> Any:
    plan = plan_stack(client, stack, cluster_name="emulator", options=options)
    options = ApplyOptions(via=CreateMethod(via))
    journal = Journal(tmp / f"{stack.stack}.jsonl")
    result = apply_plan(client, stack, plan, journal, options=options, observer=Recorder())
    return plan, result


def wait_ended(client: HpcPackClient, stack: ResolvedStack, timeout: float = 30) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        rows = stack_status(client, stack.stack, list(stack.jobs))
        if all(r.ended for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.parametrize("via", ["xml", "rest"])
def test_every_example_applies_finishes_and_then_plans_clean(
    client: HpcPackClient, path: Path, via: str, tmp_path: Path
) -> None:
    stack = unique(load_and_resolve(path))
    plan, result = converge(client, stack, tmp_path, via=via)
    assert {c.action for c in plan.changes} == {Action.CREATE}
    assert [r.outcome for r in result.results] == [Outcome.DONE] * len(stack.jobs)
    rows = wait_ended(client, stack)
    assert {r.state for r in rows} == {"Finished"}, rows
    again = plan_stack(client, stack, cluster_name="emulator")
    assert not again.has_changes, [(c.key, c.action, c.reasons, c.diffs) for c in again.changes]


def test_xml_and_rest_creates_give_the_same_live_job(client: HpcPackClient, tmp_path: Path) -> None:
    from hpcspec.engine.discovery import list_stack

    base = load_and_resolve(EXAMPLES[0].parent / "multi-job.yaml")
    defs = []
    for via in ("xml", "rest"):
        stack = replace(unique(base), jobs={"solve": replace(base.jobs["solve"], depends_on=())})
        stack = replace(
            stack, jobs={"solve": replace(stack.jobs["solve"], state=DesiredState.CONFIGURING)}
        )
        converge(client, stack, tmp_path, via=via)
        job = list_stack(client, stack.stack, ["solve"]).by_key["solve"][0]
        detailed = client.read_details(job)
        assert detailed.definition is not None
        custom = {
            k: v
            for k, v in detailed.definition.custom_properties
            if k not in ("hpcspec.token", "hpcspec.stack")
        }
        defs.append(replace(detailed.definition, custom_properties=tuple(sorted(custom.items()))))
    assert defs[0] == defs[1]


def test_a_second_apply_changes_nothing(client: HpcPackClient, tmp_path: Path) -> None:
    stack = unique(load_and_resolve(EXAMPLES[0].parent / "quickstart.yaml"))
    converge(client, stack, tmp_path)
    plan, result = converge(client, stack, tmp_path)
    assert not plan.has_changes
    assert {r.outcome for r in result.results} == {Outcome.UNCHANGED}


@pytest.mark.parametrize("via", ["xml", "rest"])
def test_a_job_property_set_to_the_empty_string_converges(
    client: HpcPackClient, tmp_path: Path, via: str
) -> None:
    """The server keeps `Project: ""` as the empty string; the read-back leaves empty values
    out (`codec.canonical`), so an empty desired value must match an absent live one."""
    text = "apiVersion: hpcspec/v1\nstack: s\njobs:\n  a:\n    state: configuring\n"
    text += "    properties: {Project: ''}\n    tasks:\n      t: {commandLine: echo}\n"
    stack = unique(resolve(parse_manifest(text, file="m.yaml")))
    converge(client, stack, tmp_path, via=via)
    again = plan_stack(client, stack, cluster_name="emulator")
    assert not again.has_changes, [(c.key, c.action, c.diffs) for c in again.changes]


MANIFEST = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  long:
    properties: {{Name: {name}, Priority: {priority}, MinCores: {cores}, MaxCores: 4}}
    tasks:
      work: {{commandLine: 'sleep:{sleep}'}}
"""


def manifest(
    stack: str, *, name: str = "Long", priority: str = "Normal", cores: int = 1, sleep: int = 30
) -> ResolvedStack:
    text = MANIFEST.format(stack=stack, name=name, priority=priority, cores=cores, sleep=sleep)
    return resolve(parse_manifest(text, file="m.yaml"))


@pytest.fixture
def own_client(start_emulator: Any) -> Iterator[HpcPackClient]:
    """A client on an emulator of the test's own: a `manifest()` job holds up to 4 cores for
    30 s, and two of them on the shared emulator (8 cores) queue every later job of the
    session on that worker for as long."""
    made = client_for(start_emulator())
    yield made
    made.close()


def wait_state(client: HpcPackClient, stack: ResolvedStack, state: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if stack_status(client, stack.stack, ["long"])[0].state == state:
            return
        time.sleep(0.1)
    raise AssertionError(f"never reached {state}")


def test_running_job_rename_is_an_update_that_converges(
    own_client: HpcPackClient, tmp_path: Path
) -> None:
    client = own_client
    name = f"rename-{uuid.uuid4().hex[:6]}"
    converge(client, manifest(name), tmp_path)
    wait_state(client, manifest(name), "Running")
    renamed = manifest(name, name="Renamed", priority="AboveNormal")
    plan, result = converge(client, renamed, tmp_path)
    assert plan.changes[0].action is Action.UPDATE, plan.changes[0].reasons
    assert result.results[0].outcome is Outcome.DONE, result.results[0].message
    again = plan_stack(client, renamed, cluster_name="emulator")
    assert not again.has_changes, again.changes[0].reasons


def test_running_job_core_change_is_refused_without_consent(
    own_client: HpcPackClient, tmp_path: Path
) -> None:
    client = own_client
    name = f"cores-{uuid.uuid4().hex[:6]}"
    converge(client, manifest(name), tmp_path)
    wait_state(client, manifest(name), "Running")
    plan, result = converge(client, manifest(name, cores=2), tmp_path)
    assert plan.changes[0].action is Action.REPLACE and plan.changes[0].blocks
    assert result.results[0].outcome is Outcome.REFUSED
    plan, result = converge(
        client, manifest(name, cores=2), tmp_path, options=PlanOptions(allow_replace_running=True)
    )
    assert result.results[0].outcome is Outcome.DONE
    again = plan_stack(client, manifest(name, cores=2), cluster_name="emulator")
    assert not again.has_changes
    old = plan.changes[0].live_id
    assert client.job_properties(old)["State"] in ("Canceled", "Canceling")
