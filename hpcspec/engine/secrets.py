"""Secret references → values, at apply time only. Values never leave this call's caller."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hpcspec import masking
from hpcspec.engine.plan import Plan
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.definition import JobDefinition, SecretRef
from hpcspec.manifest.resolve import ResolvedStack


class SecretUnavailable(HpcspecError):
    """A `{secret: …}` reference that cannot be read (names the reference, never a value)."""


def resolve_secret(ref: SecretRef) -> str:
    """The value behind `env:NAME` or `file:PATH` (a file's trailing newline is dropped);
    remembered so that a task printing it shows `(sensitive)` instead (`masking.py`)."""
    value = _read(ref)
    masking.remember(value)
    return value


def remember_secrets(stack: ResolvedStack) -> None:
    """Read every secret of `stack` that can be read, only to mask it in the task text this
    command shows (`status`, `logs`, `apply --wait`); one that cannot be read is skipped."""
    for desired in stack.jobs.values():
        for ref in secret_refs(desired.definition):
            try:
                resolve_secret(ref)
            except SecretUnavailable:
                continue


def _read(ref: SecretRef) -> str:
    if ref.source == "env":
        value = os.environ.get(ref.name)
        if value is None:
            raise SecretUnavailable(
                f"secret env:{ref.name} is not set",
                code="secret-unavailable",
                hint=f"export {ref.name} in the environment that runs apply",
            )
        return value
    try:
        return Path(ref.name).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise SecretUnavailable(
            f"secret file:{ref.name} cannot be read ({error.strerror})", code="secret-unavailable"
        ) from None


def secret_refs(definition: JobDefinition) -> list[SecretRef]:
    """Every secret reference a job carries: job and task env, the run-as password."""
    envs = [v for _, v in definition.env] + [v for t in definition.tasks for _, v in t.env]
    refs = [v for v in envs if isinstance(v, SecretRef)]
    if definition.run_as is not None and definition.run_as.password is not None:
        refs.append(definition.run_as.password)
    return refs


def require_secrets(stack: ResolvedStack, plan: Plan, resolve: Callable[[SecretRef], str]) -> None:
    """Read every secret the plan's changes will send, before the first request that changes
    anything: a missing one stops apply with nothing cancelled or half-made (the values are
    read again when they are sent, and dropped here)."""
    for change in plan.changes:
        desired = stack.jobs.get(change.key)
        if desired is None or not change.is_change or change.blocks:
            continue
        for ref in secret_refs(desired.definition):
            resolve(ref)
