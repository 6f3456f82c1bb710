"""DESIGN.md §3's table over real HTTP, and the plan's request budget.

A private emulator is seeded with 5,000 unrelated jobs in every state and of other users;
a stack is applied into it and moved into each live state, then planned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpcspec.emulator import Timings
from hpcspec.emulator.seed import unrelated_jobs
from hpcspec.engine.events import Recorder
from hpcspec.engine.journal import Journal
from hpcspec.engine.pipeline import apply_plan, plan_stack
from hpcspec.engine.plan import Action, PlanOptions
from hpcspec.engine.status import stack_status
from hpcspec.engine.steps import ApplyOptions
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack
from tests.engine.conftest import client_for


class Counting:
    """Counts the requests a client's transport sends (a spy, not a fake)."""

    def __init__(self, client: HpcPackClient) -> None:
        self.calls: list[tuple[str, str]] = []
        original = client.transport.request

        def request(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, path))
            return original(method, path, *args, **kwargs)

        client.transport.request = request  # type: ignore[method-assign]


def stack_of(
    jobs: int, *, name: str = "budget", command: str = "echo hi", extra: str = ""
) -> ResolvedStack:
    text = f"apiVersion: hpcspec/v1\nstack: {name}\njobs:\n"
    for i in range(jobs):
        text += f"  j{i:03d}:\n{extra}    tasks:\n      t: {{commandLine: '{command}'}}\n"
    return resolve(parse_manifest(text, file="m.yaml"))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.emulator_fixture import _start

    directory = tmp_path_factory.mktemp("seeded")
    unrelated_jobs(directory / "emulator.db", 5000)
    # A third of the seeded jobs are Queued or Running and every clock tick re-reads them all;
    # nothing here waits on a state change, so the clock ticks twice a second, not 20 times.
    running = _start(
        directory,
        db=directory / "emulator.db",
        nodes=2,
        cores_per_node=4,
        timings=Timings(tick=0.5, simulate=0.2),
    )
    yield running
    running.stop()


STACK_JOBS = 40  # more than the apply's parallelism and the plan's detail readers


