"""From command-line flags to a connected client: `resolve_config` and `open_client`.

The one place the CLI turns `ClusterFlags` into a `ClusterConfig` (environment, contexts
file, stdin, a TTY prompt) and that into an `HpcPackClient`. The choice of cluster is
`hpcspec.config`'s (DESIGN.md §6): when it is the embedded local cluster, this starts (or
reuses) the user's one local cluster — the same one `hpcspec local up` runs, whatever the
working directory. Every command that talks to a cluster prints one line on stderr naming
the cluster it really talks to and where that choice came from. The client gets the cluster's
saved profile (`hpcspec cluster check`); without one it detects the critical facts on first
use, and each is saved and told once.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click

from hpcspec.config import (
    ClusterConfig,
    ClusterFlags,
    Setting,
    load_identities,
    load_profile,
    local_cluster_dir,
    profile_not_saved,
    resolve,
    same_cluster,
    save_identities,
)
from hpcspec.config.state import StateDirError
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.client.base import Learned
from hpcspec.hpcpack.profile import UNKNOWN, ClusterProfile
from hpcspec.hpcpack.transport import Transport
from hpcspec.render import neutralise

LOCAL_ORIGIN = "embedded local cluster"


def _prompt(question: str, hide: bool) -> str:
    return str(click.prompt(question, hide_input=hide, err=True))


def resolve_config(
    flags: ClusterFlags, *, need_password: bool = True, need_cluster: bool = True
) -> ClusterConfig:
    """The effective configuration; prompts only when stdin is a terminal."""
    interactive = sys.stdin.isatty() and not flags.password_stdin
    return resolve(
        flags,
        env=os.environ,
        stdin=sys.stdin,
        prompt=_prompt if interactive else None,
        need_password=need_password,
        need_cluster=need_cluster,
    )


def open_client(
    flags: ClusterFlags,
    *,
    measuring: bool = False,
    session_for: Callable[[ClusterConfig], Any] | None = None,
) -> tuple[HpcPackClient, ClusterConfig]:
    """A client for the chosen cluster (starting the local one if that is it) and its config.

    `measuring` (`cluster check`): the client assumes hpcspec's defaults and learns nothing,
    so the check sees what the cluster really does; `session_for` makes the HTTP session
    (`--record`'s recording one)."""
    config = resolve_config(flags)
    origin = config.url.origin
    if config.is_local:
        from hpcspec.emulator import local  # only when needed: it may start a server

        running = local.ensure_up(local_cluster_dir(os.environ, create=True))
        origin = f"{LOCAL_ORIGIN}: {config.url.origin}"
        config = replace(
            config,
            url=Setting(running.url, origin),
            username=Setting(running.username, LOCAL_ORIGIN),
            password=Setting(running.password, LOCAL_ORIGIN),
        )
    click.echo(f"hpcspec: cluster {config.url.value} ({origin})", err=True)
    for warning in config.warnings:
        click.echo(f"hpcspec: warning: {neutralise(warning)}", err=True)
    profile = ClusterProfile() if measuring else _profile(config)
    session = session_for(config) if session_for is not None else None
    statuses = {} if measuring else profile.status_kinds()
    transport = Transport(config.transport_options(), session=session, statuses=statuses)
    learned = None if measuring or profile.checked_at else _saver(config)
    client = HpcPackClient(transport, profile=profile, learned=learned)
    if not measuring and not config.is_local:
        _keep_identities(client, config.state_key)
    if config.insecure.value:
        click.echo(
            f"hpcspec: warning: TLS certificate verification is OFF ({config.insecure.origin})",
            err=True,
        )
    return client, config


def _profile(config: ClusterConfig) -> ClusterProfile:
    """The cluster's saved profile; the local cluster's is the emulator's own; else nothing is
    known yet (`UNKNOWN`: every fact detected on first use)."""
    if config.is_local:
        return ClusterProfile()
    saved = load_profile(config.profile_path)
    if saved is None or not same_cluster(saved.source, config.url.value):
        return UNKNOWN  # none yet, or measured on another cluster (the context's URL changed)
    return saved


def _keep_identities(client: HpcPackClient, cluster: str) -> None:
    """Where the cluster does not keep ClientSource (or may not: not yet known), load the
    cache of job identities and save it when the client is closed (`custom_identity.py`)."""
    if client.profile.knows("client_source_kept") and client.profile.client_source_kept:
        return
    client.identity_cache.update(load_identities(cluster))
    before = dict(client.identity_cache)

    def save() -> None:
        if client.identity_cache != before:  # only a cache: if it cannot be saved, the next
            with contextlib.suppress(OSError, StateDirError):  # command reads the jobs again
                save_identities(cluster, client.identity_cache)

    client.on_close(save)


def _saver(config: ClusterConfig) -> Learned:
    """Save each fact the client detects (so it is detected, and told, once per cluster) and
    print what it found."""
    path = config.profile_path

    def learned(profile: ClusterProfile, note: str) -> None:
        saved = ""
        if path is not None:
            why = profile_not_saved(path, profile.with_changes(source=config.url.value or ""))
            saved = f"; saved in {path}" if why is None else f" (not saved: {why})"
        if note:
            click.echo(
                f"hpcspec: warning: no cluster profile for this cluster, so hpcspec detected "
                f"it: {note}{saved}; run `hpcspec cluster check` to verify every assumption",
                err=True,
            )

    return learned
