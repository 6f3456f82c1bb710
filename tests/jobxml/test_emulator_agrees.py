"""The emulator's own job XML importer (written apart from ours on purpose) reads our files alike.

Two readers of one format that agree on every rendered example: a misreading in either shows
up here, before it shows up as "job XML create differs from REST create".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hpcspec.emulator.jobxml_import import parse_job_xml
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.catalogue import Value
from tests.jobxml.conftest import EXAMPLES, resolved


def _as_emulator(values: dict[str, Value]) -> dict[str, str]:
    out = {}
    for name, value in values.items():
        key = "ExpandedPriority" if name == "Priority" else name
        out[key] = str(value) if not isinstance(value, bool) else ("True" if value else "False")
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_emulator_importer_reads_rendered_examples_as_we_do(path: Path) -> None:
    for job in resolved(path).jobs.values():
        data = jobxml.render(job.definition)
        ours = jobxml.read_document(data, source=path.name)
        theirs = parse_job_xml(data.decode())
        derived = {"AutoCalculateMin", "AutoCalculateMax"} - set(ours.values)
        assert {k: v for k, v in theirs.props if k not in derived} == _as_emulator(
            dict(ours.values)
        )
        assert theirs.env == list(ours.env) and theirs.custom == list(ours.custom)
        assert [dict(t.props) for t in theirs.tasks] == [
            _as_emulator(dict(t.values)) for t in ours.tasks
        ]


def test_emulator_importer_reads_the_real_exports_as_we_do(reference: Path) -> None:
    for path in sorted((reference / "job-xml-examples").glob("*.xml")):
        data = path.read_bytes()
        ours = jobxml.read_document(data, source=path.name)
        theirs = parse_job_xml(data.decode("utf-8-sig"))
        derived = {"AutoCalculateMin", "AutoCalculateMax"} - set(ours.values)
        assert {k: v for k, v in theirs.props if k not in derived} == _as_emulator(
            dict(ours.values)
        ), path.name
        assert [dict(t.props) for t in theirs.tasks] == [
            _as_emulator(dict(t.values)) for t in ours.tasks
        ], path.name
