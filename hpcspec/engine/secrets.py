"""Secret references → values, at apply time only. Values never leave this call's caller."""

from __future__ import annotations

import os
from collections.abc import Callable

from hpcspec import masking
from hpcspec.capped_read import FileTooLarge, read_capped_text
from hpcspec.engine.plan import Plan
from hpcspec.errors import HpcspecError, Location
from hpcspec.hpcpack.definition import JobDefinition, SecretRef
from hpcspec.hpcpack.xml_chars import first_uncarriable
from hpcspec.manifest.resolve import ResolvedStack

MAX_SECRET_FILE_BYTES = 1024 * 1024  # far above any value Windows lets a variable hold


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
        return read_capped_text(ref.name, MAX_SECRET_FILE_BYTES).rstrip("\n")
    except OSError as error:
        why = error.strerror or str(error)
        raise SecretUnavailable(
            f"secret file:{ref.name} cannot be read ({why})", code="secret-unavailable"
        ) from None
    except UnicodeDecodeError:
        raise SecretUnavailable(
            f"secret file:{ref.name} is not UTF-8 text", code="secret-unavailable"
        ) from None
    except FileTooLarge as too_large:
        raise SecretUnavailable(
            f"secret file:{ref.name} is not a secret: {too_large}", code="secret-unavailable"
        ) from None


def secret_refs(definition: JobDefinition) -> list[SecretRef]:
    """Every secret reference a job carries: job and task env, the run-as password."""
    return [ref for _, ref in secret_places(definition)]


def secret_places(definition: JobDefinition) -> list[tuple[str, SecretRef]]:
    """Every secret reference a job carries, with its key path below the job (`env.NAME`,
    `tasks.TASK.env.NAME`, `runAs.password`)."""
    places = [(f"env.{n}", v) for n, v in definition.env if isinstance(v, SecretRef)]
    places += [
        (f"tasks.{t.name}.env.{n}", v)
        for t in definition.tasks
        for n, v in t.env
        if isinstance(v, SecretRef)
    ]
    if definition.run_as is not None and definition.run_as.password is not None:
        places.append(("runAs.password", definition.run_as.password))
    return places


def require_secrets(stack: ResolvedStack, plan: Plan, resolve: Callable[[SecretRef], str]) -> None:
    """Read every secret the plan's changes will send, before the first request that changes
    anything: a missing one, or one XML 1.0 cannot carry, stops apply with nothing cancelled
    or half-made, naming the key path (the values are read again when they are sent, and
    dropped here)."""
    for change in plan.changes:
        desired = stack.jobs.get(change.key)
        if desired is None or not change.is_change or change.blocks:
            continue
        for below, ref in secret_places(desired.definition):
            where = Location(file=stack.source, path=f"jobs.{change.key}.{below}")
            try:
                value = resolve(ref)
            except SecretUnavailable as missing:
                raise SecretUnavailable(
                    missing.message, code=missing.code, hint=missing.hint, location=where
                ) from None
            if first_uncarriable(value) is not None:
                raise SecretUnavailable(
                    f"secret {ref.source}:{ref.name} holds a character job XML cannot carry "
                    "(a control character other than tab, line feed and carriage return, "
                    "U+FFFE, U+FFFF or a lone surrogate)",
                    code="secret-invalid",
                    hint="job XML (XML 1.0, how apply creates jobs by default) cannot hold it, "
                    "so hpcspec sends no such value whichever way it creates jobs",
                    location=where,
                )
