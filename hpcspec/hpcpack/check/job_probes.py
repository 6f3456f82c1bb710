"""The probes of `hpcspec cluster check` that need throwaway jobs, none of which can run.

Part of the check (`hpcpack.check`). Every job is named `hpcspec-check-…` and has one harmless
command. A job that must be Queued gets a HoldUntil (`model.HOLD` ahead) BEFORE its submit, so
the scheduler never starts it (`msdocs` ISchedulerJob.HoldUntil: "the job will not run until
this time"); the Finished-state probe reaches Finished by `finish` on that held job, so no task
ever starts. `battery.py` cancels whatever is left. A Running job would take cluster time, so
writes in Running are not probed (the reference's answer is kept, and the finding says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES
from hpcspec.hpcpack.check.model import COMMAND, CheckRun, ProbeResult
from hpcspec.hpcpack.definition import JobDefinition, Sweep, TaskDefinition
from hpcspec.hpcpack.live import LiveJob
from hpcspec.hpcpack.profile import ClusterProfile, StampedAt, SweepExpansion
from hpcspec.hpcpack.states import JobState, TaskState

SETTLE = 20.0  # seconds a submitted job may take to be validated and queued


def _job(run: CheckRun, probe: str, **values: str) -> int:
    """A new Configuring job of `probe` with one harmless task."""
    job_id = run.made(run.client.create_job({"Name": run.name(probe), **values}))
    run.client.add_task(job_id, TaskDefinition("only", COMMAND))
    return job_id


def _submit_held(run: CheckRun, job_id: int) -> JobState:
    """Hold, then submit: the job is Queued (once validated) and cannot start; its state once
    it has left Submitted/Validating (or after `SETTLE` seconds)."""
    run.client.set_job(job_id, {"HoldUntil": run.hold_until})
    run.client.submit_job(job_id)
    deadline = time.monotonic() + SETTLE
    while True:
        state = run.client.job_state(job_id)
        if state not in (JobState.Submitted, JobState.Validating) or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def _client_source(run: CheckRun, job_id: int) -> str:
    return run.client.job_properties(job_id, ["ClientSource"]).text("ClientSource")


def client_source(run: CheckRun) -> ProbeResult:
    """ClientSource sent by REST create is kept, after submit, and in a listing; and set by
    PUT on a job imported from job XML."""
    result = ProbeResult()
    client = run.client
    marker = f"{run.prefix}marker"
    job_id = run.made(client.create_job({"Name": run.name("identity")}, client_source=marker))
    client.add_task(job_id, TaskDefinition("only", COMMAND))
    created = _client_source(run, job_id)
    result.add(
        "client-source.rest-create",
        "A ClientSource sent with POST /jobs is kept",
        created == marker,
        f"sent {marker!r}, read back {created!r}",
    )
    xml_job = run.made(
        client.create_job_xml(JobDefinition(properties=(("Name", run.name("xml")),)))
    )
    client.set_job(xml_job, {"ClientSource": marker + "-put"})
    put = _client_source(run, xml_job)
    result.add(
        "client-source.xml-then-put",
        "A ClientSource set by PUT on a job imported from job XML is kept",
        put == marker + "-put",
        f"PUT {marker + '-put'!r} on job {xml_job}, read back {put!r}",
    )
    _submit_held(run, job_id)
    after = _client_source(run, job_id)
    result.add(
        "client-source.after-submit",
        "ClientSource is unchanged by submit",
        after == marker,
        f"after submit, job {job_id} has {after!r}",
    )
    in_listing = _listed_client_source(run, job_id)
    result.add(
        "client-source.listing",
        "GET /jobs?properties=ClientSource returns each job's ClientSource",
        in_listing == marker,
        f"job {job_id} listed with {in_listing!r}",
    )
    kept = created == marker and after == marker and in_listing == marker
    result.facts["client_source_kept"] = kept
    if not kept:
        result.facts["client_source_stamp"] = after
        kept_at_write = created == marker and put == marker + "-put"
        result.facts["client_source_stamped_at"] = (
            StampedAt.SUBMIT if kept_at_write and after != marker else StampedAt.WRITE
        )
    return result


def _listed_client_source(run: CheckRun, job_id: int) -> str:
    """The job's ClientSource as the job listing shows it, listed again while the listing
    does not show the job yet (a listing behind its writes, the `listing-lag` probe: its
    absence says nothing about ClientSource); "" if it never does within `SETTLE` s."""
    deadline, pause = time.monotonic() + SETTLE, 0.01
    while True:
        rows = run.client.iter_jobs(properties=["Id", "ClientSource"], rows_per_read=1000)
        listed = {row.text("Id"): row.text("ClientSource") for row in rows}
        if str(job_id) in listed or time.monotonic() > deadline:
            return listed.get(str(job_id), "")
        time.sleep(pause)
        pause = min(1.0, pause * 1.5)


def writes_by_state(run: CheckRun) -> ProbeResult:
    """Custom-property and env writes in Configuring, Queued and Finished."""
    result = ProbeResult()
    client = run.client
    job_id = _job(run, "writes")
    custom_ok: set[JobState] = set()
    env_ok: set[JobState] = set()
    steps: list[tuple[JobState, Callable[[], object]]] = [
        (JobState.Configuring, lambda: None),
        (JobState.Queued, lambda: _submit_held(run, job_id)),
        (JobState.Finished, lambda: client.finish_job(job_id, "hpcspec cluster check")),
    ]
    evidence = []
    probed: set[JobState] = set()
    for state, reach in steps:
        try:  # a cluster that refuses `finish` on a held job still answers for the others
            reach()
        except errors.ApiError as refused:
            evidence.append(f"{state.name} not reached: {refused.scheduler_message or refused}")
            continue
        now = client.job_state(job_id)
        if now is not state:
            evidence.append(f"{state.name} not reached (the job is {now.name})")
            continue
        probed.add(state)
        marks = []
        for kind, write, accepted in (
            ("custom property", client.set_job_custom_properties, custom_ok),
            ("env", client.set_job_env, env_ok),
        ):
            try:
                write(job_id, {"hpcspec_check": str(state.name)})
                accepted.add(state)
                marks.append(f"{kind} accepted")
            except (errors.RefusedByState, errors.BadRequest) as refused:
                marks.append(f"{kind} refused (HTTP {refused.status})")
        evidence.append(f"{now.name}: {', '.join(marks)}")
    expected = ClusterProfile()  # what hpcspec assumes: the references' answer
    for kind, accepted, field_name in (
        ("Custom properties", custom_ok, "custom_property_states"),
        ("Environment variables", env_ok, "environment_states"),
    ):
        documented: frozenset[JobState] = getattr(expected, field_name)
        result.facts[field_name] = frozenset(accepted | (documented - probed))
        states = ", ".join(str(s.name) for s in sorted(documented, key=lambda s: s.value))
        result.add(
            f"writes.{field_name.split('_')[0]}",
            f"{kind} may be written in {states} only (Running not probed: it takes cluster time)",
            accepted == documented & probed,
            "; ".join(evidence),
        )
    return result


def sweep_expansion(run: CheckRun) -> ProbeResult:
    """Whether a sweep's subtasks exist once its (held) job is queued."""
    result = ProbeResult()
    job_id = run.made(run.client.create_job({"Name": run.name("sweep")}))
    run.client.add_task(job_id, TaskDefinition("sweep", COMMAND + " *", sweep=Sweep(1, 3)))
    _submit_held(run, job_id)
    instances = [t for t in run.client.list_tasks(job_id, expand_sweeps=True) if t.instance_id]
    eager = len(instances) == 3
    result.facts["sweep_expansion"] = SweepExpansion.EAGER if eager else SweepExpansion.LAZY
    result.add(
        "sweep-expansion",
        "A sweep's subtasks all exist once its job is queued (eager expansion)",
        eager,
        f"job {job_id} queued and held: {len(instances)} of 3 subtasks listed",
    )
    return result


