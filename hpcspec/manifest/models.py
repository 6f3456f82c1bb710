"""Manifest v1 as pydantic models: the shape a user writes (DESIGN.md §1).

Structural keys are lowerCamel; HPC Pack property names inside `properties:` are checked
against the catalogue later, by the resolver, after `${var}` substitution. These models are
also the source of `schemas/hpcspec-v1.schema.json` (see `schema.py`), so every field carries
a description that editors show.

No `from __future__ import annotations` here: pydantic would compile and evaluate each string
annotation when the classes are built, a cost every `validate` pays at start-up (issue 17).
"""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from hpcspec.hpcpack.values import INT32_MAX
from hpcspec.manifest.vocabulary import KEY_PATTERN, SECRET_PATTERN, JobStateWanted, OnSpecChange

_KEY = re.compile(KEY_PATTERN)

Scalar = str | int | float | bool | date | datetime  # YAML dates read as text, ISO form


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Model):
    """A value read at apply time, never written in the manifest: `{secret: env:NAME}`."""

    secret: Annotated[
        str,
        Field(
            pattern=SECRET_PATTERN,
            description="Where the value comes from: env:VARIABLE or file:PATH.",
        ),
    ]


EnvValue = Annotated[Scalar | Secret, Field(description="A value, or {secret: env:NAME}.")]
# Mutable defaults come from factories: pydantic deep-copies an unhashable default for every
# instance, which was a fifth of resolving a 10,000-task manifest. `json_schema_extra` keeps
# the default in the published schema.
_NO_ITEMS: dict[str, Any] = {"default": {}}


def _empty_list() -> list[str]:
    """A new empty list: the factory of `dependsOn`.

    Not `list` itself: pydantic reads a factory's signature, and a builtin's comes from its
    text signature through `tokenize`, whose first use compiles a large regex (~2 ms of every
    start-up, issue 17).
    """
    return []


Properties = Annotated[
    dict[str, Any],
    Field(
        default_factory=dict,
        description="HPC Pack properties by their exact HPC Pack names.",
        json_schema_extra=_NO_ITEMS,
    ),
]
CustomProperties = Annotated[
    dict[str, Scalar],
    Field(
        default_factory=dict,
        description="Custom properties (name → value) stored with the job or task.",
        json_schema_extra=_NO_ITEMS,
    ),
]
Env = Annotated[
    dict[str, EnvValue],
    Field(
        default_factory=dict,
        description="Environment variables; values may be {secret: env:NAME} references.",
        json_schema_extra=_NO_ITEMS,
    ),
]


class Sweep(_Model):
    """A native HPC Pack ParametricSweep: `*` in the command line becomes each value."""

    start: Annotated[int | str, Field(description="First value (an integer or ${var}).")]
    end: Annotated[int | str, Field(description="Last value, inclusive (an integer or ${var}).")]
    increment: Annotated[
        int | str, Field(description="Step between values, at least 1 (default 1).")
    ] = 1


class Task(_Model):
    """A task. Its key is its HPC Pack task name."""

    commandLine: Annotated[str, Field(description="The command the task runs.")]
    workDirectory: Annotated[str | None, Field(description="Working directory.")] = None
    dependsOn: Annotated[
        list[str],
        Field(
            default_factory=_empty_list,
            description="Keys of tasks in the same job that must finish first.",
            json_schema_extra={"default": []},
        ),
    ]
    env: Env
    customProperties: CustomProperties
    properties: Properties
    sweep: Annotated[
        Sweep | None, Field(description="Run as a native parametric sweep over a range.")
    ] = None
    matrix: Annotated[
        dict[str, Any] | None,
        Field(
            description=(
                "Expand into one Basic task per combination: axes are lists; "
                "include/exclude are lists of rows. Use ${matrix.AXIS} in the task."
            )
        ),
    ] = None

    @field_validator("matrix")
    @classmethod
    def _check_matrix(cls, matrix: dict[str, Any] | None) -> dict[str, Any] | None:
        if matrix is None:
            return None
        axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
        for name, values in axes.items():
            if not _KEY.match(name):
                raise ValueError(f"matrix axis {name!r} must be a plain name")
            if not isinstance(values, list) or not values:
                raise ValueError(f"matrix axis {name!r} must be a non-empty list of values")
            if any(isinstance(v, dict | list) or v is None for v in values):
                raise ValueError(f"matrix axis {name!r} must list plain values")
            if any("," in str(v) or ";" in str(v) or "]" in str(v) for v in values):
                raise ValueError(
                    f"matrix axis {name!r} has a value with ',', ';' or ']', which would break "
                    "the expanded task names that HPC Pack's DependsOn lists"
                )
        for rows_key in ("include", "exclude"):
            rows = matrix.get(rows_key, [])
            if not isinstance(rows, list) or any(not isinstance(r, dict) or not r for r in rows):
                raise ValueError(f"matrix {rows_key} must be a list of mappings axis: value")
        if not axes and not matrix.get("include"):
            raise ValueError("a matrix needs at least one axis with values (or include rows)")
        return matrix


