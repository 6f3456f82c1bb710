"""`hpcspec import --xml FILE... | --job ID...`: HPC Pack job XML (e.g. from `job export`), or
live jobs (`cli/import_job.py`), → a manifest.

Each file is read by the job XML importer's own rules and written as one job of a tidy
manifest on stdout (or --out); anything that cannot be said in a manifest, or that hpcspec
had to decide (a Priority/ExpandedPriority pair that disagrees, names for unnamed tasks), is
noted as a comment in it and on stderr. `hpcspec render` output comes back whole: its
`hpcspec.*` tags give the stack, the keys, job dependencies, retries, state and onSpecChange.
Linear in the tasks (docs/performance.md: a 32,000-task file).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hpcspec.capped_read import FileTooLarge, read_capped
from hpcspec.cli.options import cluster_options
from hpcspec.errors import ExitCode, HpcspecError, Location, UsageError
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.jobxml.safe import MAX_JOB_XML_BYTES
from hpcspec.hpcpack.values import format_priority
from hpcspec.manifest.export import ExportJob, export_manifest, slug
from hpcspec.manifest.source import without_cycle_collection
from hpcspec.manifest.vocabulary import KEY_PATTERN
from hpcspec.render import neutralise

if TYPE_CHECKING:
    from hpcspec.config import ClusterFlags


@click.command("import")
@click.option(
    "--xml",
    "files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A job XML file to import (repeatable).",
)
@click.option(
    "--job",
    "job_ids",
    multiple=True,
    type=click.IntRange(min=1),
    metavar="ID",
    help="A live job to import, by id (repeatable; parents imported together stay dependsOn).",
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
@click.option("--key", help="With one --job: its key in the manifest (default: from its name).")
@click.option(
    "--secret-env",
    "secret_names",
    multiple=True,
    metavar="NAME",
    help="With --job: import this env variable as a {secret: env:NAME} placeholder (repeatable;"
    " hpcspec's own secrets and names like *PASSWORD*/*TOKEN*/*KEY* always are).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the manifest to this new file instead of stdout.",
)
@cluster_options
def import_(
    files: tuple[Path, ...],
    job_ids: tuple[int, ...],
    stack: str | None,
    keep_identity: bool,
    key: str | None,
    secret_names: tuple[str, ...],
    out: Path | None,
    cluster_flags: ClusterFlags,
) -> int:
    """Print a manifest for jobs read from HPC Pack job XML files or from the cluster."""
    if bool(files) == bool(job_ids):
        raise UsageError("give --xml FILE... or --job ID... (one of them)", code="usage")
    if job_ids:
        from hpcspec.cli.import_job import import_live  # the HTTP stack, only for --job

        text, notes, pairs = import_live(
            job_ids,
            stack=stack,
            key=key,
            keep_identity=keep_identity,
            secret_names=secret_names,
            cluster_flags=cluster_flags,
        )
        write_manifest(text, out)
        for note in notes:
            click.echo(f"note: {neutralise(note)}", err=True)
        # Without adopt, a job hpcspec applied is judged by its spec's digest, which properties
        # left out at HPC Pack's defaults change: plan would run a finished job again.
        if not pairs:
            return int(ExitCode.OK)
        adopt = " ".join(shlex.quote(a) for a in ("hpcspec", "adopt", str(out or "FILE"), *pairs))
        click.echo(
            f"hpcspec: next, {neutralise(adopt)} makes these jobs the manifest's, so plan "
            "judges them by what they are (until then it may plan to run them again)",
            err=True,
        )
        return int(ExitCode.OK)
    if key is not None or secret_names:
        raise UsageError("--key and --secret-env go with --job", code="usage")
    with without_cycle_collection():  # nothing built here forms cycles (manifest/load.py)
        return _import(files, stack, keep_identity, out)


def _import(
    files: tuple[Path, ...], stack: str | None, keep_identity: bool, out: Path | None
) -> int:
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
    write_manifest(exported.text, out)
    for note in [*notes, *exported.notes]:
        click.echo(f"note: {neutralise(note)}", err=True)
    return int(ExitCode.OK)


def write_manifest(text: str, out: Path | None) -> None:
    """The manifest on stdout, or in a new file `out` (an existing file is never replaced:
    Terraform's -generate-config-out refuses the same way)."""
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise HpcspecError(
            "the file exists; import writes only new files",
            code="output-exists",
            location=Location(str(out)),
            hint="choose another --out, or remove the file first",
        ) from None
    except OSError as error:
        raise HpcspecError(
            f"cannot create the file: {error.strerror}",
            code="file-unwritable",
            location=Location(str(out)),
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)
    click.echo(f"hpcspec: wrote {out}", err=True)


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
        return read_capped(path, MAX_JOB_XML_BYTES)
    except FileTooLarge as too_large:
        raise HpcspecError(
            str(too_large), code="job-xml-too-large", location=Location(str(path))
        ) from None
    except OSError as error:
        raise HpcspecError(
            f"cannot read the file: {error.strerror}",
            code="file-unreadable",
            location=Location(str(path)),
        ) from None
