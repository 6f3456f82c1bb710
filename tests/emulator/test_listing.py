"""Listing: paging with x-ms-continuation-queryId, properties=, $filter, owner, sorting."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import Api, rows


def test_25_jobs_in_pages_of_10_give_3_pages_with_the_header_on_the_first_two(start_emulator):
    running = start_emulator()
    api = Api(running)
    for i in range(25):
        api.create_job(Name=f"job{i:02d}")
    pages, headers, query_id = [], [], None
    while True:
        params = {"rowsPerRead": "10", **({"queryId": query_id} if query_id else {})}
        reply = api.call("GET", "/jobs", params=params)
        assert reply.status_code == 200
        pages.append(rows(reply.json()))
        query_id = reply.headers.get("x-ms-continuation-queryId")
        headers.append(query_id is not None)
        if query_id is None:
            break
    assert [len(p) for p in pages] == [10, 10, 5]
    assert headers == [True, True, False]
    ids = [int(r["Id"]) for page in pages for r in page]
    assert ids == sorted(ids) and len(set(ids)) == 25
    assert set(pages[0][0]) == {"Id", "Owner", "Name", "State", "Priority"}


def test_properties_are_case_insensitive_and_unknown_ones_are_refused(emulator):
    api = Api(emulator)
    job = api.create_job(Name="props")
    got = api.ok("GET", f"/jobs/{job}", params={"Properties": "id,NAME"})
    assert got == [{"Name": "Id", "Value": str(job)}, {"Name": "Name", "Value": "props"}]
    reply = api.call("GET", "/jobs", params={"properties": "Id,Bogus"})
    assert reply.status_code == 400


def test_filters_owner_and_sort(start_emulator):
    running = start_emulator()
    admin, alice = Api(running), Api(running, "user")
    first = alice.create_job(Name="b", Priority="Highest")
    second = admin.create_job(Name="a")
    admin.ok("POST", f"/jobs/{second}/cancel", json="")
    listed = rows(admin.ok("GET", "/jobs", params={"$filter": "JobState eq Canceled"}))
    assert [int(r["Id"]) for r in listed] == [second]
    listed = rows(admin.ok("GET", "/jobs", params={"owner": "HPC\\alice"}))
    assert [int(r["Id"]) for r in listed] == [first]
    listed = rows(admin.ok("GET", "/jobs", params={"sortJobsBy": "Name"}))
    assert [r["Name"] for r in listed] == ["a", "b"]
    listed = rows(admin.ok("GET", "/jobs", params={"sortjobsby": "NoSuchProperty"}))
    assert [int(r["Id"]) for r in listed] == [first, second]
    both = "JobState eq Configuring and ChangeTimeFrom eq 1/1/2000 12:00:00 AM"
    listed = rows(admin.ok("GET", "/jobs", params={"$filter": both}))
    assert [int(r["Id"]) for r in listed] == [first]
    bad = admin.call("GET", "/jobs", params={"$filter": "Color eq red"})
    assert bad.status_code == 400


def test_node_group_filter_and_task_filters(start_emulator):
    running = start_emulator(groups=(("Big", ("CN001",)),))
    api = Api(running)
    job = api.create_job(NodeGroups="Big")
    api.create_job()
    listed = rows(api.ok("GET", "/jobs", params={"$filter": "NodeGroup eq Big"}))
    assert [int(r["Id"]) for r in listed] == [job]
    for i in range(4):
        api.add_task(job, CommandLine=f"exit:{i % 2}", Name=f"t{i}")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Failed")
    failed = rows(api.ok("GET", f"/jobs/{job}/tasks", params={"$filter": "TaskState eq Failed"}))
    assert [r["Name"] for r in failed] == ["t1", "t3"]
    some = rows(api.ok("GET", f"/jobs/{job}/tasks", params={"$filter": "TaskIds eq 1,4"}))
    assert [r["JobTaskId"] for r in some] == ["1", "4"]
    paged = api.call("GET", f"/jobs/{job}/tasks", params={"rowsPerRead": "3"})
    assert len(paged.json()) == 3 and "x-ms-continuation-queryId" in paged.headers
    rest = api.call(
        "GET",
        f"/jobs/{job}/tasks",
        params={"rowsPerRead": "3", "queryId": paged.headers["x-ms-continuation-queryId"]},
    )
    assert len(rest.json()) == 1 and "x-ms-continuation-queryId" not in rest.headers


@pytest.mark.parametrize("accept", ["application/xml", "text/xml"])
def test_xml_bodies_by_accept_and_content_type(emulator, accept):
    api = Api(emulator)
    body = (
        '<ArrayOfProperty xmlns="http://schemas.microsoft.com/HPCS2008R2/common">'
        "<Property><Name>Name</Name><Value>from-xml</Value></Property></ArrayOfProperty>"
    )
    reply = api.call(
        "POST", "/jobs", data=body, headers={"Content-Type": "application/xml", "Accept": accept}
    )
    assert reply.status_code == 200
    assert reply.text.startswith(
        '<int xmlns="http://schemas.microsoft.com/2003/10/Serialization/">'
    )
    job = int(reply.text.split(">")[1].split("<")[0])
    got = api.call("GET", f"/jobs/{job}", params={"properties": "Name"}, headers={"Accept": accept})
    assert "<Name>Name</Name><Value>from-xml</Value>" in got.text
    assert got.headers["Content-Type"].startswith("application/xml")


def test_start_row_paging_and_descending_order(start_emulator):
    # per ground truth §1.3 (2016 U3 QFE): startRow + x-ms-row-count, no continuation; asc
    api = Api(start_emulator())
    ids = [api.create_job(Name=f"j{i}") for i in range(5)]
    reply = api.call("GET", "/jobs", params={"startRow": "1", "rowsPerRead": "2"})
    assert [int(r["Id"]) for r in rows(reply.json())] == ids[1:3]
    assert reply.headers["x-ms-row-count"] == "5"
    assert "x-ms-continuation-queryId" not in reply.headers
    end = api.call("GET", "/jobs", params={"startRow": "5"})
    assert end.status_code == 200 and end.json() == []
    down = rows(api.ok("GET", "/jobs", params={"asc": "false"}))
    assert [int(r["Id"]) for r in down] == ids[::-1]
    by_name = rows(api.ok("GET", "/jobs", params={"sortJobsBy": "Name", "Asc": "False"}))
    assert [r["Name"] for r in by_name] == ["j4", "j3", "j2", "j1", "j0"]


def test_owner_filter_takes_underscore_and_percent_literally(emulator):
    api = Api(emulator)
    lookalike = Api(emulator, as_user="HPC\\a_ice")
    theirs = lookalike.create_job(Name="lookalike")
    mine = Api(emulator, who="user").create_job(Name="alice's")
    params = {"properties": "Id", "rowsPerRead": 100000}
    by_a_ice = [
        int(r["Id"]) for r in rows(api.ok("GET", "/jobs", params={**params, "owner": "a_ice"}))
    ]
    by_alice = [
        int(r["Id"]) for r in rows(api.ok("GET", "/jobs", params={**params, "owner": "alice"}))
    ]
    assert theirs in by_a_ice and mine not in by_a_ice
    assert mine in by_alice and theirs not in by_alice
    assert rows(api.ok("GET", "/jobs", params={**params, "owner": "%"})) == []


@pytest.mark.parametrize("asc", ["true", "false"])
def test_task_pages_seek_past_the_last_row_in_either_order(emulator, asc):
    api = Api(emulator)
    job = api.create_job()
    api.add_task(job, Name="a", CommandLine="echo a")
    sweep = dict(Type="ParametricSweep", StartValue="1", EndValue="7", CommandLine="echo *")
    api.add_task(job, Name="s", **sweep)
    api.add_task(job, Name="b", CommandLine="echo b")
    api.ok("POST", f"/jobs/{job}/submit")
    api.wait(job, "Finished")
    whole = rows(api.ok("GET", f"/jobs/{job}/tasks", params={"rowsPerRead": 100, "asc": asc}))
    assert len(whole) == 9
    seen, token, pages = [], None, 0
    while True:
        params = {"rowsPerRead": 2, "asc": asc, **({"queryId": token} if token else {})}
        reply = api.call("GET", f"/jobs/{job}/tasks", params=params)
        seen += rows(reply.json())
        pages += 1
        token = reply.headers.get("x-ms-continuation-queryId")
        if not token:
            break
    assert seen == whole and pages == 5
    ids = [r["TaskId"] for r in whole]
    assert ids == sorted(ids, key=lambda t: [int(p) for p in t.split(".")], reverse=asc == "false")


@pytest.mark.parametrize(
    "names",
    [
        "Priority,HasRuntime,Name,TaskCount,FailedTaskCount,Owner,Id",
        "RuntimeSeconds,HasRuntime,ExpandedPriority,Priority,ClientSource,Project",
        "",
    ],
)
def test_a_listing_shows_each_job_as_reading_the_job_shows_it(start_emulator, names):
    running = start_emulator()
    api = Api(running)
    jobs = [
        api.create_job(Name="a", Priority="Highest", RuntimeSeconds="60", Project="p"),
        api.create_job(Name="b"),
        api.create_job(Name="c", ClientSource="hpcspec", Priority="BelowNormal"),
    ]
    api.add_task(jobs[0], CommandLine="echo 1")
    api.add_task(jobs[0], CommandLine="echo 2")
    params = {"rowsPerRead": "2", **({"properties": names} if names else {})}
    listed = rows(api.ok("GET", "/jobs", params=params)) + rows(
        api.ok("GET", "/jobs", params={**params, "rowsPerRead": "2", "startRow": "2"})
    )
    shown = names.split(",") if names else ["Id", "Owner", "Name", "State", "Priority"]
    assert listed == [api.job(job, *shown) for job in jobs]
    assert listed[0].get("TaskCount", "2") == "2"


@pytest.mark.parametrize(
    "names",
    [
        "",  # the default properties
        "TaskId,Name,State,CommandLine,StdOutFilePath,RuntimeSeconds,WorkDirectory,Id",
        "Name,HasCustomProperties,HasRuntime,CommandLine",  # computed: the TaskRow path
    ],
)
def test_a_task_listing_shows_each_task_as_reading_the_task_shows_it(emulator, names):
    # Plain properties are read from SQLite column by column (Store.query_task_values), the
    # computed ones through the TaskRow: both must show what GET /jobs/{id}/tasks/{task} shows,
    # defaults included for a property a task never had.
    api = Api(emulator)
    job = api.create_job()
    tasks = [
        api.add_task(job, Name="plain", CommandLine="echo a"),
        api.add_task(job, CommandLine="echo b", StdOutFilePath="out.txt", RuntimeSeconds="60"),
        api.add_task(job, Name="dir", CommandLine="echo c", WorkDirectory="C:\\work"),
    ]
    api.ok(
        "POST", f"/jobs/{job}/tasks/{tasks[0]}/customProperties", json=[{"Name": "k", "Value": "v"}]
    )
    params = {"rowsPerRead": "2", **({"properties": names} if names else {})}
    first = api.call("GET", f"/jobs/{job}/tasks", params=params)
    token = first.headers["x-ms-continuation-queryId"]
    listed = rows(first.json()) + rows(
        api.ok("GET", f"/jobs/{job}/tasks", params={**params, "queryId": token})
    )
    shown = names.split(",") if names else list(listed[0])
    assert listed == [api.task(job, task, *shown) for task in tasks]
