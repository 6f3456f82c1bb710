"""Paged listings against servers whose paging and row habits differ from the emulator's.

The REST API 2016 pages with `rowsPerRead` and `x-ms-continuation-queryId` and says nothing
of what a continuation shows when rows change between pages
(../shared/reference/hpcpack-rest-api-2016.md, "GET /jobs"). Each test is one habit: what a
pass can see (a key shown twice, ids going back, pages saying "more" without rows, a row
without its identity) is an anomaly — the listing starts again, then the error names the
request; it never ends early, never loops, never guesses (docs/cluster-check.md, Listings).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from tests.hpcpack.client.conftest import BASE, rows

Answer = tuple[int, dict[str, str], str]
Page = tuple[list[int], str | None]
CALLS_BOUND = 60  # bounds a looping client in these tests (a mock that ends the listing)


def _jobs(*ids: int, drop: str = "") -> list[dict[str, object]]:
    values = [{"Id": str(i), "Name": f"j{i}", "State": "Queued", "ClientSource": "x"} for i in ids]
    return rows(*({k: v for k, v in row.items() if k != drop} for row in values))


def _server(
    passes: list[dict[str | None, Page]], *, drop: str = ""
) -> Callable[[requests.PreparedRequest], Answer]:
    """A /jobs endpoint serving each pass of the listing from its own pages (by queryId; a
    first page without queryId starts the next pass; the last pass repeats)."""
    state = {"pass": -1, "calls": 0}

    def answer(request: requests.PreparedRequest) -> Answer:
        state["calls"] += 1
        if state["calls"] > CALLS_BOUND:
            return 200, {}, "[]"
        query_id = parse_qs(urlsplit(request.url or "").query).get("queryId", [None])[0]
        if query_id is None:
            state["pass"] = min(state["pass"] + 1, len(passes) - 1)
        ids, follow = passes[state["pass"]][query_id]
        headers = {"x-ms-continuation-queryId": follow} if follow else {}
        return 200, headers, json.dumps(_jobs(*ids, drop=drop))

    return answer


def _listed(mocked: responses.RequestsMock, client: HpcPackClient) -> list[str]:
    return [row.text("Id") for row in client.iter_jobs(properties=["Id"], rows_per_read=2)]


def _refused(mocked: responses.RequestsMock, client: HpcPackClient) -> errors.BadResponse:
    with pytest.raises(errors.BadResponse) as failed:
        _listed(mocked, client)
    assert failed.value.message.startswith("GET /jobs: page ")
    assert len(mocked.calls) < 20  # three passes at most, never a loop
    return failed.value


def test_a_continuation_that_restarts_from_the_first_page_is_refused_not_followed_forever(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """Before: rows already seen were skipped and the continuation followed until the server
    stopped (here after 60 requests; a real one: never), the listing ending as if whole."""
    pages: dict[str | None, Page] = {None: ([1, 2], "a"), "a": ([3, 4], "b"), "b": ([1, 2], "a")}
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([pages]))
    failed = _refused(mocked, client)
    assert "Id 1 again" in failed.message and "queryId 'b'" in failed.message


def test_the_same_job_on_two_pages_lists_again_and_a_clean_pass_is_used(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """A cursor over a changing table may show a job twice: the pass is not concluded from;
    the listing starts again, and a clean second pass shows each job once."""
    twice: dict[str | None, Page] = {None: ([1, 2], "a"), "a": ([2, 3], "b"), "b": ([4], None)}
    clean: dict[str | None, Page] = {None: ([1, 2], "a"), "a": ([3, 4], None)}
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([twice, clean]))
    assert _listed(mocked, client) == ["1", "2", "3", "4"]
    assert [c.request.url or "" for c in mocked.calls][2].count("queryId") == 0  # relisted


def test_the_same_job_on_two_pages_in_every_pass_is_an_error_naming_the_request(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """Before: the second showing was skipped silently, whatever the cursor had lost."""
    twice: dict[str | None, Page] = {None: ([1, 2], "a"), "a": ([2, 3], None)}
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([twice]))
    failed = _refused(mocked, client)
    assert "Id 2 again" in failed.message and failed.hint and "cluster check" in failed.hint


@pytest.mark.parametrize(
    "pages",
    [
        {None: ([1, 2], "a"), "a": ([4, 3], None)},  # out of order within a page
        {None: ([5, 6], "a"), "a": ([3, 4], None)},  # a page that goes back
    ],
)
def test_a_job_listing_whose_ids_go_back_is_refused(
    mocked: responses.RequestsMock, client: HpcPackClient, pages: dict[str | None, Page]
) -> None:
    """Unsorted, the API lists by ascending Id; ids going back show the cursor is not where
    the client thinks (before: accepted as they came)."""
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([pages]))
    assert "the rows go back" in _refused(mocked, client).message


def test_a_listing_sorted_by_another_property_is_not_held_to_id_order(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    pages: dict[str | None, Page] = {None: ([5, 6], "a"), "a": ([3, 4], None)}
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([pages]))
    listed = client.iter_jobs(properties=["Id"], sort_by="Name", rows_per_read=2)
    assert [row.text("Id") for row in listed] == ["5", "6", "3", "4"]


def test_pages_saying_more_without_rows_are_refused_not_taken_as_the_end(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """Before: after three empty pages the listing ended, short, as if it were whole."""
    pages: dict[str | None, Page] = {None: ([1, 2], "a"), "a": ([], "a")}
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([pages]))
    assert "3 pages in a row without rows" in _refused(mocked, client).message


def test_an_empty_page_with_a_continuation_then_rows_is_followed(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    pages: dict[str | None, Page] = {None: ([1, 2], "a"), "a": ([], "b"), "b": ([3], None)}
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([pages]))
    assert _listed(mocked, client) == ["1", "2", "3"]


def test_pages_larger_or_smaller_than_rows_per_read_are_read_whole(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """`rowsPerRead` is a request, not a contract the client relies on."""
    pages: dict[str | None, Page] = {None: ([1, 2, 3, 4, 5], "a"), "a": ([6], "b")}
    pages["b"] = ([7], None)
    mocked.add_callback("GET", BASE + "/jobs", callback=_server([pages]))
    assert _listed(mocked, client) == [str(i) for i in range(1, 8)]


def test_a_row_without_its_id_is_refused(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """Before: a row without Id was handed on (and never checked for repeats)."""
    mocked.add_callback(
        "GET", BASE + "/jobs", callback=_server([{None: ([1, 2], None)}], drop="Id")
    )
    with pytest.raises(errors.BadResponse) as failed:
        _listed(mocked, client)
    assert failed.value.message.startswith("GET /jobs: page 1: a row without Id")


@pytest.mark.parametrize("column", ["ClientSource", "Name", "State"])
def test_a_job_listing_row_without_an_identity_column_is_refused_not_skipped(
    mocked: responses.RequestsMock, client: HpcPackClient, column: str
) -> None:
    """Before: a row without ClientSource or Name was skipped as "not hpcspec's" (its job
    invisible to plan, apply's race check and destroy); one without State was a ValueError."""
    mocked.add_callback(
        "GET", BASE + "/jobs", callback=_server([{None: ([1, 2], None)}], drop=column)
    )
    with pytest.raises(errors.BadResponse) as failed:
        list(client.list_jobs(client_source_prefix="hpcspec:", name_prefix="hpcspec:"))
    assert failed.value.message.startswith(f"GET /jobs: the row of job 1 has no {column}")


@pytest.mark.parametrize("column", ["ClientSource", "Name"])
@pytest.mark.parametrize("held", ["hpcspec:0123abcd:lock", "HPCSPEC:0123ABCD:LOCK"])
def test_a_listing_that_changed_the_case_of_hpcspecs_identity_is_refused(
    mocked: responses.RequestsMock, client: HpcPackClient, column: str, held: str
) -> None:
    """A row with the prefix in another case is read by id: a job holding the prefix as
    written shows the listing changed it (before: skipped as not hpcspec's, so plan planned
    its key anew and the lock waited for a job it never saw); a job that holds the other case
    itself is another user's value, skipped (it must not stop anyone's apply)."""
    row = {"Id": "1", "Name": "j1", "State": "Queued", "ClientSource": ""}
    row[column] = "HPCSPEC:0123ABCD:LOCK"
    mocked.add("GET", BASE + "/jobs", json=rows(row, {**row, "Id": "2", column: "other"}))
    mocked.add("GET", BASE + "/jobs/1", json=rows({**row, column: held})[0]["Properties"])
    prefix = "hpcspec:0123abcd"
    listed = client.list_jobs(client_source_prefix=prefix, name_prefix=prefix)
    if held.startswith(prefix):
        with pytest.raises(errors.BadResponse) as failed:
            list(listed)
        assert failed.value.message.startswith("GET /jobs: job 1 is listed with Name ")
        assert "in another case than the job holds" in failed.value.message
    else:
        assert list(listed) == []


def _spelled(passes: list[list[list[str]]]) -> Callable[[requests.PreparedRequest], Answer]:
    """A /jobs endpoint whose pages spell Ids as given; a pass's pages after the first are
    asked for by queryId "p<n>"; a page that is the string "500" fails."""
    state = {"pass": -1}

    def answer(request: requests.PreparedRequest) -> Answer:
        query_id = parse_qs(urlsplit(request.url or "").query).get("queryId", [None])[0]
        if query_id is None:
            state["pass"] = min(state["pass"] + 1, len(passes) - 1)
        pages = passes[state["pass"]]
        number = int(query_id[1:]) if query_id else 0
        if pages[number] == ["500"]:
            return 500, {}, "{}"
        headers = {"x-ms-continuation-queryId": f"p{number + 1}"} if number + 1 < len(pages) else {}
        values = [
            {"Id": i, "Name": "j", "State": "Queued", "ClientSource": "x"} for i in pages[number]
        ]
        return 200, headers, json.dumps(rows(*values))

    return answer


def test_a_job_spelled_otherwise_after_a_restart_is_not_handed_on_twice(
    mocked: responses.RequestsMock, client: HpcPackClient
) -> None:
    """Rows already handed on are skipped after a restart by the number their Id spells
    (before: by its text, so job 7 listed as "7", then as "007" by the second pass, came
    twice — two jobs where there is one)."""
    first = [["7", "8"], ["500"]]
    second = [["007", " 8"], ["9"]]
    mocked.add_callback("GET", BASE + "/jobs", callback=_spelled([first, second]))
    assert [int(i) for i in _listed(mocked, client)] == [7, 8, 9]


@pytest.mark.parametrize("sort_by", [None, "Name"])
def test_a_job_spelled_two_ways_in_one_pass_is_refused_even_when_sorted(
    mocked: responses.RequestsMock, client: HpcPackClient, sort_by: str | None
) -> None:
    """Before: sorted by another property (no order check), "7" and "007" were two rows."""
    mocked.add_callback("GET", BASE + "/jobs", callback=_spelled([[["7", "8"], ["007"]]]))
    with pytest.raises(errors.BadResponse) as failed:
        list(client.iter_jobs(properties=["Id"], sort_by=sort_by, rows_per_read=2))
    assert "Id 7 again" in failed.value.message or "the rows go back" in failed.value.message


@pytest.mark.parametrize("spelled", ["7_0", "+7", "\u0667", "7.0", "-7"])
def test_a_job_id_that_is_no_plain_whole_number_is_refused(
    mocked: responses.RequestsMock, client: HpcPackClient, spelled: str
) -> None:
    """`int` alone reads "7_0" as 70 and Arabic-Indic digits as numbers."""
    mocked.add_callback("GET", BASE + "/jobs", callback=_spelled([[["1", spelled]]]))
    with pytest.raises(errors.BadResponse) as failed:
        _listed(mocked, client)
    assert "is not a whole number" in failed.value.message
