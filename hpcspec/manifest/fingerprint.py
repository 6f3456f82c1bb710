"""The digest of a resolved job (`resolve` stamps every DesiredJob with it; the planner,
drift and extension compare it with the one a live job carries).

Secrets appear as their reference, never a value. `spec_digests` also holds the digest an
earlier hpcspec computed for the same spec, so an upgrade never takes a job it applied for a
changed one (docs/manifest.md, "Digest").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

from hpcspec.hpcpack.definition import EnvValue, JobDefinition, SecretRef

DIGEST_LENGTH = 16


def digest(definition: JobDefinition, depends_on: tuple[str, ...] = ()) -> str:
    """A stable hash of a resolved job; secrets appear as their reference, never a value.

    A job's and a task's `dependsOn` are sets (ParentJobIds, HPC Pack's DependsOn): hashed
    sorted, so writing them in another order is no change (it replaced queued jobs). The
    order of the tasks is part of the spec: HPC Pack numbers them in that order."""
    return _hash(definition, depends_on, sorted)


def spec_digests(definition: JobDefinition, depends_on: tuple[str, ...] = ()) -> frozenset[str]:
    """Every digest a job applied from this spec may carry: `digest`, and the one hpcspec
    computed before it hashed `dependsOn` sorted (in the manifest's order; round 10)."""
    return frozenset({digest(definition, depends_on), _hash(definition, depends_on, list)})


def _hash(
    definition: JobDefinition,
    depends_on: tuple[str, ...],
    order: Callable[[Iterable[str]], list[str]],
) -> str:
    document = {
        "properties": [[k, v] for k, v in definition.properties],
        "customProperties": definition.user_custom_properties(),
        "env": [[k, _plain(v)] for k, v in definition.env],
        "runAs": (
            [
                definition.run_as.user_name,
                _plain(definition.run_as.password) if definition.run_as.password else None,
            ]
            if definition.run_as
            else None
        ),
        "dependsOn": order(depends_on),
        "tasks": [
            [
                t.name,
                t.command_line,
                t.work_directory,
                order(t.depends_on),
                [[k, v] for k, v in t.properties],
                t.custom_properties,
                [[k, _plain(v)] for k, v in t.env],
                [t.sweep.start, t.sweep.end, t.sweep.increment] if t.sweep else None,
            ]
            for t in definition.tasks
        ],
    }
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def _plain(value: EnvValue) -> str:
    return f"secret:{value.reference()}" if isinstance(value, SecretRef) else value
