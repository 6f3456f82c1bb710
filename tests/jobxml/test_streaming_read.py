"""The reader takes each task as the parser completes it and frees it (safe.parse_streaming):
what it reads, and which error wins, are what they were with the whole tree in memory."""

from __future__ import annotations

import pytest

from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.jobxml import safe

NS = "http://schemas.microsoft.com/HPCS2008R2/scheduler/"


def test_only_tasks_of_a_top_level_tasks_element_are_read() -> None:
    data = (
        f'<Job xmlns="{NS}" Name="j"><Other><Tasks><Task CommandLine="hidden"/></Tasks></Other>'
        '<Tasks><Task Name="a" CommandLine="one"><Task CommandLine="nested"/></Task>'
        '<Note/><Task Name="b" CommandLine="two"/></Tasks>'
        "<EnvironmentVariables><Variable><Name>X</Name><Value>1</Value></Variable>"
        "</EnvironmentVariables></Job>"
    ).encode()
    document = jobxml.read_document(data, source="j.xml")
    assert [(t.position, t.values["CommandLine"]) for t in document.tasks] == [
        (1, "one"),
        (2, "two"),
    ]
    assert document.env == (("X", "1"),)


def test_a_malformed_file_is_reported_before_a_bad_task_in_it() -> None:
    data = b'<Job><Tasks><Task CommandLine="x" MinCores="many"/></Tasks><Broken></Job>'
    with pytest.raises(jobxml.JobXmlError, match="not well formed"):
        jobxml.read_document(data, source="j.xml")


def test_a_wrong_root_is_reported_before_a_bad_task_in_it() -> None:
    data = b'<Jobs><Tasks><Task CommandLine="x" MinCores="many"/></Tasks></Jobs>'
    with pytest.raises(jobxml.JobXmlError, match="root element is <Jobs>"):
        jobxml.read_document(data, source="j.xml")


def test_the_first_bad_task_is_the_one_reported() -> None:
    data = (
        b'<Job><Tasks><Task CommandLine="a"/><Task CommandLine="b" MinCores="many"/>'
        b'<Task CommandLine="c" MaxCores="lots"/></Tasks></Job>'
    )
    with pytest.raises(jobxml.JobXmlError, match="task 2 attribute MinCores"):
        jobxml.read_document(data, source="j.xml")


def test_read_tasks_are_freed_as_the_parse_goes() -> None:
    held: list[int] = []

    def take(element: object) -> bool:
        held.append(len(element.getparent()))  # type: ignore[attr-defined]
        return True

    # lxml parses the input a buffer at a time: tasks wait only as long as their buffer does.
    task = '<Task CommandLine="{}"/>'.format("x" * 200).encode()
    data = b"<Job><Tasks>" + task * 5000 + b"</Tasks></Job>"
    safe.parse_streaming(data, source="j.xml", tag="Task", take=take)
    assert len(held) == 5000
    assert max(held) < 500  # never the whole job: the tasks before are freed
