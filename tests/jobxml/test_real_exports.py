"""The 7 real `job export` files (reference/hpcpack/job-xml-examples/) import and render back.

"Importer-visible attributes" are compared as the importer reads them (`read_document`:
aliases, case and the Priority/ExpandedPriority order applied). Two differences are by
design (docs/job-xml.md): a manifest job and task always have a name (the file's are
unnamed, so the job is named after its key and the task `task1`), and `GroupId` is dropped
because these files have no `<Dependencies>` edges, where a single task group means nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpcspec.cli import cli
from hpcspec.hpcpack import jobxml
from hpcspec.manifest import parse_manifest, resolve
from hpcspec.manifest.export import ExportJob, export_manifest, slug

EXPORTS = [
    "SixfsandSixfs_fracturereservoirLicenses.xml",
    "growsixfs.xml",
    "growstarfs_fracturereservoir.xml",
    "invalidlicense.xml",
    "nolicense.xml",
    "sixfslicenses.xml",
    "twentysixfslicenses.xml",
]


@pytest.mark.parametrize("name", EXPORTS)
def test_real_export_imports_validates_and_renders_back_equal(reference: Path, name: str) -> None:
    path = reference / "job-xml-examples" / name
    original = jobxml.read_document(path.read_bytes(), source=name)
    exported = export_manifest(
        [ExportJob(jobxml.to_definition(original), key=slug(path.stem))], stack="imported"
    )
    (job,) = resolve(parse_manifest(exported.text, file=name)).jobs.values()  # validates
    rendered = jobxml.read_document(jobxml.render(job.definition), source="rendered.xml")

    assert "Name" not in original.values
    # a Priority/ExpandedPriority pair that disagrees keeps the named priority (docs/job-xml.md)
    chosen, _ = jobxml.priority_choice(original)
    expected = {**original.values, "Name": job.key}
    if chosen is not None:
        expected["Priority"] = chosen
    assert dict(rendered.values) == expected
    assert original.group_dependencies == rendered.group_dependencies == ()
    assert len(rendered.tasks) == len(original.tasks) == 1
    for before, after in zip(original.tasks, rendered.tasks, strict=True):
        visible = {k: v for k, v in before.values.items() if k != "GroupId"}
        assert dict(after.values) == {**visible, "Name": "task1"}
        assert after.custom == before.custom and after.env == before.env


def test_real_exports_ignore_what_the_importer_ignores(reference: Path) -> None:
    data = (reference / "job-xml-examples" / "growsixfs.xml").read_bytes()
    document = jobxml.read_document(data, source="growsixfs.xml")
    assert {"Id", "State", "Owner", "UserName", "JobType", "SubmitTime"} <= set(document.ignored)
    assert document.values["Priority"] == 200  # the importer: ExpandedPriority comes later
    assert document.tasks[0].values["Type"] == "ParametricSweep"


def test_a_disagreeing_priority_pair_keeps_the_named_priority_with_a_warning(
    reference: Path,
) -> None:
    data = (reference / "job-xml-examples" / "growsixfs.xml").read_bytes()
    document = jobxml.read_document(data, source="growsixfs.xml")
    value, warning = jobxml.priority_choice(document)
    assert value == 2000
    assert warning is not None and "200 is outside Normal's 2000..2999" in warning
    assert jobxml.to_definition(document).get("Priority") == 2000


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ('Priority="Normal" ExpandedPriority="2500"', 2500),  # inside the bucket: it refines
        ('ExpandedPriority="2500" Priority="Normal"', 2500),  # in either order
        ('Priority="Highest" ExpandedPriority="4000"', 4000),
        ('Priority="AboveNormal" ExpandedPriority="2999"', 3000),  # outside: the name wins
        ('Priority="Normal+5"', 2005),
        ('ExpandedPriority="17"', 17),
    ],
)
def test_priority_pairs_are_settled_by_the_named_bucket(attributes: str, expected: int) -> None:
    data = f'<Job {attributes}><Tasks><Task CommandLine="x"/></Tasks></Job>'.encode()
    assert jobxml.parse(data, source="p.xml").get("Priority") == expected


@pytest.mark.parametrize("name", EXPORTS)
def test_export_shaped_files_with_task_groups_and_unnamed_tasks_import(
    reference: Path, name: str
) -> None:
    """The real exports' shape once groups are used: unnamed tasks, each in its own group,
    and `<Dependencies>` edges between groups (the second task runs after the first)."""
    text = (reference / "job-xml-examples" / name).read_bytes().decode("utf-8-sig")
    task = re.search(r"<Task [^>]*/>", text)
    assert task is not None
    first = re.sub(r'GroupId="\d+"', 'GroupId="1"', task.group())
    second = re.sub(r'GroupId="\d+"', 'GroupId="2"', task.group())
    text = text.replace(task.group(), first + second)
    text = re.sub(
        r"<Dependencies ?/>",
        '<Dependencies><Parent GroupId="1"><Child GroupId="2"/></Parent></Dependencies>',
        text,
    )
    document = jobxml.read_document(text.encode(), source=name)
    assert document.group_dependencies == ((1, 2),)
    exported = export_manifest([ExportJob(jobxml.to_definition(document), key="j")], stack="s")
    job = resolve(parse_manifest(exported.text, file=name)).jobs["j"]
    assert [t.name for t in job.definition.tasks] == ["task1", "task2"]
    assert job.definition.tasks[1].depends_on == ("task1",)


def test_import_command_prints_a_manifest_for_several_files(reference: Path) -> None:
    files = [str(reference / "job-xml-examples" / n) for n in ("growsixfs.xml", "nolicense.xml")]
    result = CliRunner().invoke(
        cli, ["import", "--xml", files[0], "--xml", files[1], "--stack", "legacy"]
    )
    assert result.exit_code == 0, result.output
    stack = resolve(parse_manifest(result.stdout, file="stdout"))
    assert stack.stack == "legacy" and list(stack.jobs) == ["growsixfs", "nolicense"]
    assert stack.jobs["growsixfs"].definition.tasks[0].command_line.endswith("sleep.exe 30")
    assert "note: growsixfs.xml: unnamed tasks get names: task 1 is named 'task1'" in result.stderr
    assert "note: growsixfs.xml: Priority=Normal and ExpandedPriority=200 disagree" in result.stderr
    assert "note: growsixfs.xml: GroupId dropped" in result.stderr
    assert "# note: growsixfs.xml: skipped what the importer ignores: Id, State" in result.stdout
