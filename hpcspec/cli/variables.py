"""`--var NAME=VALUE` and `--var-file FILE`: command-line overrides of a manifest's vars; and
`stack_target`, the `MANIFEST | --stack NAME` choice of the commands that act on a whole stack,
and `manifest_and_target`, the `MANIFEST [KEY[/TASK]] | --stack NAME [KEY[/TASK]]` arguments of
`logs`, `requeue` and `cancel`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hpcspec.errors import UsageError
from hpcspec.manifest import load_and_resolve
from hpcspec.manifest.load import read_text
from hpcspec.manifest.resolve import ResolvedStack
from hpcspec.manifest.source import load_yaml
from hpcspec.manifest.variables import Overrides, scalar_text

_F = TypeVar("_F", bound=Callable[..., Any])


def var_options(command: _F) -> _F:
    """Add `--var` (repeatable) and `--var-file` (repeatable) to a command."""
    command = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(path_type=Path),
        help="YAML file of NAME: VALUE overriding the manifest's vars (repeatable).",
    )(command)
    return click.option(
        "--var",
        "var_pairs",
        multiple=True,
        metavar="NAME=VALUE",
        help="Override one of the manifest's vars (repeatable; wins over --var-file).",
    )(command)


def collect_vars(var_pairs: tuple[str, ...], var_files: tuple[Path, ...]) -> Overrides:
    """The overrides, files first then `--var`, later ones winning (each knows its origin)."""
    out = Overrides()
    for path in var_files:
        data = load_yaml(read_text(path), file=str(path))
        if not isinstance(data, dict) or any(isinstance(v, dict | list) for v in data.values()):
            raise UsageError(
                f"--var-file {path}: expected a mapping of NAME: VALUE", code="invalid-var-file"
            )
        for key, value in data.items():
            out.given(str(key), scalar_text(value), f"--var-file {path}")
    for pair in var_pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {pair!r}: expected NAME=VALUE", code="invalid-var")
        out.given(name.strip(), value, "--var")
    return out


def stack_target(
    manifest: Path | None,
    stack_name: str | None,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
) -> tuple[str, list[str], ResolvedStack | None]:
    """(stack name, its job keys, the resolved manifest) from MANIFEST, or (NAME, [], None)
    from `--stack NAME`; exactly one of the two must be given."""
    if (manifest is None) == (stack_name is None):
        raise UsageError("give a MANIFEST or --stack NAME (one of them)", code="usage")
    if manifest is None:
        assert stack_name is not None
        return stack_name, [], None
    from hpcspec.engine.secrets import remember_secrets  # here: validate loads no engine

    resolved = load_and_resolve(manifest, collect_vars(var_pairs, var_files))
    remember_secrets(resolved)  # to mask them in task output it shows (`masking.py`)
    return resolved.stack, list(resolved.jobs), resolved


def say_if_no_jobs(stack: str, found: int, by_name: bool) -> None:
    """On stderr, that `--stack NAME` found no job: an empty answer with exit 0 reads as
    success, and a mistyped stack name is the usual cause (as kubectl's "No resources
    found")."""
    from hpcspec.render.neutralise import neutralise

    if by_name and not found:
        click.echo(
            f"hpcspec: no job of stack {neutralise(stack)!r} found on this cluster", err=True
        )


def manifest_and_target(
    arguments: tuple[str, ...], stack_name: str | None, *, needs_target: bool = False
) -> tuple[Path | None, str | None]:
    """(MANIFEST, KEY[/TASK]) from the positional arguments (with `--stack`, only the
    target); `needs_target`: the KEY is required."""
    shape = "MANIFEST KEY[/TASK] or --stack NAME KEY[/TASK]"
    if not needs_target:
        shape = "MANIFEST [KEY[/TASK]] or --stack NAME [KEY[/TASK]]"
    most = 1 if stack_name is not None else 2
    fewest = most if needs_target else most - 1
    if len(arguments) > most or (stack_name is None and not arguments):
        raise UsageError(f"expected {shape}", code="usage")
    if len(arguments) < fewest:
        raise UsageError(f"expected {shape}: name the job KEY", code="usage")
    if stack_name is not None:
        return None, arguments[0] if arguments else None
    return Path(arguments[0]), arguments[1] if len(arguments) > 1 else None
