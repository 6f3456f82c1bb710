"""Job XML import (POST /jobs/jobFile) per derived/job-xml-import-export.json, over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import REFERENCE
from tests.emulator.helpers import Api, rows

EXAMPLES = sorted((REFERENCE / "job-xml-examples").glob("*.xml"))
_BOOL = {"true": "True", "false": "False", "1": "True", "0": "False"}
_SPECIAL = (
    "MinCores",
    "MinNodes",
    "MinSockets",
    "MaxCores",
    "MaxNodes",
    "MaxSockets",
    "JobTemplate",
)


def _booleans() -> set[str]:
    data = json.loads((REFERENCE / "derived" / "property-ids.json").read_text())
    return {
        p["name"]
        for table in ("JobPropertyIds", "TaskPropertyIds")
        for p in data[table]
        if p["type"] == "Boolean"
    }


def _expected(element: ElementTree.Element, names: list[str]) -> dict[str, str]:
    """What the importer rules predict: listed attributes, any case, last one wins."""
    known = {n.lower(): n for n in names}
    booleans = _booleans()
    out: dict[str, str] = {}
    for attr, value in element.attrib.items():
        name = known.get(attr.split("}")[-1].lower())
        if name is not None:
            out[name] = _BOOL[value.lower()] if name in booleans else value
    return out


def _rules(reference: Path) -> dict:
    return json.loads((reference / "derived" / "job-xml-import-export.json").read_text())


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_real_job_xml_imports_and_reads_back(path, reference, emulator):
    rules = _rules(reference)
    api = Api(emulator)
    text = path.read_text(encoding="utf-8-sig")
    reply = api.call("POST", "/jobs/jobFile", json=text)
    assert reply.status_code == 200, reply.text
    job = reply.json()
    root = ElementTree.fromstring(text.encode())
    job_names = [*rules["job_attributes_default_handler"], *_SPECIAL]
    expected = _expected(root, job_names)
    got = api.job(job)
    for name, value in expected.items():
        if name in ("MinCores", "MaxCores", "MinNodes", "MaxNodes", "ExpandedPriority"):
            assert int(got[name]) == int(value), name
        else:
            assert got[name] == value, name
    # Id, State, Owner, UserName are NOT read: the job is new, Configuring and ours.
    assert got["Id"] == str(job) and got["State"] == "Configuring"
    assert got["Owner"] == "HPC\\admin"
    # "Priority" (special handler) and a later "ExpandedPriority" both set the priority:
    # attributes apply in document order, so the last one wins.
    attrs = [a.lower() for a in root.attrib]
    if "expandedpriority" in attrs and "priority" in attrs:
        last = max(attrs.index("expandedpriority"), attrs.index("priority"))
        if attrs[last] == "expandedpriority":
            assert got["ExpandedPriority"] == root.attrib["ExpandedPriority"]
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    task_elements = root.findall(f"{ns}Tasks/{ns}Task")
    tasks = rows(api.ok("GET", f"/jobs/{job}/tasks", params={"expandParametric": "false"}))
    assert len(tasks) == len(task_elements)
    task_names = [n for n in rules["task_attributes_default_handler"] if " " not in n]
    for element, listed in zip(task_elements, tasks, strict=True):
        full = api.task(job, int(listed["JobTaskId"]))
        for name, value in _expected(element, task_names).items():
            assert full[name] == value, name
        assert full["State"] == "Configuring"


def _import(api: Api, xml: str):
    return api.call("POST", "/jobs/jobFile", json=xml)


def test_attributes_are_case_insensitive_and_aliases_and_legacy_forms_apply(emulator):
    api = Api(emulator)
    xml = (
        '<Job name="legacy" RUNTIME="1:30" MinimumNumberOfProcessors="2" priority="Normal+5" '
        'runUntilCanceled="True" Owner="EVIL\\x">'
        "<ExtendedTerms><Term><Name> color </Name><Value> blue </Value></Term>"
        "<Term><Name>orphan</Name></Term></ExtendedTerms>"
        "<EnvironmentVariables><Variable><Name>MODE</Name><Value>fast</Value></Variable>"
        "</EnvironmentVariables>"
        '<Dependencies><Parent GroupId="1"><Child GroupId="2"/></Parent></Dependencies>'
        '<Tasks><Task Name="a" CommandLine="echo a" GroupId="1" Stdout="out.txt" Runtime="5"/>'
        '<Task Name="b" CommandLine="echo b" GroupId="2" Depend="a" IsParametric="false">'
        "<EnvironmentVariables><Variable><Name>T</Name><Value>1</Value></Variable>"
        "</EnvironmentVariables></Task></Tasks></Job>"
    )
    reply = _import(api, xml)
    assert reply.status_code == 200, reply.text
    job = reply.json()
    got = api.job(job)
    assert got["Name"] == "legacy"
    assert got["RuntimeSeconds"] == str(90 * 60)
    assert (got["UnitType"], got["MinCores"], got["AutoCalculateMin"]) == ("Core", "2", "False")
    assert got["ExpandedPriority"] == "2005"
    assert got["RunUntilCanceled"] == "True"
    assert got["Owner"] == "HPC\\admin"
    assert api.ok("GET", f"/jobs/{job}/customProperties") == [{"Name": "color", "Value": "blue"}]
    assert api.ok("GET", f"/jobs/{job}/envVariables") == [{"Name": "MODE", "Value": "fast"}]
    first, second = api.task(job, 1), api.task(job, 2)
    assert first["StdOutFilePath"] == "out.txt" and first["RuntimeSeconds"] == "300"
    assert second["DependsOn"] == "a" and second["Type"] == "Basic"
    assert api.ok("GET", f"/jobs/{job}/tasks/2/envVariables") == [{"Name": "T", "Value": "1"}]


def test_conflicting_type_and_is_parametric_is_refused(emulator):
    xml = '<Job><Tasks><Task Type="Basic" IsParametric="true" CommandLine="x"/></Tasks></Job>'
    reply = _import(Api(emulator), xml)
    assert reply.status_code == 400
    assert "is not compatible with the setting the IsParametric property" in reply.text


def test_enum_values_are_case_sensitive_as_in_enum_parse(emulator):
    reply = _import(Api(emulator), '<Job UnitType="core"/>')
    assert reply.status_code == 400


XXE = (
    '<?xml version="1.0"?><!DOCTYPE Job [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<Job Name="&xxe;"/>'
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    '<Job Name="&lol4;"/>'
)


@pytest.mark.parametrize("xml", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_dangerous_job_xml_is_rejected(xml, emulator):
    api = Api(emulator)
    before = api.call("GET", "/jobs", params={"rowsPerRead": "100000"}).json()
    reply = _import(api, xml)
    assert reply.status_code == 400
    assert "DOCTYPE" in reply.json()["Message"]
    after = api.call("GET", "/jobs", params={"rowsPerRead": "100000"}).json()
    assert len(after) == len(before)


def test_malformed_and_non_job_xml_are_rejected(emulator):
    api = Api(emulator)
    assert _import(api, "<Job").status_code == 400
    assert _import(api, "<NotAJob/>").status_code == 400


def test_job_xml_as_a_datacontract_string(emulator):
    api = Api(emulator)
    body = (
        '<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">'
        '&lt;Job Name="dc"&gt;&lt;Tasks&gt;&lt;Task CommandLine="echo"/&gt;'
        "&lt;/Tasks&gt;&lt;/Job&gt;"
        "</string>"
    )
    reply = api.call(
        "POST", "/jobs/jobFile", data=body, headers={"Content-Type": "application/xml"}
    )
    assert reply.status_code == 200, reply.text
    assert api.job(reply.json(), "Name") == {"Name": "dc"}
