"""Apply tells its observer every step, with the job it acts on, and every key's result.

The events are what `apply --output json` will serialise; here the text view's inputs are
checked against a real apply on the emulator: a create's steps in order, the job id each
step reports, a refused key, and a destroy that cancels through the same executor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpcspec.engine.events import (
    Applied,
    JobApplied,
    Planned,
    Recorder,
    StepFinished,
    StepStarted,
)
from hpcspec.engine.outcomes import ApplyVerdict, Outcome
from hpcspec.engine.pipeline import ApplyRequest, apply_stacks, destroy_stack
from hpcspec.engine.steps import StepKind
from hpcspec.manifest import parse_manifest, resolve
from tests.apply.stacks import patient_client

MANIFEST = """\
apiVersion: hpcspec/v1
stack: {stack}
jobs:
  a:
    tasks: {{t: {{commandLine: 'sleep:30'}}}}
  b:
    dependsOn: [a]
    state: configuring
    tasks: {{t: {{commandLine: 'echo b'}}}}
"""


def test_every_step_and_result_reaches_the_observer(cluster: Any, tmp_path: Path) -> None:
    stack = resolve(parse_manifest(MANIFEST.format(stack="events"), file="m.yaml"))
    client = patient_client(cluster)
    seen, gone = Recorder(), Recorder()
    asked: list[int] = []
    request = ApplyRequest(cluster_name="emulator", journal_root=tmp_path)

    def confirm(plans: Any) -> bool:
        asked.append(len(plans))
        return True

    try:
        report = apply_stacks(client, [stack], request, observer=seen, confirm=confirm)
        destroyed = destroy_stack(
            client,
            "events",
            list(stack.jobs),
            cluster_name="emulator",
            observer=gone,
            confirm=lambda _: True,
            journal_root=tmp_path,
        )
    finally:
        client.close()
    assert report.verdict is ApplyVerdict.APPLIED and asked == [1]
    assert isinstance(seen.events[0], Planned)
    started = [(e.key, e.kind) for e in seen.of(StepStarted)]
    assert [kind for key, kind in started if key == "a"][:4] == [
        StepKind.CREATE_VIA_XML,
        StepKind.MARK,
        StepKind.SETTLE_RACE,
        StepKind.SUBMIT,
    ]
    assert [kind for key, kind in started if key == "b"] == [
        StepKind.CREATE_VIA_XML,
        StepKind.MARK,
    ]
    results = {e.result.key: e.result for e in seen.of(JobApplied)}
    created = results["a"].job_id
    finished = [e for e in seen.of(StepFinished) if e.key == "a"]
    assert created is not None and all(e.job_id == created for e in finished[:4])
    assert not any(e.failed for e in finished)
    assert results["b"].outcome is Outcome.DONE and results["b"].job_id not in (None, created)
    # b waits for a: its create starts after a's job exists (its parent id).
    first_b = started.index(("b", StepKind.CREATE_VIA_XML))
    assert started.index(("a", StepKind.CREATE_VIA_XML)) < first_b
    # destroy: one cancel per live job, through the same executor, then the verdict
    assert destroyed.verdict is ApplyVerdict.APPLIED
    cancels = [e for e in gone.of(StepFinished) if e.kind is StepKind.CANCEL]
    assert {e.job_id for e in cancels} == {created, results["b"].job_id}
    assert [e.verdict for e in seen.of(Applied) + gone.of(Applied)] == [ApplyVerdict.APPLIED] * 2
