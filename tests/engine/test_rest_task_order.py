"""A REST create adds tasks concurrently; JobTaskIds still follow the manifest (issue 17)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator.faults import FaultPlan, FaultRule
from hpcspec.engine.events import Recorder
from hpcspec.engine.journal import Journal
from hpcspec.engine.ordered_adds import add_in_order
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.plan import Action
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.definition import TaskDefinition
from hpcspec.manifest import parse_manifest, resolve
from tests.engine.conftest import client_for

# Task adds wait 0–30 ms at random, so concurrent adds arrive in a scrambled order.
JITTER = FaultPlan((FaultRule(match="POST /hpc/jobs/*/tasks", jitter_ms=30),), seed=7)


def manifest(names: list[str]) -> str:
    lines = ["apiVersion: hpcspec/v1", "stack: rest-order", "jobs:", "  j:", "    tasks:"]
    for n, name in enumerate(names):
        lines += [f"      {name}:", f"        commandLine: 'echo {name}'"]
        if n % 5 == 0:  # properties only some tasks set: none may leak to a neighbour
            lines += ["        workDirectory: /tmp", "        env: {WHO: " + name + "}"]
        if n % 7 == 0:
            lines += ["        customProperties: {tag: " + name + "}"]
        if n == 3:
            lines += ["        sweep: {start: 1, end: 3, increment: 1}"]
        if n == len(names) - 1:
            lines += [f"        dependsOn: [{names[0]}]"]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_rest_create_adds_tasks_concurrently_with_exact_names_and_order(
    start_emulator: Callable[..., Any], tmp_path: Path
) -> None:
    running = start_emulator(faults=JITTER)
    client = client_for(running)
    names = [f"t{n:02d}" for n in range(40)]
    random.Random(3).shuffle(names)  # manifest order is not name order
    stack = resolve(parse_manifest(manifest(names), file="m.yaml"))
    plan = plan_stack(client, stack, cluster_name="emulator")
    options = ApplyOptions(via=CreateMethod.REST, parallelism=8)
    journal = Journal(tmp_path / f"{stack.stack}.jsonl")
    result = apply_plan(client, stack, plan, journal, options=options, observer=Recorder())
    assert [r.outcome for r in result.results] == [Outcome.DONE]
    job_id = result.results[0].job_id
    assert job_id is not None
    columns = ("JobTaskId", "Name", "CommandLine", "WorkDirectory", "Type", "DependsOn")
    rows = list(client.iter_tasks(job_id, properties=columns, expand_parametric=False))
    by_id = sorted(rows, key=lambda r: int(r.text("JobTaskId")))
    assert [int(r.text("JobTaskId")) for r in by_id] == list(range(1, 41))
    assert [r.text("Name") for r in by_id] == names
    assert [r.text("CommandLine") for r in by_id] == [f"echo {n}" for n in names]
    assert [bool(r.text("WorkDirectory")) for r in by_id] == [n % 5 == 0 for n in range(40)]
    assert by_id[3].text("Type") == "ParametricSweep"
    assert by_id[-1].text("DependsOn") == names[0]
    assert dict(client.task_env(job_id, 6).items()) == {"WHO": names[5]}
    assert dict(client.task_custom_properties(job_id, 8).items()) == {"tag": names[7]}
    again = plan_stack(client, stack, cluster_name="emulator")
    assert [c.action for c in again.changes] == [Action.NO_OP]
    client.close()


def test_ids_follow_task_order_whatever_order_the_adds_arrive_in() -> None:
    tasks = [TaskDefinition(name=f"t{n}", command_line="x") for n in range(30)]
    lock, next_id, filled = threading.Lock(), iter(range(101, 200)), {}

    def add(task: TaskDefinition) -> int:
        time.sleep(random.random() / 200)  # arrival order scrambled
        with lock:
            return next(next_id)

    def fill(task_id: int, task: TaskDefinition, over_placeholder: bool) -> None:
        assert over_placeholder
        filled[task_id] = task.name

    with ThreadPoolExecutor(8) as pool:
        ids = add_in_order(tasks, token="tok", add=add, fill=fill, pool=pool)
    assert ids == list(range(101, 131))
    assert [filled[i] for i in ids] == [t.name for t in tasks]


def test_a_failed_add_stops_the_tasks_not_started_yet() -> None:
    tasks = [TaskDefinition(name=f"t{n}", command_line="x") for n in range(200)]
    sent: list[str] = []

    def add(task: TaskDefinition) -> int:
        sent.append(task.name)
        if len(sent) == 3:
            raise HpcspecError("refused", code="refused")
        time.sleep(0.001)
        return len(sent)

    with ThreadPoolExecutor(2) as pool, pytest.raises(HpcspecError):
        add_in_order(tasks, token="tok", add=add, fill=lambda *_: None, pool=pool)
    assert len(sent) < 20