def dependent_after_failure(run: CheckRun) -> ProbeResult:
    """A task whose prerequisite ends unsuccessfully still runs (FailDependentTasks false)."""
    result = ProbeResult()
    client = run.client
    job_id = run.made(client.create_job({"Name": run.name("depends")}))
    first = client.add_task(job_id, TaskDefinition("first", COMMAND))
    second = client.add_task(job_id, TaskDefinition("second", COMMAND, depends_on=("first",)))
    _submit_held(run, job_id)
    client.cancel_task(job_id, first, "hpcspec cluster check")
    states = {t.task_id: t.state for t in client.list_tasks(job_id, expand_sweeps=False)}
    waiting = states.get(second) not in (TaskState.Canceled, TaskState.Failed)
    result.add(
        "dependent-after-failure",
        "A dependent task is not failed or cancelled because its prerequisite was "
        "(msdocs ISchedulerTask.DependsOn, FailDependentTasks false)",
        waiting,
        f"job queued and held; task {first} cancelled; dependent task {second} is "
        f"{_state_name(states.get(second))}",
    )
    return result


def _probe_definition(run: CheckRun, groups: list[str], nodes: list[str]) -> JobDefinition:
    """hpcspec's own kind of job, with values of many kinds, for the job XML probes."""
    raw = {
        "Name": run.name("import"),
        "Priority": "BelowNormal",
        "Project": "hpcspec-check",
        "RuntimeSeconds": "1h",
        "IsExclusive": True,
        "FailOnTaskFailure": True,
        "NodeGroups": ",".join(groups),
        "RequestedNodes": ",".join(nodes),
    }
    properties = [(name, JOB_PROPERTIES[name].parse(value)) for name, value in raw.items()]
    tasks = (
        TaskDefinition("c", COMMAND, work_directory="C:\\temp"),
        TaskDefinition("a", COMMAND, depends_on=("c",)),
        TaskDefinition("b", COMMAND + " *", sweep=Sweep(1, 2)),
    )
    return JobDefinition(
        properties=tuple(properties),
        custom_properties=(("hpcspec_check", "yes"),),
        env=(("HPCSPEC_CHECK", "yes"),),
        tasks=tasks,
    )


