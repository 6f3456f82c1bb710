"""Apply, then plan, on a server that answers reads with its own spelling of what was written
(`tests/apply/respelling.py`). A re-spelling the references document as the same value must
leave a plan that says the cluster matches, and a second apply that writes nothing; another
value (a space added, a decomposed accent, a line break changed, a value cut, a list item
dropped) must never be called a match. The rules: docs/apply.md, "How plan
compares live values".

The manifest has one key of each kind plan reads differently: `held` stays Configuring (plan
reads it whole, tasks' env and custom properties included) and `run` is submitted (plan reads
its managed properties in the job listing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hpcspec.engine.drift import detect_drift
from hpcspec.engine.events import Recorder
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.pipeline import ApplyReport, ApplyRequest, apply_stacks
from hpcspec.engine.plan import Action, BlockCode
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.hpcpack.states import JobState
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.resolve import ResolvedStack
from tests.apply.respelling import (
    CHANGED,
    HARMLESS,
    Habit,
    Respelling,
    names_in_other_case,
    on,
)
from tests.apply.stacks import audit, patient_client

JOB = """
    properties:
      Project: "Café p1"
      JobTemplate: default
      Priority: Normal+5
      UnitType: Core
      IsExclusive: false
      MaxCores: 7
      RuntimeSeconds: 1h
      NodeGroups: [ComputeNodes, HighMem]
      NodeGroupOp: Uniform
      JobValidExitCodes: "0,3,MIN..-1"
    env: {V: "Café\\r\\nline 2"}
    customProperties: {team: "Café team"}
    tasks:
      t1:
        commandLine: "echo Café\\r\\necho 2"
        env: {W: "w"}
        properties:
          RequiredNodes: "CN001,CN002"
          TaskValidExitCodes: "Max..MAX"
          IsRerunnable: true
      t2: {commandLine: "echo *", sweep: {start: 1, end: 3, increment: 1}, dependsOn: [t1, t0]}
      t0: {commandLine: "echo 0"}
"""


def manifest(stack: str) -> ResolvedStack:
    text = f"apiVersion: hpcspec/v1\nstack: {stack}\njobs:\n  held:\n    state: configuring{JOB}"
    text += f"  run:\n    state: submitted{JOB}"
    return resolve(parse_manifest(text, file="m.yaml"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.emulator_fixture import _start

    running = _start(
        tmp_path_factory.mktemp("respelling"), groups=(("HighMem", ("CN001", "CN002")),)
    )
    yield running
    running.stop()


def apply(running: Any, stack: ResolvedStack, root: Path, via: str = "xml") -> ApplyReport:
    client = patient_client(running)
    request = ApplyRequest(
        cluster_name="emulator", options=ApplyOptions(via=CreateMethod(via)), journal_root=root
    )
    try:
        return apply_stacks(client, [stack], request, observer=Recorder(), confirm=lambda _: True)
    finally:
        client.close()


@pytest.fixture
def liar(server: Any) -> Iterator[Callable[[Habit, bool], Respelling]]:
    """Puts a `Respelling` with the given habit in front of the emulator, for one test."""
    clean = server.emulator.server.app

    def put(habit: Habit, reverse: bool = False) -> Respelling:
        server.emulator.server.app = Respelling(clean, habit, reverse=reverse)
        return server.emulator.server.app  # type: ignore[no-any-return]

    yield put
    server.emulator.server.app = clean


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_a_harmless_respelling_leaves_no_changes_and_a_second_apply_writes_nothing(
    server: Any, liar: Callable[[Habit, bool], Respelling], tmp_path: Path, name: str
) -> None:
    rewriting = liar(*HARMLESS[name])
    stack = manifest(f"same-{sorted(HARMLESS).index(name)}")
    first = apply(server, stack, tmp_path)
    assert [c.action for c in first.plans[0].changes] == [Action.CREATE] * 2
    rewriting.writes.clear()
    plan = apply(server, stack, tmp_path).plans[0]
    diffs = [(c.key, d.name, d.before, d.after) for c in plan.changes for d in c.diffs]
    assert not plan.has_changes and plan.matches, diffs
    assert rewriting.writes == [], rewriting.writes
    client = patient_client(server)
    try:  # `hpcspec drift` reads every job whole by the same rule
        assert not detect_drift(client, stack).drifted
    finally:
        client.close()


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_a_server_keeping_another_value_never_gets_a_plan_that_says_it_matches(
    server: Any, liar: Callable[[Habit, bool], Respelling], tmp_path: Path, name: str
) -> None:
    liar(CHANGED[name], False)
    stack = manifest(f"other-{sorted(CHANGED).index(name)}")
    apply(server, stack, tmp_path)
    plan = apply(server, stack, tmp_path).plans[0]
    assert not plan.matches, plan
    held = next(c for c in plan.changes if c.key == "held")
    assert held.action is Action.UPDATE and held.diffs, held  # shown, and put right again
    if name in ("a space appended", "decomposed (NFD)", "cut at 5 characters"):
        run = next(c for c in plan.changes if c.key == "run")  # Project, in the listing
        assert run.unmet is not None or run.action is Action.UPDATE, run
        assert [d.name for d in run.diffs] == ["Project"], run


PADDED = """apiVersion: hpcspec/v1
stack: {stack}
jobs:
  a:
    env: {{V: " padded "}}
    customProperties: {{team: "t\\n"}}
    tasks:
      t: {{commandLine: "echo 1", env: {{" W": "w"}}}}
