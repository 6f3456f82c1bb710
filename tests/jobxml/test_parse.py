"""Reading job XML by the real importer's rules.

Per reference/hpcpack/derived/job-xml-import-export.json and ground truth §2.2.
"""

from __future__ import annotations

import pytest

from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.definition import Sweep

NS = 'xmlns="http://schemas.microsoft.com/HPCS2008R2/scheduler/"'


def _parse(text: str) -> jobxml.JobDocument:
    return jobxml.read_document(text.encode(), source="job.xml")


def test_minimal_2016_input_without_namespace_or_version() -> None:
    # the BVT job a real 2016 U3 server accepts (ground truth §2.1)
    definition = jobxml.parse(
        b'<Job Name="SimpleJob" NodeGroups="ComputeNodes" NodeGroupOp="Uniform">'
        b'<Tasks><Task Name="T" CommandLine="echo Hello" MinCores="1" MaxCores="1"/></Tasks></Job>',
        source="bvt.xml",
    )
    assert definition.get("Name") == "SimpleJob"
    assert definition.get("NodeGroupOp") == "Uniform"
    task = definition.tasks[0]
    assert (task.name, task.command_line, task.sweep) == ("T", "echo Hello", None)
    assert dict(task.properties) == {"MinCores": 1, "MaxCores": 1}


def test_namespace_is_ignored_and_attributes_match_in_any_case() -> None:
    doc = _parse(
        '<Job xmlns="urn:other" NAME="x" rununtilcanceled="True" mincores="2">'
        '<Tasks><Task commandline="a" ISEXCLUSIVE="1"/></Tasks></Job>'
    )
    assert doc.values == {"Name": "x", "RunUntilCanceled": True, "MinCores": 2}
    assert doc.tasks[0].values == {"CommandLine": "a", "IsExclusive": True}


def test_unknown_attributes_are_ignored_and_recorded() -> None:
    doc = _parse(
        f'<Job {NS} Version="3.000" Id="7" State="Running" Owner="D\\u" UserName="D\\u" '
        'Pool="p" Name="n"><Tasks><Task Id="1" NiceId="1" CommandLine="c"/></Tasks></Job>'
    )
    assert doc.values == {"Name": "n"}
    assert doc.read == ("Name",)
    assert doc.ignored == ("Version", "Id", "State", "Owner", "UserName", "Pool")
    assert doc.tasks[0].ignored == ("Id", "NiceId")


def test_later_priority_attribute_wins() -> None:
    assert _parse('<Job Priority="Normal" ExpandedPriority="200"/>').values == {"Priority": 200}
    assert _parse('<Job ExpandedPriority="200" Priority="aboveNormal-100"/>').values == {
        "Priority": 2900
    }
    assert _parse('<Job Priority="Normal+5"/>').values == {"Priority": 2005}


def test_legacy_runtime_and_processor_counts() -> None:
    doc = _parse(
        '<Job Runtime="1:02:30" MinimumNumberOfProcessors="2" MaximumNumberOfProcessors="8">'
        '<Tasks><Task CommandLine="c" Runtime="Infinite" MinimumNumberOfProcessors="3"/>'
        '<Task CommandLine="c" Runtime="45"/></Tasks></Job>'
    )
    assert doc.values == {
        "RuntimeSeconds": 86400 + 2 * 3600 + 30 * 60,
        "UnitType": "Core",
        "MinCores": 2,
        "AutoCalculateMin": False,
        "MaxCores": 8,
        "AutoCalculateMax": False,
    }
    assert doc.tasks[0].values == {"CommandLine": "c", "RuntimeSeconds": 0, "MinCores": 3}
    assert doc.tasks[1].values["RuntimeSeconds"] == 45 * 60


def test_task_aliases() -> None:
    doc = _parse(
        '<Job><Tasks><Task Name="b" CommandLine="c" Depend="a" Stdout="o" Stderr="e" '
        'Stdin="i"/></Tasks></Job>'
    )
    assert doc.tasks[0].values == {
        "Name": "b",
        "CommandLine": "c",
        "DependsOn": "a",
        "StdOutFilePath": "o",
        "StdErrFilePath": "e",
        "StdInFilePath": "i",
    }