@pytest.mark.slow
def test_an_unchanged_stack_among_5000_jobs_is_planned_from_listing_pages_alone(
    seeded: Any, tmp_path: Path
) -> None:
    """A per-job read of any job of the stack would show as an extra request. (The stack had
    200 jobs: 8 s of CPU for the same guard, since no rule of discovery depends on its size.)"""
    client = client_for(seeded)
    stack = stack_of(STACK_JOBS)
    plan = plan_stack(client, stack, cluster_name="emulator")
    apply_plan(
        client,
        stack,
        plan,
        Journal(tmp_path / f"{stack.stack}.jsonl"),
        options=ApplyOptions(parallelism=8),
        observer=Recorder(),
    )
    counting = Counting(client)
    again = plan_stack(client, stack, cluster_name="emulator")
    assert not again.has_changes
    pages = -(-(5000 + STACK_JOBS) // 1000)
    listings = [call for call in counting.calls if call == ("GET", "/jobs")]
    facts = [call for call in counting.calls if call != ("GET", "/jobs")]
    assert len(listings) == pages, counting.calls
    # The first listing with times in it reads the cluster's date format, once per client.
    assert facts == [("GET", "/cluster/info/dateTimeFormat")]


def test_a_changed_job_costs_only_its_own_details(seeded: Any, tmp_path: Path) -> None:
    client = client_for(seeded)
    stack = stack_of(3, name="budget-changed", extra="    state: configuring\n")
    apply_plan(
        client,
        stack,
        plan_stack(client, stack, cluster_name="emulator"),
        Journal(tmp_path / f"{stack.stack}.jsonl"),
        options=ApplyOptions(),
        observer=Recorder(),
    )
    changed = stack_of(
        3, name="budget-changed", command="echo changed", extra="    state: configuring\n"
    )
    counting = Counting(client)
    plan = plan_stack(client, changed, cluster_name="emulator")
    assert [c.action for c in plan.changes] == [Action.UPDATE] * 3
    pages = [c for c in counting.calls if c[1] == "/jobs"]
    facts = [c for c in counting.calls if c[1].startswith("/cluster/")]  # read once per client
    details = [c for c in counting.calls if c[1] != "/jobs" and c not in facts]
    assert len(facts) <= 1
    # per changed Configuring job, read whole (apply submits it as it is): job, env, custom
    # properties, tasks (one page), and each task's env and custom properties
    assert len(details) == 3 * (4 + 2), details
    assert len(pages) >= 1


ROW = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  j:
    retries: {retries}
    state: {state}
    onSpecChange: {policy}
    properties: {{Name: {name}, Priority: {priority}, MinCores: {cores}, MaxCores: {cores}}}
    tasks:
      t: {{commandLine: '{command}'}}
"""


def row(
    stack: str,
    *,
    name: str = "J",
    priority: str = "Normal",
    cores: int = 1,
    command: str = "sleep:30",
    state: str = "submitted",
    retries: int = 0,
    policy: str = "rerun",
) -> ResolvedStack:
    return resolve(
        parse_manifest(
            ROW.format(
                stack=stack,
                name=name,
                priority=priority,
                cores=cores,
                command=command,
                state=state,
                retries=retries,
                policy=policy,
            ),
            file="m.yaml",
        )
    )


def settle(
    client: HpcPackClient, stack: ResolvedStack, tmp: Path, until: Callable[[str], bool]
) -> None:
    plan = plan_stack(client, stack, cluster_name="e")
    apply_plan(
        client,
        stack,
        plan,
        Journal(tmp / f"{stack.stack}.jsonl"),
        options=ApplyOptions(),
        observer=Recorder(),
    )
    deadline = time.monotonic() + 20
    while not until(stack_status(client, stack.stack, ["j"])[0].state):
        assert time.monotonic() < deadline, stack_status(client, stack.stack, ["j"])
        time.sleep(0.1)


def action(client: HpcPackClient, stack: ResolvedStack, **options: Any) -> tuple[Action, str]:
    change = plan_stack(client, stack, cluster_name="e", options=PlanOptions(**options)).changes[0]
    return change.action, " ".join(r.message for r in change.reasons) + " ".join(
        b.code for b in change.blocks
    )


def test_table_rows_over_http(start_emulator: Callable[..., Any], tmp_path: Path) -> None:
    client = client_for(start_emulator(nodes=2, cores_per_node=4))
    # none → create
    assert action(client, row("t-none"))[0] is Action.CREATE
    # Configuring: unchanged → submit; changed → update
    settle(client, row("t-conf", state="configuring"), tmp_path, lambda s: s == "Configuring")
    assert action(client, row("t-conf"))[0] is Action.SUBMIT
    assert action(client, row("t-conf", state="configuring", name="K"))[0] is Action.UPDATE
    # Queued (needs more cores than the cluster has): Priority in place, rename → replace
    settle(client, row("t-queued", cores=64), tmp_path, lambda s: s == "Queued")
    assert action(client, row("t-queued", cores=64))[0] is Action.NO_OP
    assert action(client, row("t-queued", cores=64, priority="High" + "est"))[0] is Action.UPDATE
    act, why = action(client, row("t-queued", cores=64, name="Other"))
    assert act is Action.REPLACE and "queue position" in why
    queued = plan_stack(client, row("t-queued", cores=64), cluster_name="e").changes[0]
    assert queued.live_id is not None
    client.cancel_job(queued.live_id, "done with it")  # it would hold the queue (no backfill)
    # Running: rename in place; cores → blocked replace
    settle(client, row("t-run"), tmp_path, lambda s: s == "Running")
    assert action(client, row("t-run", name="R2"))[0] is Action.UPDATE
    act, why = action(client, row("t-run", cores=2))
    assert act is Action.REPLACE and "running work" in why and "replace-running" in why
    # Finished: unchanged no-op; changed → rerun / ignore / error
    settle(client, row("t-done", command="echo ok"), tmp_path, lambda s: s == "Finished")
    assert action(client, row("t-done", command="echo ok"))[0] is Action.NO_OP
    assert action(client, row("t-done", command="echo ok", name="N"))[0] is Action.RERUN
    assert (
        action(client, row("t-done", command="echo ok", name="N", policy="ignore"))[0]
        is Action.NO_OP
    )
    assert (
        "spec-change-refused"
        in action(client, row("t-done", command="echo ok", name="N", policy="error"))[1]
    )
    # Failed: requeue while retries remain
    settle(client, row("t-fail", command="exit:3", retries=1), tmp_path, lambda s: s == "Failed")
    assert action(client, row("t-fail", command="exit:3", retries=1))[0] is Action.REQUEUE
    assert action(client, row("t-fail", command="exit:3"))[0] is Action.NO_OP
    # Orphan: a key no longer in the manifest → cancel only with --prune
    other = resolve(
        parse_manifest(
            "apiVersion: hpcspec/v1\nstack: t-run\njobs:\n  k:\n    tasks: {t: {commandLine: x}}\n",
            file="m.yaml",
        )
    )
    plan = plan_stack(client, other, cluster_name="e")
    orphan = next(c for c in plan.changes if c.key == "j")
    assert orphan.action is Action.NO_OP and "--prune" in orphan.reasons[0].message
    pruned = plan_stack(client, other, cluster_name="e", options=PlanOptions(prune=True))
    assert next(c for c in pruned.changes if c.key == "j").action is Action.CANCEL