def job_xml_import(run: CheckRun) -> ProbeResult:
    """hpcspec's own job XML imports with every value read back, the list separators kept
    (NodeGroups, RequestedNodes) and JobTaskIds in document order."""
    result = ProbeResult()
    client = run.client
    groups = [g.name for g in client.node_groups()][:2]
    nodes = sorted(client.node_names())[:2]
    sent = _probe_definition(run, groups, nodes)
    job_id = run.made(client.create_job_xml(sent))
    read = client.read_details(LiveJob(job_id, JobState.Configuring)).definition
    assert read is not None
    wrong = [
        f"{name}: sent {value!r}, read {read.get(name)!r}"
        for name, value in sent.properties
        if name not in ("NodeGroups", "RequestedNodes") and read.get(name) != value
    ]
    wrong += [
        f"custom {k}" for k, v in sent.custom_properties if dict(read.custom_properties).get(k) != v
    ]
    wrong += [f"env {k}" for k, v in sent.env if dict(read.env).get(k) != v]
    by_name = {t.name: t for t in read.tasks}
    for task in sent.tasks:
        got = by_name.get(task.name)
        if got is None or (got.command_line, got.depends_on, got.sweep) != (
            task.command_line,
            task.depends_on,
            task.sweep,
        ):
            wrong.append(f"task {task.name}")
    result.add(
        "job-xml.read-back",
        "hpcspec's own job XML imports with every value read back",
        not wrong,
        "every value read back" if not wrong else "; ".join(wrong),
    )
    for name, listed in (("NodeGroups", groups), ("RequestedNodes", nodes)):
        sent_text, back = ",".join(listed), read.get(name)
        result.add(
            f"list-separators.{name}",
            f"{name} sent as a comma-separated list reads back as the same list",
            None if not listed else back == sent_text,
            f"sent {sent_text!r}, read back {back!r}" if listed else "the cluster has none",
        )
    ids = client.task_ids(job_id)
    order = sorted(ids, key=lambda name: ids[name])
    result.add(
        "job-xml.task-order",
        "Tasks imported from job XML get JobTaskIds in document order",
        order == [t.name for t in sent.tasks],
        f"document order c, a, b; JobTaskId order {', '.join(order)}",
    )
    return result


def _state_name(state: TaskState | None) -> str:
    return "missing" if state is None else str(state.name)
