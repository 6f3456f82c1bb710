"""`hpcspec validate FILE...`: check manifests offline; exit 0 when all are valid, else 1.

Everything that can be known without a cluster: YAML, schema, properties and their HPC Pack
rules (manifest/rules.py), variables (an undeclared `--var` is an error), dependencies and
limits, and the rules that depend on the clock (a HoldUntil HPC Pack would refuse today),
which only validate checks.
"""

from __future__ import annotations

from pathlib import Path

import click

from hpcspec.cli import report
from hpcspec.cli.options import output_option
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.errors import ExitCode, HpcspecError
from hpcspec.manifest import InvalidManifest, load_manifest, resolve
from hpcspec.manifest.load import clock_problems
from hpcspec.manifest.resolve import ResolvedStack
from hpcspec.render.neutralise import inert_json


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_option(("text", "json"), "How to report the result.")
@var_options
def validate(
    files: tuple[Path, ...], output: str, var_pairs: tuple[str, ...], var_files: tuple[Path, ...]
) -> int:
    """Check manifests: syntax, schema, properties, variables, dependencies, HPC Pack limits."""
    overrides = collect_vars(var_pairs, var_files)
    results: list[tuple[Path, ResolvedStack | None, list[HpcspecError]]] = []
    for path in files:
        try:
            manifest = load_manifest(path)
            resolved = resolve(manifest, overrides)
            late = clock_problems(manifest, resolved)
            results.append((path, None if late else resolved, list(late)))
        except InvalidManifest as invalid:
            results.append((path, None, list(invalid.problems)))
        except HpcspecError as error:
            results.append((path, None, [error]))
    if output == "json":
        click.echo(inert_json(_document(results)))
    else:
        for path, stack, problems in results:
            if stack is not None:
                tasks = sum(len(j.definition.tasks) for j in stack.jobs.values())
                click.echo(
                    f"{path}: valid (stack {stack.stack}: {len(stack.jobs)} "
                    f"job{'s' * (len(stack.jobs) != 1)}, {tasks} task{'s' * (tasks != 1)})"
                )
            for problem in problems:
                report(problem)  # located line, hint and CI annotations
    failed = any(problems for _, _, problems in results)
    return int(ExitCode.ERROR if failed else ExitCode.OK)


def _document(
    results: list[tuple[Path, ResolvedStack | None, list[HpcspecError]]],
) -> dict[str, object]:
    return {
        "format_version": "1.0",
        "valid": not any(problems for _, _, problems in results),
        "files": [
            {
                "file": str(path),
                "valid": not problems,
                "stack": stack.stack if stack else None,
                "jobs": list(stack.jobs) if stack else [],
                "diagnostics": [
                    {**p.as_dict(), "file": p.location.file or str(path), "severity": "error"}
                    for p in problems
                ],
            }
            for path, stack, problems in results
        ],
    }
