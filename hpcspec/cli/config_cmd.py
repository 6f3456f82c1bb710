"""`hpcspec config view|use-context|set-context`: the effective settings and the contexts file."""

from __future__ import annotations

import json
import os

import click

from hpcspec.cli.context import resolve_config
from hpcspec.cli.options import cluster_options, output_option
from hpcspec.config import (
    LOCAL,
    ClusterFlags,
    ConfigError,
    Context,
    contexts_path,
    load_contexts,
    save_contexts,
    state_dir,
    with_context,
)
from hpcspec.hpcpack.transport import check_url
from hpcspec.render import neutralise


@click.group()
def config() -> None:
    """Show and change which cluster hpcspec talks to (docs/configuration.md)."""


@config.command()
@output_option(("text", "json"), "How to show the settings.")
@cluster_options
def view(output: str, cluster_flags: ClusterFlags) -> int:
    """Show each effective setting and where it came from (the password masked)."""
    resolved = resolve_config(cluster_flags, need_password=False, need_cluster=False)
    rows = resolved.rows()
    state = state_dir(os.environ)
    for warning in resolved.warnings:
        click.echo(f"hpcspec: warning: {neutralise(warning)}", err=True)
    if output == "json":
        settings = {name: {"value": value, "origin": origin} for name, value, origin in rows}
        document = {
            "config_file": str(resolved.config_file),
            "state_dir": str(state),
            "settings": settings,
        }
        click.echo(json.dumps(document, indent=2))
        return 0
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    click.echo(f"contexts file: {resolved.config_file}")
    click.echo(f"state dir:     {state}")
    for name, value, origin in rows:
        suffix = f"  ({origin})" if origin else ""
        click.echo(f"{name:<{width}}  {value:<{value_width}}{suffix}".rstrip())
    return 0


@config.command("use-context")
@click.argument("name")
def use_context(name: str) -> int:
    """Make NAME the current context."""
    contexts = load_contexts(contexts_path(os.environ))
    context = contexts.get(name)
    if context is None:
        known = ", ".join(c.name for c in contexts.contexts) or "none"
        raise ConfigError(f"no context {name!r} (contexts: {known})", file=contexts.path)
    save_contexts(with_context(contexts, context, make_current=True))
    click.echo(f"current context: {name} ({context.cluster})")
    return 0


@config.command("set-context")
@click.argument("name")
@click.option("--cluster", "url", required=True, metavar="URL", help="The REST API URL.")
@click.option("--username", help="User, as DOMAIN\\user (the password is never stored).")
@click.option("--as-user", "as_user", metavar="USER", help="Act as this user (x-ms-as-user).")
@click.option("--ca-bundle", "ca_bundle", type=click.Path(), help="CA certificates (PEM).")
@click.option("--insecure", is_flag=True, help="Do not verify TLS for this cluster.")
@click.option(
    "--request-timeout",
    "timeout",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Read timeout per request.",
)
@click.option("--use", "make_current", is_flag=True, help="Also make it the current context.")
def set_context(
    name: str,
    url: str,
    username: str | None,
    as_user: str | None,
    ca_bundle: str | None,
    insecure: bool,
    timeout: float | None,
    make_current: bool,
) -> int:
    """Add or replace the context NAME in the contexts file."""
    if name == LOCAL:
        raise ConfigError(
            "`local` names the embedded local cluster; a context cannot be called that",
            hint="choose another name",
        )
    check_url(url, with_credentials=True)  # refuse http to remote hosts now, not at use
    contexts = load_contexts(contexts_path(os.environ))
    context = Context(name, url, username, as_user, ca_bundle, insecure, timeout)
    updated = with_context(contexts, context, make_current=make_current or not contexts.current)
    save_contexts(updated)
    click.echo(f"context {name} saved in {contexts.path}")
    return 0
