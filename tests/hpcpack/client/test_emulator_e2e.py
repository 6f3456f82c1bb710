"""The client over real HTTP against the project's emulator (127.0.0.1, random port)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hpcspec.engine.custom_identity import client_source_kept
from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.transport import Credentials, Transport, TransportOptions
from tests.emulator_fixture import RunningEmulator


@pytest.fixture
def client(emulator: RunningEmulator) -> HpcPackClient:
    return HpcPackClient(Transport(TransportOptions(emulator.url, Credentials(*emulator.admin))))


def _until(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_job_life_cycle_over_rest(client: HpcPackClient) -> None:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    job_id = client.create_job({"Name": name, "Priority": "AboveNormal+5", "MinCores": 1})
    client.set_job(job_id, {"ClientSource": "hpcspec:test", "RuntimeSeconds": 600})
    client.set_job_custom_properties(job_id, {"hpcspec.key": "mesh"})
    client.set_job_env(job_id, {"OMP_NUM_THREADS": "4"})
    assert client.job_custom_properties(job_id)["HPCSPEC.KEY"] == "mesh"
    assert client.job_env(job_id, ["OMP_NUM_THREADS", "MISSING"]) == {
        "OMP_NUM_THREADS": "4",
        "MISSING": "",
    }
    for index in range(4):
        assert client.add_task(job_id, {"Name": f"t{index}", "CommandLine": "echo"}) == index + 1
    sweep = client.add_task(
        job_id,
        {"Name": "sweep", "CommandLine": "echo *", "Type": "ParametricSweep",
         "StartValue": 1, "EndValue": 3, "IncrementValue": 1},
    )  # fmt: skip
    client.set_task(job_id, 1, {"IsRerunnable": True})
    client.set_task_custom_properties(job_id, 1, {"c": "v"})
    client.set_task_env(job_id, 1, {"A": "1"})
    assert client.task_custom_properties(job_id, 1) == {"c": "v"}
    assert client.task_env(job_id, 1) == {"A": "1"}
    assert (
        client.task_properties(job_id, 1, properties=["IsRerunnable"])["IsRerunnable"].lower()
        == "true"
    )
    job = client.job_properties(job_id, ["Name", "State", "ExpandedPriority", "ClientSource"])
    assert (job["Name"], job["State"], job["ExpandedPriority"]) == (name, "Configuring", "3005")

    # 4 basic tasks + 1 sweep master, 2 rows a page: 3 pages
    masters = list(
        client.iter_tasks(job_id, properties=["Name"], expand_parametric=False, rows_per_read=2)
    )
    assert [r["Name"] for r in masters] == ["t0", "t1", "t2", "t3", "sweep"]

    client.submit_job(job_id)
    _until(lambda: client.job_properties(job_id, ["State"])["State"] == "Finished")
    expanded = list(client.iter_tasks(job_id, properties=["Name", "State"], rows_per_read=3))
    assert len(expanded) == 7 and {r["State"] for r in expanded} == {"Finished"}
    sub = client.subtask_properties(job_id, sweep, 2, properties=["CommandLine"])
    assert sub["CommandLine"] == "echo 2"
    times = client.job_properties(job_id, ["SubmitTime", "EndTime"])
    submitted = client.parse_time(times["SubmitTime"])
    assert submitted is not None and submitted.tzinfo is UTC
    assert abs(submitted - datetime.now(UTC)) < timedelta(minutes=5)

    listed = [
        r["Id"]
        for r in client.iter_jobs(properties=["Id", "Name"], state="Finished", rows_per_read=2)
        if r["Name"] == name
    ]
    assert listed == [str(job_id)]
    with pytest.raises(errors.RefusedByState):
        client.set_job(job_id, {"MinCores": 2})


def test_cancel_requeue_finish_and_xml_create(client: HpcPackClient) -> None:
    name = f"xml-{uuid.uuid4().hex[:8]}"
    xml = (
        '<Job xmlns="http://schemas.microsoft.com/HPCS2008R2/scheduler/" Version="3.000" '
        f'Name="{name}"><Tasks><Task CommandLine="sleep:30" Name="long"/></Tasks></Job>'
    )
    job_id = client.create_job_xml(xml)
    assert client.job_properties(job_id, ["Name"])["Name"] == name
    client.submit_job(job_id)
    _until(lambda: client.job_properties(job_id, ["State"])["State"] in ("Running", "Queued"))
    client.cancel_job(job_id, "stop", forced=True)
    _until(lambda: client.job_properties(job_id, ["State"])["State"] == "Canceled")
    client.requeue_job(job_id)
    _until(lambda: client.job_properties(job_id, ["State"])["State"] != "Canceled")
    client.finish_job(job_id, "enough")
    _until(lambda: client.job_properties(job_id, ["State"])["State"] == "Finished")


def test_unknown_job_is_not_found_with_the_scheduler_message(client: HpcPackClient) -> None:
    with pytest.raises(errors.NotFound) as failure:
        client.job_properties(987654)
    assert failure.value.status == 404
    assert "Job ID is not valid" in failure.value.scheduler_message


def test_wrong_password_is_an_auth_error(emulator: RunningEmulator) -> None:
    user, _ = emulator.admin
    client = HpcPackClient(Transport(TransportOptions(emulator.url, Credentials(user, "wrong"))))
    with pytest.raises(errors.AuthFailed) as failure:
        client.version()
    assert "wrong" not in failure.value.render()


def test_cluster_reads(client: HpcPackClient) -> None:
    groups = {g.name for g in client.node_groups()}
    assert "ComputeNodes" in groups
    members = client.node_group_members("ComputeNodes")
    assert members and client.node(members[0])["Name"] == members[0]
    online = list(client.iter_nodes(properties=["Name", "State"], state="Online", rows_per_read=1))
    assert {n["Name"] for n in online} >= set(members)
    assert "Default" in client.job_templates()
    assert client.version() and client.active_head_node()


def test_the_client_serves_engine_discovery(client: HpcPackClient) -> None:
    from hpcspec.engine.discovery import list_stack

    found = list_stack(client, f"stack-{uuid.uuid4().hex[:8]}", ["a", "b"])
    assert not any(found.by_key.values())


def test_concurrent_first_marks_read_whether_client_source_is_kept_once(
    client: HpcPackClient,
) -> None:
    """Without a profile, the first PUTs of ClientSource (apply marks `parallelism` jobs at
    once) cost one read between them, and a listing's question after them waits for its
    answer (that PUTs do not wait for it: test_client_source_detection.py)."""
    jobs = [client.create_job({"Name": f"e2e-learn-{n}"}) for n in range(6)]
    reads: list[str] = []
    send = client.transport.request

    def slow_reads(method: str, path: str, **kwargs: Any) -> Any:
        if method == "GET":
            reads.append(path)
            time.sleep(0.3)  # every other PUT has its answer before this read's
        return send(method, path, **kwargs)

    client.transport.request = slow_reads  # type: ignore[method-assign]
    start = threading.Barrier(len(jobs))

    def mark(job_id: int) -> None:
        start.wait()
        client.set_job(job_id, {"ClientSource": "hpcspec:learn"})

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        list(pool.map(mark, jobs))
    assert client_source_kept(client) is True
    assert len(reads) == 1 and client.client_source_verdict() is True
    # Kept at write; saved once a submitted job shows it kept (`client/client_source.py`).
    assert not client.profile.knows("client_source_kept")
