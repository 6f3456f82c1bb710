"""The published JSON Schema of manifest v1, generated from the models and the catalogue.

`python -m hpcspec.manifest.schema > schemas/hpcspec-v1.schema.json` regenerates it; a test
fails when the checked-in file is stale. Job and task `properties` list every settable HPC
Pack property with its type and description, so editors complete and explain them.
"""

from __future__ import annotations

import json
from typing import Any

from hpcspec.hpcpack import catalogue
from hpcspec.hpcpack.catalogue import PropertySpec
from hpcspec.manifest.models import Manifest

SCHEMA_ID = "urn:hpcspec:schema:manifest:v1"


def _properties_schema(
    specs: dict[str, PropertySpec], reserved: dict[str, str], what: str
) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"HPC Pack {what} properties by their exact HPC Pack names.",
        "properties": {name: spec.json_schema() for name, spec in sorted(specs.items())},
        "not": {"anyOf": [{"required": [name]} for name in sorted(reserved)]},
        "additionalProperties": False,
    }


def manifest_schema() -> dict[str, Any]:
    """The schema document (a dict), deterministic."""
    schema = Manifest.model_json_schema(mode="validation")
    definitions = schema.get("$defs", {})
    job_props = _properties_schema(
        catalogue.JOB_PROPERTIES, catalogue.RESERVED_JOB_PROPERTIES, "job"
    )
    task_props = _properties_schema(
        catalogue.TASK_PROPERTIES, catalogue.RESERVED_TASK_PROPERTIES, "task"
    )
    definitions["JobProperties"] = job_props
    definitions["TaskProperties"] = task_props
    for name in ("Job", "JobPolicy"):
        definitions[name]["properties"]["properties"] = {"$ref": "#/$defs/JobProperties"}
    definitions["Task"]["properties"]["properties"] = {"$ref": "#/$defs/TaskProperties"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "$defs": dict(sorted(definitions.items())),
    }


def render() -> str:
    """The schema as the checked-in file holds it."""
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
