"""Secret references → values, at apply time only. Values never leave this call's caller."""

from __future__ import annotations

import os
from pathlib import Path

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.definition import SecretRef


class SecretUnavailable(HpcspecError):
    """A `{secret: …}` reference that cannot be read (names the reference, never a value)."""


def resolve_secret(ref: SecretRef) -> str:
    """The value behind `env:NAME` or `file:PATH` (a file's trailing newline is dropped)."""
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
