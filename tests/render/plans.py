"""Plans for the renderer tests, made by the real planner from a manifest and hand-made live jobs.

`every_action()` holds one job per action of DESIGN.md §3's table (create, update, submit,
replace of a queued job, a blocked replace of a running job with running tasks, rerun,
extend of a grown sweep, requeue, cancel of an orphan with --prune, no-ops including retries
exhausted and a finished orphan); `orphan_without_prune()` the same orphans without --prune.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hpcspec.engine.discovery import LiveStack
from hpcspec.engine.identity import client_source_marker
from hpcspec.engine.plan import Plan, PlanOptions
from hpcspec.engine.planner import make_plan
from hpcspec.hpcpack.definition import JobDefinition, Sweep, TaskDefinition, pairs
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack, digest

CLUSTER = "https://head.example.org/hpc"
STACK = "cfd-nightly"
SEEN = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)

MANIFEST = """\
apiVersion: hpcspec/v1
stack: cfd-nightly
defaults:
  properties: {Project: cfd}
jobs:
  mesh:
    properties: {Name: 'Mesh for ${stack}', MinCores: 4}
    env: {OMP_NUM_THREADS: "4", LICENSE_KEY: {secret: 'env:CANARY'}}
    tasks:
      prep: {commandLine: prep.exe --out mesh, workDirectory: '\\\\fs\\cfd'}
  tune:
    properties: {Priority: AboveNormal}
    tasks: {run: {commandLine: tune.exe}}
  draft:
    tasks: {run: {commandLine: draft.exe}}
  rename:
    properties: {Name: Renamed}
    tasks: {run: {commandLine: rename.exe}}
  solve:
    properties: {MinCores: 8}
    tasks: {run: {commandLine: solve.exe --case *, sweep: {start: 1, end: 10}}}
  report:
    properties: {Name: Weekly report}
    tasks: {render: {commandLine: report.exe --all}}
  flaky:
    retries: 2
    tasks: {run: {commandLine: flaky.exe}}
  tired:
    retries: 1
    tasks: {run: {commandLine: tired.exe}}
  steady:
    tasks: {run: {commandLine: steady.exe}}
  grow:
    onSpecChange: extend
    tasks: {run: {commandLine: case.exe *, sweep: {start: 1, end: 25}}}
