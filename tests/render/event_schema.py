"""The shipped JSON schema of `--output json` event records, for tests to validate against."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA = Path(__file__).parents[2] / "schemas" / "hpcspec-events-v1.schema.json"


@functools.cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def records(stdout: str) -> list[dict[str, Any]]:
    """Every line of a JSON-lines stream, parsed and checked against the schema."""
    assert stdout.endswith("\n"), stdout[-200:]
    parsed = []
    for line in stdout.splitlines():
        record = json.loads(line)
        errors = sorted(validator().iter_errors(record), key=str)
        assert errors == [], f"{line}\n{errors[0].message}" if errors else ""
        parsed.append(record)
    return parsed


def known_types() -> set[str]:
    """The record types the schema gives a payload of their own."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return {rule["if"]["properties"]["type"]["const"] for rule in schema["allOf"]}
