"""`hpcspec drift MANIFEST`: what someone changed on the cluster outside hpcspec (read-only).

Stages: load the manifest → open the cluster → detect drift (reads only) → render → exit code
(0; with --detailed-exitcode 0 no drift / 2 drift; 1 on any error). The engine function takes
only the reading protocol, so this command cannot write to the cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options, output_option
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.drift import DriftReport, JobDrift, detect_drift
from hpcspec.engine.plan import FieldDiff
from hpcspec.errors import ExitCode
from hpcspec.manifest import load_and_resolve
from hpcspec.render import neutralise
from hpcspec.render.markdown import escape, literal
from hpcspec.render.phrases import field_label, quoted

DRIFT_FORMAT_VERSION = "1.0"


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@output_option(("text", "json", "markdown"), "How to show the drift.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing drifted, 2 when something did, 1 on error.",
)
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="KEY.FIELD",
    help="Known drift to leave out this run, e.g. mesh.Priority or *.Priority (repeatable).",
)
@var_options
@cluster_options
def drift(
    manifest: Path,
    output: str,
    detailed_exitcode: bool,
    ignores: tuple[str, ...],
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Report user-owned fields changed on the cluster since the last apply (never writes)."""
    stack = load_and_resolve(manifest, collect_vars(var_pairs, var_files))
    client, _ = open_client(cluster_flags)
    try:
        report = detect_drift(client, stack, ignore=ignores)
    finally:
        client.close()
    if output == "json":
        click.echo(json.dumps(document(report), indent=2).replace("#", "\\u0023"))
    elif output == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(render_text(report), nl=False)
    ci.append_step_summary(render_markdown(report))
    return int(ExitCode.CHANGES if detailed_exitcode and report.drifted else ExitCode.OK)


def _job(job: JobDrift) -> str:
    return f"{neutralise(job.key)}" + (f" (job {job.job_id}, {job.state})" if job.job_id else "")


def _values(diff: FieldDiff) -> str:
    live = "absent" if diff.before is None else quoted(diff.before)
    wanted = "absent" if diff.after is None else quoted(diff.after)
    return f"live {live}, manifest {wanted}"


def _summary(report: DriftReport) -> str:
    drifted = [j for j in report.jobs if j.drifted]
    if not drifted:
        return f"No drift in stack {report.stack}: the live jobs match what was applied."
    fields = sum(len(j.diffs) for j in drifted)
    return f"Drift in stack {report.stack}: {fields} field(s) in {len(drifted)} job(s)."


def render_text(report: DriftReport) -> str:
    lines = [neutralise(_summary(report))]
    for job in report.jobs:
        if job.skipped:
            lines.append(f"  {_job(job)}: not compared ({job.skipped})")
        for diff in job.diffs:
            lines.append(f"  ~ {_job(job)}: {field_label(diff)}: {_values(diff)}")
    return "\n".join(lines) + "\n"


def render_markdown(report: DriftReport) -> str:
    out = [f"### hpcspec drift: stack <code>{literal(report.stack)}</code>", ""]
    out += [f"**{escape(neutralise(_summary(report)))}**", ""]
    rows = [(j, d) for j in report.jobs for d in j.diffs]
    if rows:
        out += ["| Job | Field | Live | Manifest |", "| :-- | :-- | :-- | :-- |"]
        out += [
            f"| {escape(_job(j))} | <code>{escape(field_label(d))}</code> "
            f"| {literal(d.before or 'absent')} | {literal(d.after or 'absent')} |"
            for j, d in rows
        ]
        out.append("")
    return "\n".join(out) + "\n"


def document(report: DriftReport) -> dict[str, object]:
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "stack": report.stack,
        "drifted": report.drifted,
        "jobs": [
            {
                "key": j.key,
                "job_id": j.job_id,
                "state": j.state,
                "skipped": j.skipped or None,
                "diffs": [
                    {
                        "section": d.section,
                        "name": d.name,
                        "live": d.before,
                        "manifest": d.after,
                        "sensitive": d.sensitive,
                    }
                    for d in j.diffs
                ],
            }
            for j in report.jobs
        ],
    }
