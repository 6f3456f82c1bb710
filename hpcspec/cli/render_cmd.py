"""`hpcspec render MANIFEST`: write each job as HPC Pack job XML, ready for `job submit /jobfile:`.

The XML carries hpcspec's identity tags (stack, key, digest; no per-attempt token), so a job
submitted from it is recognised by the next plan, and the job's manifest-only policy
(dependsOn, retries, state, onSpecChange) as `hpcspec.*` tags that `hpcspec import` reads
back. Secret values are written only with `--include-secrets`; what a file leaves out (secret
references, properties the importer ignores) is noted on stderr.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.engine.identity import identity_tags
from hpcspec.engine.secrets import resolve_secret
from hpcspec.errors import ExitCode, UsageError
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.definition import JobDefinition, pairs
from hpcspec.manifest import DesiredJob, load_and_resolve
from hpcspec.manifest.export import policy_tags
from hpcspec.manifest.resolve import ResolvedStack


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write one KEY.xml per job into this directory (created if missing).",
)
@click.option("--job", "job_keys", multiple=True, metavar="KEY", help="Only this job (repeatable).")
@click.option(
    "--include-secrets",
    is_flag=True,
    help="Write the values of {secret: ...} environment variables into the XML.",
)
@var_options
def render(
    manifest: Path,
    out_dir: Path | None,
    job_keys: tuple[str, ...],
    include_secrets: bool,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
) -> int:
    """Render a manifest's jobs as HPC Pack job XML files."""
    stack = load_and_resolve(manifest, collect_vars(var_pairs, var_files))
    jobs = _selected(stack, job_keys)
    resolver = resolve_secret if include_secrets else None
    if out_dir is None:
        if len(jobs) != 1:
            raise UsageError(
                f"the manifest has {len(jobs)} jobs; name one with --job KEY "
                "or write them all with --out DIR",
                code="render-needs-out",
            )
        click.echo(jobxml.render(tagged(stack.stack, jobs[0]), secrets=resolver), nl=False)
        _notes(jobs[0], resolver)
        return int(ExitCode.OK)
    out_dir.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        path = out_dir / f"{job.key}.xml"
        data = jobxml.render(tagged(stack.stack, job), secrets=resolver)
        # A file holding secret values is readable by its owner only.
        mode = 0o600 if include_secrets and job.definition.has_secrets() else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        click.echo(f"wrote {path}")
        _notes(job, resolver)
    return int(ExitCode.OK)


def _notes(job: DesiredJob, resolver: jobxml.SecretResolver | None) -> None:
    for note in jobxml.render_notes(job.definition, secrets=resolver):
        click.echo(f"note: {job.key}: {note}", err=True)


def tagged(stack: str, job: DesiredJob) -> JobDefinition:
    """The job's definition with hpcspec's identity tags (stack, key, digest) added."""
    tags = identity_tags(stack, job.key, job.digest)
    custom = {**dict(job.definition.custom_properties), **tags, **policy_tags(job)}
    return replace(job.definition, custom_properties=pairs(custom))


def _selected(stack: ResolvedStack, keys: tuple[str, ...]) -> list[DesiredJob]:
    unknown = [k for k in keys if k not in stack.jobs]
    if unknown:
        raise UsageError(
            f"--job {unknown[0]!r} is not a job in stack {stack.stack!r}",
            code="unknown-job",
            hint=f"jobs: {', '.join(stack.jobs)}",
        )
    return [stack.jobs[k] for k in keys] if keys else list(stack.jobs.values())