class RunAs(_Model):
    """The account the job runs as. The password is always a secret reference."""

    userName: Annotated[str, Field(description="DOMAIN\\user the job runs as.")]
    password: Annotated[
        Secret | None,
        Field(description="{secret: env:NAME} or {secret: file:PATH}; never a literal."),
    ] = None

    @field_validator("password", mode="before")
    @classmethod
    def _no_literal_password(cls, value: object) -> object:
        if isinstance(value, str | int | float):
            raise ValueError(
                "a password must be a {secret: env:NAME} or {secret: file:PATH} reference, "
                "never written in the manifest"
            )
        return value


class JobPolicy(_Model):
    """What both `defaults` and jobs may say."""

    properties: Properties
    customProperties: CustomProperties
    env: Env
    runAs: Annotated[RunAs | None, Field(description="Run the job as this account.")] = None
    state: Annotated[
        JobStateWanted | None,
        Field(description="submitted (default), configuring (create only) or canceled."),
    ] = None
    onSpecChange: Annotated[
        OnSpecChange | None,
        Field(
            description=(
                "What a changed spec does to a job that can no longer be edited: "
                "rerun (default: a new job), replace (also cancels running work; the new "
                "job is submitted before the old one is cancelled), replace-cancel-first "
                "(the same, but the old job is cancelled first: jobs that must not "
                "overlap), extend (a finished job whose sweep or matrix only gained points "
                "gets a new job of the new points alone; any other change reruns), ignore, "
                "or error."
            )
        ),
    ] = None
    retries: Annotated[
        int | None,
        Field(ge=0, le=INT32_MAX, description="Requeue a Failed job at most this many times."),
    ] = None
    ignoreChanges: Annotated[
        list[str] | None,
        Field(
            description=(
                "Job properties left to the cluster's admins once the job exists: plan "
                "neither shows nor restores their drift, and a manifest edit of them alone "
                "leaves live jobs as they are (the value is used when a job is created). "
                "A job's list replaces the one in defaults."
            )
        ),
    ] = None


class Job(JobPolicy):
    """A job. Its key is its stable identity inside the stack."""

    dependsOn: Annotated[
        list[str],
        Field(
            default_factory=_empty_list,
            description="Keys of jobs that must finish before this one starts.",
            json_schema_extra={"default": []},
        ),
    ]
    tasks: Annotated[
        dict[str, Task],
        Field(
            default_factory=dict,
            description="Tasks by key (their names).",
            json_schema_extra={"default": {}},
        ),
    ]


class Manifest(_Model):
    """An hpcspec manifest: one stack of jobs."""

    apiVersion: Annotated[Literal["hpcspec/v1"], Field(description="Always hpcspec/v1.")]
    stack: Annotated[
        str,
        Field(
            pattern=KEY_PATTERN,
            max_length=64,
            description="Identity namespace: the jobs below belong to this stack.",
        ),
    ]
    vars: Annotated[
        dict[str, Scalar], Field(description="Variables used as ${name} in string values.")
    ] = {}
    defaults: Annotated[
        JobPolicy | None, Field(description="Merged under every job (job values win).")
    ] = None
    jobs: Annotated[dict[str, Job], Field(min_length=1, description="Jobs by key.")]
    adopt: Annotated[
        dict[str, Annotated[int, Field(ge=1, le=INT32_MAX)]],
        Field(
            description=(
                "Existing jobs brought under management, as job key: job id (Terraform's "
                "import blocks; `hpcspec adopt` writes them). A key's adopted job counts as its "
                "live job until hpcspec creates one of its own."
            )
        ),
    ] = {}
    moved: Annotated[
        dict[str, str],
        Field(
            default_factory=dict,
            description=(
                "Renamed job keys, old: new. The live job of the old key becomes the new "
                "key's job without being touched (plan shows 'moved')."
            ),
            json_schema_extra=_NO_ITEMS,
        ),
    ]

    # Where the manifest came from, so later errors can name a line (not part of the schema).
    _file: str = PrivateAttr(default="<manifest>")
    _text: str = PrivateAttr(default="")

    def job_defaults(self) -> JobPolicy:
        """`defaults`, or the empty policy when the manifest has none."""
        return self.defaults or JobPolicy.model_validate({})
