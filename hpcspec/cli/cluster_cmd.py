"""`hpcspec cluster info`: what the cluster is — version, head node, nodes, groups, templates."""

from __future__ import annotations

import json

import click

from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options, output_option
from hpcspec.config import ClusterFlags
from hpcspec.hpcpack.client import ClusterInfo, read_cluster_info

FORMAT_VERSION = 1


@click.group()
def cluster() -> None:
    """Inspect the HPC Pack cluster."""


@cluster.command()
@output_option(("text", "json"), "How to show the result.", short=True)
@cluster_options
def info(output: str, cluster_flags: ClusterFlags) -> int:
    """Show the version, head node, date format, node groups, nodes by state and templates."""
    client, _config = open_client(cluster_flags)
    try:
        summary = read_cluster_info(client)
    finally:
        client.close()
    if output == "json":
        click.echo(json.dumps({"format_version": FORMAT_VERSION} | summary.as_dict(), indent=2))
    else:
        click.echo(render_text(summary))
    return 0


def render_text(summary: ClusterInfo) -> str:
    """The summary as aligned text lines."""
    total = sum(count for _, count in summary.nodes_by_state)
    states = ", ".join(f"{count} {state}" for state, count in summary.nodes_by_state)
    lines = [
        f"cluster        {summary.url}",
        f"version        {summary.version}",
        f"head node      {summary.active_head_node}",
        f"date format    {summary.date_time_format}",
        f"nodes          {total}" + (f" ({states})" if states else ""),
        "node groups" + ("" if summary.node_groups else "    none"),
    ]
    width = max((len(g.name) for g, _ in summary.node_groups), default=0)
    for group, members in summary.node_groups:
        listed = ", ".join(members) if members else "(no nodes)"
        about = f"  — {group.description}" if group.description else ""
        lines.append(f"  {group.name:<{width}}  {listed}{about}")
    lines.append(f"job templates  {', '.join(summary.job_templates) or 'none'}")
    return "\n".join(lines)
