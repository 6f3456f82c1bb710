"""The manifest reference page, generated from the pydantic models and the property catalogue.

`python -m hpcspec.manifest.reference_page > docs/manifest-reference.md` regenerates it; a test
(tests/ci/test_docs_reference.py) fails when the checked-in page is stale, so the page can
never describe a key or a property the code does not accept.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from hpcspec.hpcpack import catalogue
from hpcspec.hpcpack.catalogue import Kind, PropertySpec
from hpcspec.manifest.models import (
    Job,
    JobPolicy,
    Manifest,
    RunAs,
    Scalar,
    Secret,
    Sweep,
    Task,
)

MODELS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("The manifest (top level)", Manifest),
    ("`defaults`", JobPolicy),
    ("A job (`jobs.KEY`)", Job),
    ("A task (`jobs.KEY.tasks.NAME`)", Task),
    ("`sweep`", Sweep),
    ("`runAs`", RunAs),
    ("A secret reference (`{secret: …}`)", Secret),
)

_KINDS = {
    Kind.INT: "integer",
    Kind.BOOL: "true / false",
    Kind.STRING: "text",
    Kind.STRING_LIST: "list (or comma-separated text)",
    Kind.ENUM: "one of",
    Kind.PRIORITY: "priority",
    Kind.DURATION: "duration (seconds, or 90m, 2h, 1d2h)",
    Kind.DATETIME: "date and time (ISO 8601)",
    Kind.EXIT_CODES: "exit codes (e.g. 0,3..5)",
}


def type_name(annotation: Any) -> str:
    """A field's type as a reader says it: `text`, `list of text`, `map of text → Task`."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        if set(args) >= set(typing.get_args(Scalar)):
            rest = [type_name(a) for a in args if a not in typing.get_args(Scalar)]
            return " or ".join(["scalar (text, number, true / false, date)", *rest])
        parts = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"map of {type_name(args[0])} → {type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    names = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "true / false",
        dt.date: "date",
        dt.datetime: "date-time",
    }
    if annotation is Any:
        return "any"
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is None or value is PydanticUndefined or value in ({}, []):
        return ""
    return f"`{value}`"


def model_section(title: str, model: type[BaseModel]) -> list[str]:
    doc = (model.__doc__ or "").strip().splitlines()[0]
    out = [f"### {title}", "", f'<a id="{model.__name__.lower()}"></a>{doc}', ""]
    out += ["| Key | Type | Default | Description |", "| :-- | :-- | :-- | :-- |"]
    for name, field in model.model_fields.items():
        out.append(
            f"| `{name}` | {_cell(type_name(field.annotation))} | {_default(field)} "
            f"| {_cell(field.description or '')} |"
        )
    return [*out, ""]


def _values(spec: PropertySpec) -> str:
    if spec.kind is Kind.ENUM:
        return ", ".join(f"`{v}`" for v in spec.enum)
    if spec.kind is Kind.PRIORITY:
        return "a name, `Normal+5`, or 0..4000"
    low = "" if spec.minimum is None else str(spec.minimum)
    high = "" if spec.maximum is None else str(spec.maximum)
    if not (low or high):
        return ""
    if spec.kind is Kind.STRING:
        return f"at most {high} characters" if high else ""
    if not high:
        return f"at least {low}"
    return f"at most {high}" if not low else f"{low}..{high}"


def _when(spec: PropertySpec) -> str:
    if not spec.rest:  # only the job XML importer reads it: a change makes a new job
        return "create (job XML only)"
    if spec.create and spec.put:
        return "create, update"
    return "create only" if spec.create else "update only"


def property_section(title: str, specs: dict[str, PropertySpec]) -> list[str]:
    out = [f"### {title}", ""]
    out += [
        "| Property | Type | Values | Sent on | Description |",
        "| :-- | :-- | :-- | :-- | :-- |",
    ]
    for name, spec in sorted(specs.items()):
        out.append(
            f"| `{name}` | {_KINDS[spec.kind]} | {_cell(_values(spec))} | {_when(spec)} "
            f"| {_cell(spec.description)} |"
        )
    return [*out, ""]


def reserved_section(title: str, reserved: dict[str, str]) -> list[str]:
    out = [f"### {title}", "", "| Property | Instead |", "| :-- | :-- |"]
    out += [f"| `{name}` | {_cell(use)} |" for name, use in sorted(reserved.items())]
    return [*out, ""]


def render() -> str:
    """The whole page, deterministic."""
    out = [
        "# Manifest reference (`hpcspec/v1`)",
        "",
        "<!-- GENERATED by `python -m hpcspec.manifest.reference_page > docs/manifest-reference.md`"
        " from hpcspec/manifest/models.py and hpcspec/hpcpack/catalogue.py. Do not edit. -->",
        "",
        "Every key a manifest may hold, and every HPC Pack property it may set. The guide to",
        "the language (variables, matrix, sweeps, defaults) is [manifest.md](manifest.md);",
        "editors get the same information from `schemas/hpcspec-v1.schema.json`.",
        "",
        "## Keys",
        "",
    ]
    for title, model in MODELS:
        out += model_section(title, model)
    out += [
        "## HPC Pack properties",
        "",
        "Inside `properties:`, with their exact HPC Pack names (case-insensitive; a typo gets a",
        "did-you-mean). *Sent on* says whether hpcspec can set the property when it creates the",
        "job or task, and also change it on a live one (subject to the job's state). *Job XML",
        "only*: the REST API documents no way to send it, so `apply --create-via rest` refuses",
        "such a job, and a change replaces an unsubmitted job instead of updating it.",
        "",
    ]
    out += property_section("Job properties (`jobs.KEY.properties`)", catalogue.JOB_PROPERTIES)
    out += property_section(
        "Task properties (`jobs.KEY.tasks.NAME.properties`)", catalogue.TASK_PROPERTIES
    )
    out += reserved_section("Job properties with another place", catalogue.RESERVED_JOB_PROPERTIES)
    out += reserved_section(
        "Task properties with another place", catalogue.RESERVED_TASK_PROPERTIES
    )
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(render(), end="")
