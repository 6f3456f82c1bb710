"""Rendering job XML: golden files for every example, the real XSDs, value forms, secrets.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 /work/venv/bin/pytest tests/jobxml -p no:cacheprovider` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.definition import (
    JobDefinition,
    RunAs,
    SecretRef,
    Sweep,
    TaskDefinition,
    pairs,
)
from hpcspec.hpcpack.values import PRIORITY_BUCKETS
from tests.jobxml.conftest import EXAMPLES, GOLDEN, resolved

NS = {"j": jobxml.NAMESPACE}
EXAMPLE_JOBS = [
    pytest.param(path, key, id=f"{path.stem}-{key}")
    for path in EXAMPLES
    for key in resolved(path).jobs
]


def test_every_example_is_covered() -> None:
    assert {p.stem for p in EXAMPLES} >= {"quickstart", "sweep", "matrix", "multi-job"}


@pytest.mark.parametrize(("path", "key"), EXAMPLE_JOBS)
def test_example_renders_as_its_golden_file(path: Path, key: str) -> None:
    data = jobxml.render(resolved(path).jobs[key].definition)
    golden = GOLDEN / f"{path.stem}--{key}.xml"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(data)
    assert golden.exists(), f"no golden file {golden.name}: run with UPDATE_GOLDEN=1"
    assert data == golden.read_bytes()


def _for_xsd(root: etree._Element) -> etree._Element:
    """What the XSD can judge: no job-level EnvironmentVariables (no real XSD declares
    them) and Priority as its bucket name (the XSD's JobPriority predates `Normal+5`)."""
    for env in root.findall("j:EnvironmentVariables", NS):
        root.remove(env)
    priority = root.get("Priority")
    if priority is not None:
        root.set("Priority", next(n for n in PRIORITY_BUCKETS if priority.startswith(n)))
    return root


@pytest.mark.parametrize(("path", "key"), EXAMPLE_JOBS)
def test_example_validates_against_the_real_xsds(
    path: Path, key: str, job_schema: etree.XMLSchema, task_schema: etree.XMLSchema
) -> None:  # per reference/hpcpack/xsd/job-v4.wellformed.xsd and task-v4.xsd
    root = etree.fromstring(jobxml.render(resolved(path).jobs[key].definition))
    for task in root.iterfind("j:Tasks/j:Task", NS):
        task_schema.assertValid(etree.fromstring(etree.tostring(task)))
    job_schema.assertValid(_for_xsd(root))


def _job(**overrides: object) -> JobDefinition:
    fields: dict[str, object] = {
        "properties": pairs(
            {
                "Name": "cfd",
                "Priority": 2005,
                "RuntimeSeconds": 7200,
                "IsExclusive": True,
                "NodeGroups": "ComputeNodes,GPU",
                "Preemptable": False,
            }
        ),
        "custom_properties": pairs({"team": "aero", "hpcspec.key": "mesh"}),
        "env": pairs({"OMP_NUM_THREADS": "4", "LICENSE": SecretRef("env", "CFD_LICENSE")}),
        "tasks": (
            TaskDefinition("prep", "prep.exe", work_directory=r"\\fs\cfd"),
            TaskDefinition(
                "solve",
                "solve.exe --case *",
                depends_on=("prep",),
                properties=pairs({"IsRerunnable": False, "UserBlob": "x"}),
                custom_properties=pairs({"stage": "2"}),
                env=pairs({"CASE_DIR": "cases"}),
                sweep=Sweep(1, 100, 2),
            ),
        ),
        "run_as": RunAs("HPC\\svc", SecretRef("env", "PW")),
    }
    fields.update(overrides)
    return JobDefinition(**fields)  # type: ignore[arg-type]


def test_root_is_a_version_3_job_in_the_scheduler_namespace() -> None:
    root = etree.fromstring(jobxml.render(_job()))
    assert root.tag == "{http://schemas.microsoft.com/HPCS2008R2/scheduler/}Job"
    assert root.get("Version") == "3.000"


def test_values_are_written_in_the_forms_the_importer_reads() -> None:
    root = etree.fromstring(jobxml.render(_job()))
    assert root.get("Priority") == "Normal+5"
    assert root.get("RuntimeSeconds") == "7200"
    assert root.get("IsExclusive") == "true"
    assert root.get("NodeGroups") == "ComputeNodes,GPU"


def test_properties_the_importer_ignores_are_named_in_notes_not_written() -> None:
    data = jobxml.render(_job())
    root = etree.fromstring(data)
    assert root.get("Preemptable") is None and root.get("UserName") is None
    assert b"Preemptable" not in data and b"svc" not in data
    notes = jobxml.render_notes(_job())
    assert (
        notes[0] == "not in the file (the importer ignores them): Preemptable=false, runAs HPC\\svc"
    )
    assert "task 'solve': not in the file: UserBlob=x" in notes
    assert jobxml.not_imported(_job()) == {"Preemptable": False}


def test_the_file_is_shaped_like_the_inputs_known_to_import() -> None:
    # msdocs/schedulerwebservice--createjobfromxml.md's sample and the minimal input that
    # imports on 2016 U3 (ground truth §2) have no XML declaration and no comments.
    data = jobxml.render(_job())
    assert data.startswith(b"<Job ")
    assert b"<?xml" not in data and b"<!--" not in data


def test_hold_until_is_written_so_the_importer_reads_the_utc_instant() -> None:
    # derived/job-xml-import-export.json: DateTime.Parse, treated as UTC. With a trailing Z
    # .NET would first convert to the head node's local time; without a zone it does not.
    job = _job(properties=pairs({"Name": "h", "HoldUntil": "2026-12-01T18:00:00Z"}))
    root = etree.fromstring(jobxml.render(job))
    assert root.get("HoldUntil") == "2026-12-01T18:00:00"
    assert jobxml.parse(jobxml.render(job), source="h.xml").get("HoldUntil") == (
        "2026-12-01T18:00:00Z"
    )


def test_custom_properties_env_and_tasks_are_elements() -> None:
    root = etree.fromstring(jobxml.render(_job()))
    terms = {
        t.findtext("j:Name", namespaces=NS): t.findtext("j:Value", namespaces=NS)
        for t in root.iterfind("j:ExtendedTerms/j:Term", NS)
    }
    assert terms == {"hpcspec.key": "mesh", "team": "aero"}
    prep, solve = root.iterfind("j:Tasks/j:Task", NS)
    assert prep.get("Type") == "Basic" and prep.get("WorkDirectory") == r"\\fs\cfd"
    assert (prep.get("StartValue"), prep.get("EndValue"), prep.get("IncrementValue")) == (
        "0",
        "0",
        "1",
    )
    assert solve.get("Type") == "ParametricSweep" and solve.get("IsParametric") == "true"
    assert (solve.get("StartValue"), solve.get("EndValue"), solve.get("IncrementValue")) == (
        "1",
        "100",
        "2",
    )
    assert solve.get("DependsOn") == "prep"
    assert solve.get("IsRerunnable") == "false" and solve.get("UserBlob") is None
    assert solve.findtext("j:EnvironmentVariables/j:Variable/j:Value", namespaces=NS) == "cases"
    assert solve.findtext("j:ExtendedTerms/j:Term/j:Name", namespaces=NS) == "stage"


def test_children_come_in_export_order() -> None:
    root = etree.fromstring(jobxml.render(_job()))
    names = [etree.QName(c).localname for c in root if isinstance(c.tag, str)]
    assert names == ["ExtendedTerms", "EnvironmentVariables", "Dependencies", "Tasks"]


def test_secret_env_is_left_out_and_its_reference_named_without_a_resolver() -> None:
    data = jobxml.render(_job())
    assert b"<Name>LICENSE</Name>" not in data and b"CFD_LICENSE" not in data
    assert (
        "environment variable LICENSE left out: its value is the secret env:CFD_LICENSE "
        "(render with secrets to include it)"
    ) in jobxml.render_notes(_job())
    assert not [n for n in jobxml.render_notes(_job(), secrets=str) if "LICENSE" in n]


def test_secret_env_is_written_only_through_the_resolver() -> None:
    seen: list[SecretRef] = []

    def resolver(ref: SecretRef) -> str:
        seen.append(ref)
        return "canary-7f3a"

    data = jobxml.render(_job(), secrets=resolver)
    assert seen == [SecretRef("env", "CFD_LICENSE")]  # the run-as password is never asked for
    assert b"<Name>LICENSE</Name>" in data and b"canary-7f3a" in data
    assert b"canary-7f3a" not in jobxml.render(_job())


def test_rendering_is_deterministic() -> None:
    assert jobxml.render(_job()) == jobxml.render(_job())


def test_text_is_escaped_by_lxml_not_formatted() -> None:
    job = _job(tasks=(TaskDefinition("t", "echo \"<a&b>\" '--x' \n next"),))
    root = etree.fromstring(jobxml.render(job))
    task = root.find("j:Tasks/j:Task", NS)
    assert task is not None and task.get("CommandLine") == "echo \"<a&b>\" '--x' \n next"


def test_values_xml_cannot_carry_are_a_clear_error() -> None:
    with pytest.raises(HpcspecError) as error:
        jobxml.render(JobDefinition(properties=(("Name", "bell\x07"),)))
    assert error.value.code == "unrenderable-job-xml"
    assert "job 'bell\\x07' cannot be written as job XML" in error.value.message
