"""`hpcspec import --job ID...`: live jobs → a manifest (Terraform's import with generated
configuration). Loaded only for `--job`: `import --xml` never loads the HTTP stack.

Stages: open the cluster → `engine.importing.import_jobs` (each job read whole; defaults,
identity tags and secret values left out) → `manifest.export.export_manifest` → stdout or a
new file (`cli/import_cmd.py` writes it). Notes (what could not be carried, which env values
became placeholders) go to the manifest's header and to stderr; no secret value reaches
either.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.cli.context import open_client
from hpcspec.config import ClusterFlags
from hpcspec.engine.identity import STACK_TAG
from hpcspec.engine.importing import import_jobs
from hpcspec.errors import UsageError
from hpcspec.hpcpack.live import custom_value
from hpcspec.manifest.export import export_manifest


def import_live(
    job_ids: Sequence[int],
    *,
    stack: str | None,
    key: str | None,
    keep_identity: bool,
    secret_names: Sequence[str],
    cluster_flags: ClusterFlags,
) -> tuple[str, list[str], list[str]]:
    """The manifest of live jobs `job_ids`, the notes for stderr, and each job's `KEY=ID`
    (what `hpcspec adopt` takes)."""
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
    # adopt refuses a job that carries another stack's identity (a copy made with --stack)
    tags = [custom_value(j.definition.custom_properties, STACK_TAG) for j in imported.jobs]
    named = stack or next((t for t in tags if t), None)
    pairs = [
        f"{job.key}={job_id}"
        for job, job_id, tag in zip(imported.jobs, job_ids, tags, strict=True)
        if tag in (None, named)
    ]
    return exported.text, [*imported.notes, *exported.notes], pairs