def test_is_parametric_makes_a_sweep_and_conflicts_are_refused() -> None:
    definition = jobxml.parse(
        b'<Job><Tasks><Task CommandLine="x *" IsParametric="true" StartValue="1" '
        b'EndValue="9" IncrementValue="2"/></Tasks></Job>',
        source="s.xml",
    )
    assert definition.tasks[0].sweep == Sweep(1, 9, 2)
    with pytest.raises(jobxml.JobXmlError, match="Type=Basic but IsParametric=true"):
        jobxml.parse(
            b'<Job><Tasks><Task CommandLine="x" Type="Basic" IsParametric="true"/></Tasks></Job>',
            source="s.xml",
        )


def test_basic_task_start_end_values_are_not_a_sweep() -> None:
    definition = jobxml.parse(
        b'<Job><Tasks><Task CommandLine="x" Type="Basic" StartValue="0" EndValue="0" '
        b'IncrementValue="1"/></Tasks></Job>',
        source="s.xml",
    )
    assert definition.tasks[0].sweep is None


def test_env_and_custom_properties_are_trimmed_and_incomplete_pairs_dropped() -> None:
    definition = jobxml.parse(
        b"<Job><CustomProperties><Term><Name> a </Name><Value> 1 </Value></Term></CustomProperties>"
        b"<ExtendedTerms><Term><Name>b</Name><Value>2</Value></Term></ExtendedTerms>"
        b"<EnvironmentVariables><Variable><Name>X</Name><Value>y</Value></Variable>"
        b"<Variable><Name>NOVALUE</Name></Variable></EnvironmentVariables>"
        b'<Tasks><Task CommandLine="c"><EnvironmentVariables><Variable><Name>T</Name>'
        b"<Value>v</Value></Variable></EnvironmentVariables><CustomProperties><Term>"
        b"<Name>k</Name><Value>w</Value></Term></CustomProperties></Task></Tasks></Job>",
        source="s.xml",
    )
    assert definition.custom_properties == (("a", "1"), ("b", "2"))
    assert definition.env == (("X", "y"),)
    assert definition.tasks[0].env == (("T", "v"),)
    assert definition.tasks[0].custom_properties == (("k", "w"),)


def test_task_groups_become_dependencies_by_name() -> None:
    definition = jobxml.parse(
        b'<Job><Dependencies><Parent GroupId="1"><Child GroupId="2"/></Parent></Dependencies>'
        b'<Tasks><Task Name="a" CommandLine="c" GroupId="1"/><Task Name="b" CommandLine="c" '
        b'GroupId="1"/><Task Name="z" CommandLine="c" GroupId="2" DependsOn="a"/></Tasks></Job>',
        source="s.xml",
    )
    assert [t.depends_on for t in definition.tasks] == [(), (), ("a", "b")]


def test_parent_job_ids_and_hold_until_in_the_servers_culture() -> None:
    definition = jobxml.parse(
        b'<Job ParentJobIds="3, 4" HoldUntil="2/17/2010 6:02:32 PM"/>', source="s.xml"
    )
    assert definition.parent_job_ids == (3, 4)
    assert definition.get("HoldUntil") == "2010-02-17T18:02:32Z"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<Tasks/>", "root element is <Tasks>, not <Job>"),
        (b'<Job MinCores="two"/>', "attribute MinCores: invalid value 'two'"),
        (b'<Job IsExclusive="yes"/>', "attribute IsExclusive: invalid value 'yes'"),
        (b'<Job><Tasks><Task Name="n"/></Tasks></Job>', "task 1 has no CommandLine"),
        (b'<Job><Tasks><Task CommandLine="c" Type="NodePrep"/></Tasks></Job>', "NodePrep task"),
        (b'<Job><Tasks><Task CommandLine="c" Type="Sweepy"/></Tasks></Job>', "not a task type"),
        (b'<Job Runtime="soon"/>', "not a run time"),
    ],
)
def test_invalid_job_files_name_the_file_and_the_problem(xml: bytes, message: str) -> None:
    with pytest.raises(jobxml.JobXmlError) as error:
        jobxml.parse(xml, source="bad.xml")
    assert message in error.value.message
    assert error.value.code == "invalid-job-xml"
    assert error.value.render().startswith("bad.xml: error: ")


def test_byte_order_marks_and_utf16_files_are_read() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?><Job Name="ü"/>'
    assert jobxml.parse(text.encode("utf-16"), source="s.xml").get("Name") == "ü"
    assert jobxml.parse(b"\xef\xbb\xbf<Job Name='x'/>", source="s.xml").get("Name") == "x"
