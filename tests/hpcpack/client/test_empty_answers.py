"""An empty 200 where a body is documented is `bad-response` naming the request, never "nothing".

The references (`hpcpack-rest-api-2016.md`, `openapi/hpcpack-rest-2016u3.json`) give every GET
below a JSON body: an array for each listing ("an empty array when there is none", e.g. a task
without env variables answers `[]`: `research/hpcpack-ground-truth.md` §1), an object or a
scalar otherwise. A proxy or a broken server answering 200 with no body must not read as an
empty listing: a plan would then create every job again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
import requests
import responses

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.profile import ClusterProfile, NodeEndpoints
from tests.conftest import REFERENCE
from tests.hpcpack.client.conftest import BASE, FakeTime, make_client, rows

Call = Callable[[HpcPackClient], object]

CASES: list[tuple[str, str, Call]] = [
    ("GET", "/jobs", lambda c: list(c.iter_jobs())),
    ("GET", "/jobs/7", lambda c: c.job_properties(7)),
    ("GET", "/jobs/7/customProperties", lambda c: c.job_custom_properties(7)),
    ("GET", "/jobs/7/envVariables", lambda c: c.job_env(7)),
    ("GET", "/jobs/7/tasks", lambda c: c.list_tasks(7, expand_sweeps=False)),
    ("GET", "/jobs/7/tasks/1", lambda c: c.task_properties(7, 1)),
    ("GET", "/jobs/7/tasks/1/customProperties", lambda c: c.task_custom_properties(7, 1)),
    ("GET", "/jobs/7/tasks/1/envVariables", lambda c: c.task_env(7, 1)),
    ("GET", "/jobs/templates", lambda c: c.job_templates()),
    ("GET", "/nodes", lambda c: c.node_names()),
    ("GET", "/nodes/n1", lambda c: c.node("n1")),
    ("GET", "/nodes/groups", lambda c: c.node_groups()),
    ("GET", "/nodes/groups/g1", lambda c: c.node_group_members("g1")),
    ("GET", "/cluster/version", lambda c: c.version()),
]
CASES_2019: list[tuple[str, str, Call]] = [
    ("GET", "/cluster/nodes", lambda c: c.node_names()),
    ("GET", "/cluster/nodes/n1", lambda c: c.node("n1")),
    ("GET", "/cluster/nodeGroups", lambda c: c.node_groups()),
]


def _refused(mocked: responses.RequestsMock, client: HpcPackClient, path: str, call: Call) -> str:
    mocked.add("GET", BASE + path, body=b"", status=200, content_type="application/json")
    with pytest.raises(errors.BadResponse) as raised:
        call(client)
    error = raised.value
    assert error.code == "bad-response" and error.path == path and error.status == 200
    return error.message


@pytest.mark.parametrize(("method", "path", "call"), CASES, ids=[p for _, p, _ in CASES])
def test_an_empty_200_is_a_bad_response_naming_the_request(
    mocked: responses.RequestsMock, client: HpcPackClient, method: str, path: str, call: Call
) -> None:
    message = _refused(mocked, client, path, call)
    assert message.startswith(f"{method} {path}: the answer is empty where ")


@pytest.mark.parametrize(("method", "path", "call"), CASES_2019, ids=[p for _, p, _ in CASES_2019])
def test_an_empty_200_from_the_2019_node_endpoints_is_a_bad_response(
    mocked: responses.RequestsMock, fake_time: FakeTime, method: str, path: str, call: Call
) -> None:
    client = make_client(fake_time)
    client.profile = ClusterProfile(node_endpoints=NodeEndpoints.CLUSTER)
    message = _refused(mocked, client, path, call)
    assert message.startswith(f"{method} {path}: the answer is empty where ")


def test_an_empty_array_is_still_an_empty_listing(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    mocked.add("GET", BASE + "/jobs", json=[])
    mocked.add("GET", BASE + "/jobs/7/envVariables", json=[])
    assert list(client.iter_jobs()) == [] and dict(client.job_env(7)) == {}


def test_a_json_object_where_a_listing_is_documented_is_a_bad_response(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    mocked.add("GET", BASE + "/jobs", json={"Properties": []})
    with pytest.raises(errors.BadResponse) as raised:
        list(client.iter_jobs())
    assert raised.value.message.startswith("GET /jobs: expected a list of objects, got dict")


def test_an_empty_continuation_page_is_a_failed_page_not_the_end_of_the_listing(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """Read as "no more rows", the listing would end short; as a failed page it starts again
    from the top (at most twice), then the error stands."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if "queryId=" in (request.url or ""):
            return 200, {}, ""
        page = rows({"Id": "1", "State": "Queued"})
        return 200, {"x-ms-continuation-queryId": "q1"}, json.dumps(page)

    mocked.add_callback("GET", BASE + "/jobs", callback=answer)
    with pytest.raises(errors.BadResponse) as raised:
        list(client.iter_jobs(rows_per_read=1))
    assert raised.value.message.startswith("GET /jobs: the answer is empty where ")
    pages = [call.request.url or "" for call in mocked.calls]
    assert sum("queryId=q1" in url for url in pages) == 3  # the first try and two restarts


@pytest.mark.parametrize("spec", ["hpcpack-rest-2016u3.json", "hpcpack-rest-2019.json"])
def test_openapi_every_get_the_client_reads_documents_a_200_body_and_no_204(spec: str) -> None:
    """`reference/hpcpack/openapi/*.json`: the shapes these tests hold the client to."""
    path = REFERENCE / "openapi" / spec
    if not path.exists():
        pytest.skip("../shared/reference/hpcpack is not here")
    paths = json.loads(path.read_text(encoding="utf-8"))["paths"]
    # 2019 lists nodes at /cluster/nodes*; the /jobs* endpoints (CASES[:9]) are the same.
    cases = [*CASES_2019, *CASES[:9]] if spec.endswith("2019.json") else CASES
    for _, sent, _ in cases:
        template = _template(paths, sent)
        assert template is not None, (spec, sent)
        answers = paths[template]["get"]["responses"]
        assert "204" not in answers and "schema" in answers["200"], (spec, template)


def _template(paths: dict[str, object], sent: str) -> str | None:
    """The spec's path template (`/jobs/{id}/tasks/{taskid}`…) that `sent` fills in."""
    for template in paths:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, sent) and not (
            template != sent and sent in paths  # a literal path beats a template
        ):
            return template
    return None
