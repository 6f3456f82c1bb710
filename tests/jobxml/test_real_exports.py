"""The 7 real `job export` files (reference/hpcpack/job-xml-examples/) import and render back.

"Importer-visible attributes" are compared as the importer reads them (`read_document`:
aliases, case and the Priority/ExpandedPriority order applied). Two differences are by
design (docs/job-xml.md): a manifest job and task always have a name (the file's are
unnamed, so the job is named after its key and the task `task1`), and `GroupId` is dropped
because these files have no `<Dependencies>` edges, where a single task group means nothing.
"""

from __future__ import annotations

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
    assert dict(rendered.values) == {**original.values, "Name": job.key}
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
    assert document.values["Priority"] == 200  # ExpandedPriority="200" comes after "Normal"
    assert document.tasks[0].values["Type"] == "ParametricSweep"


def test_import_command_prints_a_manifest_for_several_files(reference: Path) -> None:
    files = [str(reference / "job-xml-examples" / n) for n in ("growsixfs.xml", "nolicense.xml")]
    result = CliRunner().invoke(
        cli, ["import", "--xml", files[0], "--xml", files[1], "--stack", "legacy"]
    )
    assert result.exit_code == 0, result.output
    stack = resolve(parse_manifest(result.stdout, file="stdout"))
    assert stack.stack == "legacy" and list(stack.jobs) == ["growsixfs", "nolicense"]
    assert stack.jobs["growsixfs"].definition.tasks[0].command_line.endswith("sleep.exe 30")
    assert "note: job 'growsixfs': unnamed task 1 is keyed 'task1'" in result.stderr
    assert "note: growsixfs.xml: both Priority and ExpandedPriority are given" in result.stderr
    assert "note: growsixfs.xml: GroupId dropped" in result.stderr
    assert "# note: growsixfs.xml: skipped what the importer ignores: Version, Id" in result.stdout
