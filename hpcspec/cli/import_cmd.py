"""`hpcspec import --xml FILE...`: HPC Pack job XML (e.g. from `job export`) → a manifest.

Each file is read by the job XML importer's own rules and written as one job of a tidy
manifest on stdout; anything that cannot be said in a manifest, or that hpcspec had to
decide (a Priority/ExpandedPriority pair that disagrees, names for unnamed tasks), is noted
as a comment in it and on stderr. `hpcspec render` output comes back whole: its `hpcspec.*`
tags give the stack, the keys, job dependencies, retries, state and onSpecChange. Linear in
the tasks (docs/performance.md: a 32,000-task file). Importing live jobs by id is not part
of this command.
"""

from __future__ import annotations

from pathlib import Path

import click

from hpcspec.errors import ExitCode, HpcspecError, Location
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.values import format_priority
from hpcspec.manifest.export import ExportJob, export_manifest, slug
from hpcspec.manifest.load import without_cycle_collection
from hpcspec.manifest.models import KEY_PATTERN


@click.command("import")
@click.option(
    "--xml",
    "files",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A job XML file to import (repeatable).",
)
@click.option(
    "--stack",
    help=f"Stack name of the manifest (default: from hpcspec tags, else imported; {KEY_PATTERN}).",
)
@click.option(
    "--keep-identity",
    is_flag=True,
    help="Keep hpcspec.* identity tags of the imported jobs as comments.",
)
def import_(files: tuple[Path, ...], stack: str | None, keep_identity: bool) -> int:
    """Print a manifest for jobs read from HPC Pack job XML files."""
    with without_cycle_collection():  # nothing built here forms cycles (manifest/load.py)
        return _import(files, stack, keep_identity)


def _import(files: tuple[Path, ...], stack: str | None, keep_identity: bool) -> int:
    jobs = []
    notes: list[str] = []
    for path in files:
        document = jobxml.read_document(_read(path), source=str(path))
        definition = jobxml.to_definition(document)
        tags = dict(definition.custom_properties)
        key = None if "hpcspec.key" in tags or definition.name else slug(path.stem)
        jobs.append(ExportJob(definition, key=key))
        notes += reading_notes(path.name, document)
    exported = export_manifest(
        jobs,
        stack=stack,
        keep_identity=keep_identity,
        header=[
            f"imported by hpcspec from {', '.join(str(p) for p in files)}",
            *(f"note: {n}" for n in notes),
        ],
    )
    click.echo(exported.text, nl=False)
    for note in [*notes, *exported.notes]:
        click.echo(f"note: {note}", err=True)
    return int(ExitCode.OK)


def reading_notes(name: str, document: jobxml.JobDocument) -> list[str]:
    """What the importer's rules, and hpcspec's choices, did to a file that a reader of the
    manifest should know."""
    notes = []
    priority, disagreement = jobxml.priority_choice(document)
    if disagreement:
        notes.append(f"{name}: {disagreement}")
    elif priority is not None:
        notes.append(
            f"{name}: Priority and ExpandedPriority agree: {format_priority(priority)} ({priority})"
        )
    unnamed = [
        f"task {t.position} is named {given!r}"
        for t, given in zip(document.tasks, jobxml.task_names(document), strict=True)
        if not t.values.get("Name")
    ]
    if unnamed:
        more = f" and {len(unnamed) - 3} more" if len(unnamed) > 3 else ""
        notes.append(f"{name}: unnamed tasks get names: {', '.join(unnamed[:3])}{more}")
    if not document.group_dependencies and any("GroupId" in t.values for t in document.tasks):
        notes.append(f"{name}: GroupId dropped (the file has no task group dependencies)")
    # Version is on every export and says nothing about the job: not worth a note.
    ignored = [a for a in document.ignored if a.lower() != "version"]
    if ignored:
        notes.append(
            f"{name}: skipped what the importer ignores: {', '.join(ignored[:6])}"
            + (f" and {len(ignored) - 6} more" if len(ignored) > 6 else "")
        )
    return notes


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise HpcspecError(
            f"cannot read the file: {error.strerror}",
            code="file-unreadable",
            location=Location(str(path)),
        ) from None
