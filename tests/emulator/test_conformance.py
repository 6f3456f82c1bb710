"""Conformance walker: every path and method of openapi/hpcpack-rest-2016u3.json, over HTTP.

Our own walker (not schemathesis): each operation gets a scenario that should succeed, the
status code must be the one the spec documents, and the JSON body must validate (jsonschema)
against the response schema the spec gives, with the spec's definitions. The one documented
exception is PUT of a subtask: tasks change only while the job is Configuring and subtasks exist
only after submission, so it answers 409 (docs/emulator.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from tests.conftest import REFERENCE
from tests.emulator.helpers import Api, future

SPEC_PATH = REFERENCE / "openapi" / "hpcpack-rest-2016u3.json"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text()) if SPEC_PATH.is_file() else {}
OPERATIONS = [
    (method.upper(), path)
    for path, item in SPEC.get("paths", {}).items()
    for method in item
    if method != "parameters"
]


def _sweep_job(api: Api) -> int:
    job = api.create_job(Name="walker-sweep")
    api.add_task(
        job,
        Name="sw",
        Type="ParametricSweep",
        CommandLine="sleep:60",
        StartValue="1",
        EndValue="20",
    )
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Running")
    return job


def _task_job(api: Api, cancel_first: bool = False) -> int:
    job = api.create_job(Name="walker-task")
    api.add_task(job, Name="t", CommandLine="echo 1")
    api.ok("POST", f"/jobs/{job}/tasks/1/customProperties", json=[{"Name": "c", "Value": "v"}])
    if cancel_first:
        api.ok("POST", f"/jobs/{job}/tasks/1/cancel", json="")
    return job


def _job(api: Api, kind: str) -> int:
    if kind == "queued":
        job = api.create_job(HoldUntil=future())
        api.ok("POST", f"/jobs/{job}/submit")
        api.wait(job, "Queued")
        return job
    job = api.create_job(Name="walker-job")
    api.add_task(job, CommandLine="echo 1")
    api.add_task(job, CommandLine="echo 2")
    if kind == "canceled":
        api.ok("POST", f"/jobs/{job}/cancel", json="")
    return job


def _scenario(api: Api, method: str, path: str) -> tuple[str, dict[str, Any], int]:
    """(concrete path, request keyword arguments, expected status) for one operation."""
    action = path.rsplit("/", 1)[-1]
    values: dict[str, Any] = {"name": "CN001"}
    if path.startswith("/nodes/groups/"):
        values["name"] = "ComputeNodes"
    expected = 204 if method == "PUT" else 200
    if "{subtaskId}" in path:
        values.update(jobId=_sweep_job(api), taskId=1)
        values["subtaskId"] = {"requeue": 20, "finish": 2}.get(action, 1)
        if method == "PUT":
            expected = 409
    elif "{taskId}" in path:
        values.update(jobId=_task_job(api, cancel_first=action == "requeue"), taskId=1)
    elif "{jobId}" in path:
        kind = {"finish": "queued", "requeue": "canceled"}.get(action, "new")
        values["jobId"] = _job(api, kind)
    operation = SPEC["paths"][path][method.lower()]
    if "204" in operation["responses"]:
        expected = 204 if expected != 409 else expected
    kwargs: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = SPEC["parameters"][parameter["$ref"].split("/")[-1]]
        if parameter.get("in") != "body":
            continue
        schema = parameter["schema"]
        if schema.get("type") == "array":
            kwargs["json"] = [{"Name": "Name", "Value": "walked"}] if method == "PUT" else []
        elif parameter["name"] == "xml":
            kwargs["json"] = '<Job Name="walked"><Tasks><Task CommandLine="echo"/></Tasks></Job>'
        else:
            kwargs["json"] = "walker message"
    if (path in ("/jobs", "/nodes") or path.endswith("/tasks")) and method == "GET":
        kwargs["params"] = {"rowsPerRead": "1"}
        api.create_job(Name="second")  # so more rows remain after the first page
        api.create_job(Name="third")
    return path.format(**values), kwargs, expected


def _validator(schema: dict[str, Any]) -> Callable[[Any], None]:
    full = {**schema, "definitions": SPEC["definitions"]}
    return jsonschema.Draft4Validator(full).validate


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_spec(method, path, reference, start_emulator):
    running = start_emulator(nodes=2, cores_per_node=4)
    api = Api(running)
    concrete, kwargs, expected = _scenario(api, method, path)
    reply = api.call(method, concrete, **kwargs)
    assert reply.status_code == expected, f"{method} {concrete}: {reply.status_code} {reply.text}"
    responses = SPEC["paths"][path][method.lower()]["responses"]
    documented = responses.get(str(expected))
    if expected == 204:
        assert reply.content == b""
        return
    if documented is None:  # the 409 refusal: a scheduler error body
        assert set(reply.json()) == {"Code", "Message"}
        return
    body = reply.json()
    _validator(documented["schema"])(body)
    _check_rest_properties(body)
    for header in documented.get("headers", {}):
        if method == "GET" and len(body) == 1 and path != "/nodes/{name}":
            assert header in reply.headers, f"{header} missing with rows remaining"


def _check_rest_properties(body: Any) -> None:
    """Stricter than the spec: every RestProperty has a string Name and a string Value."""
    items = body if isinstance(body, list) else []
    for item in items:
        props = item.get("Properties", [item]) if isinstance(item, dict) else []
        for prop in props:
            assert isinstance(prop, dict) and set(prop) == {"Name", "Value"}, prop
            assert isinstance(prop["Name"], str) and isinstance(prop["Value"], str), prop


def test_the_walker_covers_all_37_operations(reference):
    assert len(OPERATIONS) == 37
