"""`hpcspec cluster info` (what the cluster is: version, head node, nodes, groups, templates) and
`hpcspec cluster check` (every assumption hpcspec makes about HPC Pack, proved on the cluster;
the probes are `hpcpack.check`, the profile is saved by `hpcspec.config`)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options, output_option
from hpcspec.config import ClusterConfig, ClusterFlags, profile_not_saved
from hpcspec.hpcpack.client import ClusterInfo, read_cluster_info
from hpcspec.hpcpack.profile import ClusterProfile
from hpcspec.hpcpack.transport import basic_token
from hpcspec.render import neutralise
from hpcspec.render.neutralise import inert_json

FORMAT_VERSION = 1


@click.group()
def cluster() -> None:
    """Inspect the HPC Pack cluster."""


@cluster.command()
@output_option(("text", "json"), "How to show the result.")
@cluster_options
def info(output: str, cluster_flags: ClusterFlags) -> int:
    """Show the version, head node, date format, node groups, nodes by state and templates."""
    client, _config = open_client(cluster_flags)
    try:
        summary = read_cluster_info(client)
    finally:
        client.close()
    if output == "json":
        click.echo(inert_json({"format_version": FORMAT_VERSION} | summary.as_dict()))
    else:
        click.echo(render_text(summary))
    return 0


def render_text(summary: ClusterInfo) -> str:
    """The summary as aligned text lines (the server's words neutralised: docs/security.md)."""
    total = sum(count for _, count in summary.nodes_by_state)
    states = ", ".join(f"{count} {neutralise(state)}" for state, count in summary.nodes_by_state)
    lines = [
        f"cluster        {neutralise(summary.url)}",
        f"version        {neutralise(summary.version)}",
        f"head node      {neutralise(summary.active_head_node)}",
        f"date format    {neutralise(summary.date_time_format)}",
        f"nodes          {total}" + (f" ({states})" if states else ""),
        "node groups" + ("" if summary.node_groups else "    none"),
    ]
    groups = [
        (neutralise(group.name), [neutralise(m) for m in members], neutralise(group.description))
        for group, members in summary.node_groups
    ]
    width = max((len(name) for name, _, _ in groups), default=0)
    for name, members, description in groups:
        listed = ", ".join(members) if members else "(no nodes)"
        about = f"  — {description}" if description else ""
        lines.append(f"  {name:<{width}}  {listed}{about}")
    templates = ", ".join(neutralise(t) for t in summary.job_templates)
    lines.append(f"job templates  {templates or 'none'}")
    return "\n".join(lines)


@cluster.command()
@click.option("--context", "context", metavar="NAME", help="Check the cluster of this context.")
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="How to show the findings.",
)
@click.option(
    "--record",
    "record",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write the redacted HTTP trace (trace.json) and the report (report.json) to DIR.",
)
@click.option("--keep", is_flag=True, help="Leave the throwaway jobs as they are (not cancelled).")
@cluster_options
def check(
    context: str | None, output: str, record: Path | None, keep: bool, cluster_flags: ClusterFlags
) -> int:
    """Prove each assumption hpcspec makes about HPC Pack on this cluster, and save its profile.

    Uses throwaway jobs named hpcspec-check-… that never run (held before submit, or never
    submitted) and cancels them at the end. Safe on a production cluster: docs/cluster-check.md.
    """
    from hpcspec.hpcpack.check import run_check
    from hpcspec.hpcpack.check.trace import RecordingSession
    from hpcspec.render.cluster_check import render_markdown, render_text

    if context is not None:
        if cluster_flags.cluster is not None:
            raise click.UsageError("give --context or --cluster, not both")
        cluster_flags = replace(cluster_flags, cluster=context)
    recorder: RecordingSession | None = None

    def session_for(config: ClusterConfig) -> RecordingSession | None:
        nonlocal recorder
        if record is None:
            return None
        options = config.transport_options()
        secrets: tuple[str, ...] = ()
        if options.credentials:
            user, password = options.credentials.username, options.credentials.password
            secrets = (password, basic_token(user, password))
        recorder = RecordingSession(options.base_url, secrets)
        return recorder

    client, config = open_client(cluster_flags, measuring=True, session_for=session_for)
    try:
        report = run_check(client, keep=keep, observe=recorder.probe if recorder else None)
    finally:
        client.close()
    saved = _save(config, report.profile)
    if record is not None and recorder is not None:
        record.mkdir(parents=True, exist_ok=True)
        trace = recorder.trace(prefix=report.prefix, started=report.started)
        (record / "trace.json").write_text(json.dumps(trace, indent=1, sort_keys=True) + "\n")
        (record / "report.json").write_text(json.dumps(report.as_dict(), indent=1) + "\n")
        saved += f"; trace recorded in {record}"
    if output == "json":
        shown = {"format_version": FORMAT_VERSION} | report.as_dict() | {"saved": saved}
        click.echo(inert_json(shown))
    elif output == "markdown":
        click.echo(render_markdown(report, saved))
    else:
        click.echo(render_text(report, saved))
    return 0 if report.all_hold and not report.cleanup_errors else 1


def _save(config: ClusterConfig, profile: ClusterProfile) -> str:
    """Save the measured profile for the context (or URL); says where (or why not)."""
    path = config.profile_path
    if path is None:
        return "profile not saved: the embedded local cluster is hpcspec's own emulator"
    why = profile_not_saved(path, profile)
    return f"profile saved in {path}" if why is None else f"profile NOT saved ({why})"
