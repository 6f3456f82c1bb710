"""Identity: how a live job is recognised as a manifest job (DESIGN.md §2). No state file.

Each job hpcspec creates carries custom properties `hpcspec.stack`, `hpcspec.key`,
`hpcspec.digest`, `hpcspec.token` (one per create attempt) and `hpcspec.source`, plus a short
marker in `ClientSource` — the only one of them a job listing can return:
`hpcspec:<8 hex of the stack><8 hex of stack/key>:<digest>`. The stack part lets discovery
find every job of a stack (orphans included) from the listing alone.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from hpcspec.hpcpack.definition import JobDefinition, SecretRef
from hpcspec.hpcpack.live import LiveJob

PREFIX = "hpcspec"
STACK_TAG = "hpcspec.stack"
KEY_TAG = "hpcspec.key"
DIGEST_TAG = "hpcspec.digest"
TOKEN_TAG = "hpcspec.token"
SOURCE_TAG = "hpcspec.source"
SENSITIVE_TAG = "hpcspec.sensitive"  # env names whose values came from {secret: …}
FORGOTTEN_TAG = "hpcspec.forgotten"  # `hpcspec forget`: "KEY at TIME"; no longer the stack's


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def stack_hash(stack: str) -> str:
    return _short(stack)


def key_hash(stack: str, key: str) -> str:
    return _short(f"{stack}/{key}")


def client_source_marker(stack: str, key: str, digest: str) -> str:
    """`hpcspec:<stack hash><key hash>:<digest>` for the job property ClientSource."""
    return f"{PREFIX}:{stack_hash(stack)}{key_hash(stack, key)}:{digest}"


def stack_marker_prefix(stack: str) -> str:
    """What every marker of `stack` starts with: a listing keeps only rows that do."""
    return f"{PREFIX}:{stack_hash(stack)}"


@dataclass(frozen=True)
class Marker:
    """A parsed ClientSource marker."""

    stack_hash: str
    key_hash: str
    digest: str


def parse_marker(text: str) -> Marker | None:
    """The marker in a ClientSource value, or None when it is not hpcspec's."""
    parts = (text or "").split(":")
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 16:
        return None
    return Marker(parts[1][:8], parts[1][8:], parts[2])


def live_digest(job: LiveJob) -> str | None:
    """The digest a live job was created or last updated with: its `hpcspec.digest` tag when
    its custom properties were read (the marker cannot change after submit), else the
    marker's. The one rule every comparison with a desired digest uses."""
    marker = parse_marker(job.client_source)
    return job.custom(DIGEST_TAG) or (marker.digest if marker else None)


def new_token() -> str:
    """A fresh per-attempt token: finds the job again after an ambiguous create."""
    return secrets.token_hex(12)


def sensitive_names(definition: JobDefinition) -> str:
    """`NAME,task/NAME,…`: the env variables whose values are secrets (never the values)."""
    names = [name for name, value in definition.env if isinstance(value, SecretRef)]
    names += [
        f"{task.name}/{name}"
        for task in definition.tasks
        for name, value in task.env
        if isinstance(value, SecretRef)
    ]
    return ",".join(names)


def identity_tags(
    stack: str,
    key: str,
    digest: str,
    *,
    token: str | None = None,
    source: str | None = None,
    sensitive: str = "",
) -> dict[str, str]:
    """The custom properties that tie a live job to its manifest job."""
    tags = {STACK_TAG: stack, KEY_TAG: key, DIGEST_TAG: digest}
    if sensitive:
        tags[SENSITIVE_TAG] = sensitive
    if token:
        tags[TOKEN_TAG] = token
    if source:
        tags[SOURCE_TAG] = source
    return tags
