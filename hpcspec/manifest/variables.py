"""`${name}` substitution in manifest strings; `$${` writes a literal `${`.

Built in: `${stack}`, `${job}`; `${matrix.AXIS}` inside a task with a `matrix`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from hpcspec.hpcpack.xml_chars import first_uncarriable
from hpcspec.manifest.errors import KeyPath, ManifestError, did_you_mean

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}")


class Overrides(dict[str, str]):
    """`--var` and `--var-file` values by name, and where each was given (`origins`: the
    `--var-file PATH` an entry came from), so an error names the right one."""

    def __init__(self) -> None:
        super().__init__()
        self.origins: dict[str, str] = {}

    def given(self, name: str, value: str, origin: str) -> None:
        """Set `name`, given by `origin` (a later one wins, as on the command line)."""
        self[name] = value
        self.origins[name] = origin


def substitute(text: str, variables: Mapping[str, str], path: KeyPath) -> str:
    """Replace every `${name}` in `text`; an unknown name is a located error."""
    if "$" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "${"
        name = name.strip()
        if name in variables:
            return variables[name]
        if name.startswith("matrix.") and not any(v.startswith("matrix.") for v in variables):
            raise ManifestError(
                f"${{{name}}} is used outside a task with a matrix",
                path=path,
                code="unknown-variable",
                hint="${matrix.AXIS} works only inside a task that has matrix:",
            )
        guess = did_you_mean(name, variables)
        raise ManifestError(
            f"unknown variable ${{{name}}}",
            path=path,
            code="unknown-variable",
            hint=(
                f"did you mean ${{{guess}}}?"
                if guess
                else "define it under vars: or pass --var NAME=VALUE; write $${ for a literal ${"
            ),
        )

    return _REFERENCE.sub(replace, text)


def job_text(text: str, variables: Mapping[str, str], path: KeyPath) -> str:
    """A manifest string as it goes to the cluster: substituted, and text job XML can carry."""
    result = substitute(text, variables, path)
    check_carriable(result, path)
    return result


def check_carriable(text: str, path: KeyPath, what: str = "value") -> None:
    """Refuse text XML 1.0 cannot carry (the job XML writer's rule), at its key path: render
    and apply would refuse it, so validate does."""
    at = first_uncarriable(text)
    if at is not None:
        raise ManifestError(
            f"the {what} holds U+{ord(text[at]):04X} at character {at + 1}, which job XML "
            "(XML 1.0) cannot carry",
            path=path,
            code="invalid-value",
            hint="remove the control character (tab, line feed and carriage return are fine)",
        )


def scalar_text(value: object) -> str:
    """How a scalar variable value reads inside a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