"""


def test_job_xml_refuses_values_its_importer_would_trim_and_rest_keeps_them(
    server: Any, tmp_path: Path
) -> None:
    """HPC Pack's job XML importer trims Variable and Term names and values
    (reference/hpcpack/derived/job-xml-import-export.json; the emulator's importer too): a job
    created so ran with `V=padded` while the plan after it said the cluster matched."""
    stack = resolve(parse_manifest(PADDED.format(stack="padded"), file="m.yaml"))
    report = apply(server, stack, tmp_path / "xml")
    (change,) = report.plans[0].changes
    refused = sorted(b.message.split(":")[0] for b in change.blocks)
    assert {b.code for b in change.blocks} == {BlockCode.XML_TRIMS}, change.blocks
    assert refused == ["jobs.a.customProperties.team", "jobs.a.env.V", "jobs.a.tasks.t.env. W"]
    assert report.results[0].results[0].job_id is None  # nothing created
    report = apply(server, stack, tmp_path / "rest", via="rest")
    assert report.results[0].results[0].job_id is not None
    again = apply(server, stack, tmp_path / "rest", via="rest").plans[0]
    assert not again.has_changes and again.matches, again


HELD = """apiVersion: hpcspec/v1
stack: held-{n}
jobs:
  a:
    properties: {{Priority: {priority}, HoldUntil: "{until}"}}
    customProperties: {{team: blue}}
    tasks:
      t: {{commandLine: "echo 1"}}
"""


def test_drift_reads_the_digest_tag_in_any_case(
    server: Any, liar: Callable[[Habit, bool], Respelling], tmp_path: Path
) -> None:
    """A Queued job updated in place keeps its old ClientSource marker (it cannot change after
    submit); drift then reads the digest tag among the custom properties, whose names a
    server may answer in another case. It skipped the job as "the manifest changed"."""
    until = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def stack(priority: str) -> ResolvedStack:
        text = HELD.format(n=0, priority=priority, until=until)
        return resolve(parse_manifest(text, file="m.yaml"))

    (result,) = apply(server, stack("Normal"), tmp_path).results[0].results
    client = patient_client(server)
    try:
        deadline = time.monotonic() + 10
        while client.job_state(result.job_id) is not JobState.Queued:  # type: ignore[arg-type]
            assert time.monotonic() < deadline, "the held job was never Queued"
            time.sleep(0.05)
    finally:
        client.close()
    report = apply(server, stack("Highest"), tmp_path)  # Priority may change while Queued
    assert [c.action for c in report.plans[0].changes] == [Action.UPDATE], (
        report.plans[0].changes[0].reasons
    )
    liar(names_in_other_case, False)
    client = patient_client(server)
    try:
        (job,) = detect_drift(client, stack("Highest")).jobs
    finally:
        client.close()
    assert job.state == "Queued" and job.skipped == "" and job.diffs == (), job


class LoseFirstTaskAdd:
    """WSGI middleware: the first `POST /hpc/jobs/{id}/tasks` is handled, then answered 502
    (a proxy that lost the head node's answer): the task exists, the client cannot know."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app, self.lost = app, 0

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Any:
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "POST" and path.endswith("/tasks") and not self.lost:
            self.lost += 1
            b"".join(self.app(environ, lambda *a: None))
            start("502 Bad Gateway", [("Content-Length", "0")])
            return [b""]
        return self.app(environ, start)


@pytest.mark.parametrize("tasks", [1, 3])  # one by one, and placeholders added at once
def test_a_lost_task_add_is_found_whatever_case_the_server_answers_task_names_in(
    server: Any, liar: Callable[[Habit, bool], Respelling], tmp_path: Path, tasks: int
) -> None:
    """A REST create reads the job's tasks after an add whose answer was lost and looks for
    the task by name; a server answering the name in another case hid it, the task was added
    again, and the job ran it twice."""
    upper = liar(on({"Name"}, str.upper), False)  # noqa: F841 - in front of the emulator
    lossy = LoseFirstTaskAdd(server.emulator.server.app)
    server.emulator.server.app = lossy
    lines = [f"      t{n}: {{commandLine: 'echo {n}'}}" for n in range(tasks)]
    text = f"apiVersion: hpcspec/v1\nstack: lost-{tasks}\njobs:\n  a:\n    state: configuring\n"
    stack = resolve(parse_manifest(text + "    tasks:\n" + "\n".join(lines) + "\n", file="m.yaml"))
    (result,) = apply(server, stack, tmp_path, via="rest").results[0].results
    assert lossy.lost == 1 and result.outcome is Outcome.DONE, result
    client = patient_client(server)
    try:
        found = audit(client, f"lost-{tasks}", ["a"])
    finally:
        client.close()
    assert [(j["id"], j["tasks"]) for j in found.jobs["a"]] == [(result.job_id, tasks)]