"""


def stack(text: str = MANIFEST) -> ResolvedStack:
    return resolve(parse_manifest(text, file="cfd.yaml"))


def live_job(
    resolved: ResolvedStack,
    key: str,
    job_id: int,
    state: JobState,
    *,
    changed: dict[str, object] | None = None,
    tasks: tuple[TaskDefinition, ...] | None = None,
    running: int = 0,
    requeue_count: int = 0,
    env: dict[str, str] | None = None,
    task_counts: tuple[tuple[str, int], ...] = (),
) -> LiveJob:
    """The live job of `key`: the desired definition, or an older one with `changed` values."""
    desired = resolved.jobs[key]
    definition: JobDefinition = desired.definition
    digest = desired.digest
    if changed is not None or tasks is not None or env is not None:
        digest = "0" * 12
        properties = {**dict(definition.properties), **(changed or {})}
        definition = replace(
            definition,
            properties=pairs(properties),  # type: ignore[arg-type]
            tasks=definition.tasks if tasks is None else tasks,
            env=definition.env if env is None else pairs(env),
        )
    return LiveJob(
        id=job_id,
        state=state,
        client_source=client_source_marker(resolved.stack, key, digest),
        change_time=SEEN,
        requeue_count=requeue_count,
        definition=definition,
        tasks=tuple(LiveTask(i + 1, f"run.{i}", TaskState.Running) for i in range(running)),
        task_counts=task_counts,
    )


def orphans(resolved: ResolvedStack) -> dict[str, LiveJob]:
    marker = client_source_marker(resolved.stack, "old-a", "1" * 12)
    return {
        "old-a": LiveJob(id=30, state=JobState.Queued, client_source=marker, change_time=SEEN),
        "old-b": LiveJob(id=31, state=JobState.Finished, client_source=marker, change_time=SEEN),
    }


def grown(resolved: ResolvedStack, job_id: int) -> LiveJob:
    """The finished job of `grow` as it ran before its sweep grew from 20 to 25 points."""
    desired = resolved.jobs["grow"]
    run = replace(desired.definition.tasks[0], sweep=Sweep(1, 20))
    before = replace(desired.definition, tasks=(run,))
    return LiveJob(
        id=job_id,
        state=JobState.Finished,
        client_source=client_source_marker(resolved.stack, "grow", digest(before)),
        change_time=SEEN,
        definition=before,
    )


def live_stack(resolved: ResolvedStack) -> LiveStack:
    def job(key: str, job_id: int, state: JobState, **kw: object) -> LiveJob:
        return live_job(resolved, key, job_id, state, **kw)  # type: ignore[arg-type]

    return LiveStack(
        current={
            "tune": job("tune", 41, JobState.Queued, changed={"Priority": 2000}),
            "draft": job("draft", 42, JobState.Configuring),
            "rename": job("rename", 43, JobState.Queued, changed={"Name": "Old name"}),
            "solve": job("solve", 44, JobState.Running, changed={"MinCores": 4}, running=3),
            "report": job("report", 45, JobState.Finished, changed={"Name": "Old report"}),
            "flaky": job(
                "flaky",
                46,
                JobState.Failed,
                task_counts=(("Finished", 117), ("Failed", 2), ("Canceled", 1), ("Total", 120)),
            ),
            "tired": job("tired", 47, JobState.Failed, requeue_count=1),
            "steady": job("steady", 48, JobState.Running),
            "grow": grown(resolved, 50),
        },
        duplicates={"steady": (LiveJob(id=49, state=JobState.Configuring),)},
        orphans=orphans(resolved),
    )


def every_action() -> Plan:
    resolved = stack()
    return make_plan(
        resolved,
        live_stack(resolved),
        cluster=CLUSTER,
        options=PlanOptions(prune=True),
        insecure=True,
    )


def orphan_without_prune() -> Plan:
    resolved = stack()
    only_steady = {"steady": live_job(resolved, "steady", 48, JobState.Running)}
    return make_plan(
        resolved,
        LiveStack(current=only_steady, orphans=orphans(resolved)),
        cluster=CLUSTER,
        options=PlanOptions(targets=frozenset({"steady", "old-a", "old-b"})),
    )


def no_changes() -> Plan:
    resolved = stack()
    current = {
        "steady": live_job(resolved, "steady", 48, JobState.Running),
        "report": live_job(resolved, "report", 45, JobState.Finished),
    }
    return make_plan(
        resolved,
        LiveStack(current=current),
        cluster=CLUSTER,
        options=PlanOptions(targets=frozenset(current)),
    )


CHAIN = """\
apiVersion: hpcspec/v1
stack: cfd-chain
jobs:
  mesh:
    properties: {Name: Mesh v2}
    tasks: {prep: {commandLine: prep.exe}}
  solve:
    dependsOn: [mesh]
    tasks: {run: {commandLine: solve.exe}}
  post:
    dependsOn: [solve]
    tasks: {run: {commandLine: post.exe}}
  done:
    dependsOn: [mesh]
    tasks: {run: {commandLine: done.exe}}
  prep:
    properties: {Name: Prep v2}
    tasks: {run: {commandLine: prep.exe}}
  check:
    dependsOn: [prep]
    tasks: {run: {commandLine: check.exe}}
"""


def parent_replaced() -> Plan:
    """A replaced parent: its queued children are replaced down the chain, a finished one is
    left alone; another parent whose queued child is excluded is refused."""
    resolved = stack(CHAIN)

    def job(key: str, job_id: int, state: JobState, **kw: object) -> LiveJob:
        return live_job(resolved, key, job_id, state, **kw)  # type: ignore[arg-type]

    current = {
        "mesh": job("mesh", 60, JobState.Queued, changed={"Name": "Mesh v1"}),
        "solve": job("solve", 61, JobState.Queued),
        "post": job("post", 62, JobState.Queued),
        "done": job("done", 63, JobState.Finished),
        "prep": job("prep", 64, JobState.Queued, changed={"Name": "Prep v1"}),
        "check": job("check", 65, JobState.Queued),
    }
    return make_plan(
        resolved,
        LiveStack(current=current),
        cluster=CLUSTER,
        options=PlanOptions(excludes=frozenset({"check"})),
    )
