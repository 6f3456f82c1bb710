"""`hpcspec import --job ID...`: live jobs → a manifest (Terraform's import with generated
configuration), and `--out FILE` for both kinds of import.

Stages: open the cluster → `engine.importing.import_jobs` (each job read whole; defaults,
identity tags and secret values left out) → `manifest.export.export_manifest` → stdout or a
new file. Notes (what could not be carried, which env values became placeholders) go to the
manifest's header and to stderr; no secret value reaches either.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from hpcspec.cli.context import open_client
from hpcspec.config import ClusterFlags
from hpcspec.engine.importing import import_jobs
from hpcspec.errors import ExitCode, HpcspecError, Location, UsageError
from hpcspec.manifest.export import export_manifest


def import_live(
    job_ids: Sequence[int],
    *,
    stack: str | None,
    key: str | None,
    keep_identity: bool,
    secret_names: Sequence[str],
    out: Path | None,
    cluster_flags: ClusterFlags,
) -> int:
    """Write a manifest for live jobs `job_ids` (stdout, or `out`)."""
    if key is not None and len(job_ids) != 1:
        raise UsageError(
            "--key names the key of one --job; drop it to import several", code="usage"
        )
    client, config = open_client(cluster_flags)
    try:
        imported = import_jobs(client, job_ids, key=key, secret_names=secret_names)
    finally:
        client.close()
    exported = export_manifest(
        imported.jobs,
        stack=stack,
        keep_identity=keep_identity,
        header=[
            f"imported by hpcspec from job(s) {', '.join(map(str, job_ids))} on {config.url.value}",
            *(f"note: {n}" for n in imported.notes),
        ],
    )
    write_manifest(exported.text, out)
    for note in [*imported.notes, *exported.notes]:
        click.echo(f"note: {note}", err=True)
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
