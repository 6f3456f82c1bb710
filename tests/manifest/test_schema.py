"""The checked-in JSON Schema is current, valid, and accepts every example."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from hpcspec.manifest import schema

ROOT = Path(__file__).parents[2]
SCHEMA_FILE = ROOT / "schemas" / "hpcspec-v1.schema.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=../schemas/hpcspec-v1.schema.json"


def test_checked_in_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == schema.render(), (
        "schemas/hpcspec-v1.schema.json is stale: run "
        "`python -m hpcspec.manifest.schema > schemas/hpcspec-v1.schema.json`"
    )


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


def test_schema_describes_properties_for_editors() -> None:
    document = json.loads(SCHEMA_FILE.read_text())
    job_props = document["$defs"]["JobProperties"]["properties"]
    assert "description" in job_props["Priority"]
    assert job_props["UnitType"]["anyOf"][0]["enum"] == ["Core", "Socket", "Node", "Gpu"]
    assert document["$defs"]["Task"]["properties"]["commandLine"]["description"]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_validate_against_schema_and_carry_the_modeline(path: Path) -> None:
    assert path.read_text().splitlines()[0] == MODELINE
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    errors = [e.message for e in validator.iter_errors(YAML(typ="safe").load(path.read_text()))]
    assert errors == []


def test_schema_refuses_unknown_property_names() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    bad = {
        "apiVersion": "hpcspec/v1",
        "stack": "s",
        "jobs": {"a": {"properties": {"MinCore": 1}, "tasks": {"t": {"commandLine": "x"}}}},
    }
    assert list(validator.iter_errors(bad))
