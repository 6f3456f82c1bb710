"""Paged listings: continuation tokens, laziness, and restarting after a failed page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
import responses

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from tests.hpcpack.client.conftest import BASE, rows, sent

PreparedRequest = requests.PreparedRequest
Answer = tuple[int, dict[str, str], str]


def _jobs(*ids: int) -> list[dict[str, object]]:
    return rows(*({"Id": str(i), "State": "Queued"} for i in ids))


def _pages(
    pages: dict[str | None, tuple[list[int], str | None]],
    *,
    header: str = "x-ms-continuation-queryId",
) -> Callable[[PreparedRequest], Answer]:
    """A /jobs endpoint serving `pages` by queryId (None = first page)."""
    import json
    from urllib.parse import parse_qs, urlsplit

    def answer(request: PreparedRequest) -> Answer:
        query = parse_qs(urlsplit(request.url or "").query)
        ids, follow = pages[query.get("queryId", [None])[0]]
        headers = {header: follow} if follow else {}
        return 200, headers, json.dumps(_jobs(*ids))

    return answer


def test_listing_follows_the_continuation_across_four_pages(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    pages = {None: ([1, 2], "q1"), "q1": ([3, 4], "q2"), "q2": ([5, 6], "q3"), "q3": ([7], None)}
    mocked.add_callback("GET", BASE + "/jobs", callback=_pages(pages))
    ids = [row["Id"] for row in client.iter_jobs(properties=["Id", "State"], rows_per_read=2)]
    assert ids == ["1", "2", "3", "4", "5", "6", "7"]
    queries = [sent(call)[2] for call in mocked.calls]
    assert [q.get("queryId") for q in queries] == [None, ["q1"], ["q2"], ["q3"]]
    assert all(q["rowsPerRead"] == ["2"] for q in queries)


def test_continuation_header_name_is_case_insensitive(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    pages = {None: ([1], "a"), "a": ([2], "b"), "b": ([3], None)}
    mocked.add_callback(
        "GET", BASE + "/jobs", callback=_pages(pages, header="X-MS-Continuation-QueryId")
    )
    assert [r["id"] for r in client.iter_jobs()] == ["1", "2", "3"]


def test_listing_is_lazy(mocked: responses.RequestsMock, client: HpcPackClient) -> None:
    pages = {None: ([1, 2], "q1"), "q1": ([3], None)}
    mocked.add_callback("GET", BASE + "/jobs", callback=_pages(pages))
    listing = client.iter_jobs()
    assert len(mocked.calls) == 0
    assert next(listing)["Id"] == "1"
    assert len(mocked.calls) == 1


def test_a_failed_page_restarts_from_the_top_without_the_stale_query_id(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    state = {"failed": False}
    normal = _pages({None: ([1, 2], "old"), "old": ([3, 4], "old2"), "old2": ([5], None)})

    def answer(request: PreparedRequest) -> Answer:
        if "queryId=old2" in (request.url or "") and not state["failed"]:
            state["failed"] = True
            return 503, {}, ""
        return normal(request)

    mocked.add_callback("GET", BASE + "/jobs", callback=answer)
    ids = [row["Id"] for row in client.iter_jobs(properties=["Id"])]
    assert ids == ["1", "2", "3", "4", "5"]  # nothing twice, nothing lost
    query_ids = [sent(call)[2].get("queryId") for call in mocked.calls]
    # page 3 failed once; the listing started again from the top instead of retrying "old2"
    assert query_ids == [None, ["old"], ["old2"], None, ["old"], ["old2"]]


def test_restarts_are_bounded(mocked: responses.RequestsMock, client: HpcPackClient) -> None:
    normal = _pages({None: ([1], "q"), "q": ([2], None)})

    def answer(request: PreparedRequest) -> Answer:
        if "queryId=q" in (request.url or ""):
            return 404, {}, "The query has expired."
        return normal(request)

    mocked.add_callback("GET", BASE + "/jobs", callback=answer)
    with pytest.raises(errors.NotFound):
        list(client.iter_jobs())
    assert sum(1 for c in mocked.calls if "queryId" not in (c.request.url or "")) == 3


def test_the_key_property_is_always_requested(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    mocked.add("GET", BASE + "/jobs/3/tasks", json=[])
    assert list(client.iter_tasks(3, properties=["State"], expand_parametric=True)) == []
    assert sent(mocked.calls[0])[2]["properties"] == ["State,TaskId"]


def test_a_server_that_answers_the_first_page_again_for_a_query_id_is_an_error_not_a_loop(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """A server that ignores `queryId` and says "more rows" each time is not followed forever
    (before: thousands of requests a second, with no end and no error)."""
    import json

    def answer(request: PreparedRequest) -> Answer:
        if len(mocked.calls) > 30:  # bounds this test, not the client
            return 200, {}, "[]"
        return 200, {"x-ms-continuation-queryId": "q"}, json.dumps(_jobs(1, 2))

    mocked.add_callback("GET", BASE + "/jobs", callback=answer)
    with pytest.raises(errors.BadResponse) as failed:
        list(client.iter_jobs(properties=["Id"]))
    assert "GET /jobs" in failed.value.message and len(mocked.calls) < 30
