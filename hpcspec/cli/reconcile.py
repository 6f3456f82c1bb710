"""`hpcspec reconcile MANIFEST... --interval 60s`: keep the cluster matching, round after round.

For a service or a scheduled pipeline. Each round re-reads the manifests (a new commit is
picked up), plans every stack and applies what the plan allows with `--auto-approve`
semantics: refused changes (a replace of running work without `--allow-replace-running`, …)
stay refused, and Failed jobs are requeued while their `retries` allow (the planner's
`requeue` action). Every action is one log line. SIGTERM or SIGINT stops the loop after the
round in progress, with exit code 0. `--once` runs a single round and exits like apply
(0 ok, 1 error, 3 partial).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.event_stream import JsonLinesView, event_output
from hpcspec.cli.exit_codes import exit_code
from hpcspec.cli.lock_cmd import lock_options, lock_settings
from hpcspec.cli.options import cluster_options, duration_seconds
from hpcspec.cli.planning import applying_options, load_stacks, plan_options, planning_options
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.cli.views import ReconcileView, log
from hpcspec.config import ClusterFlags
from hpcspec.engine.outcomes import ApplyVerdict
from hpcspec.engine.pipeline import ApplyRequest, Cluster, reconcile_round
from hpcspec.engine.plan import Plan
from hpcspec.engine.secrets import remember_secrets
from hpcspec.engine.steps import ApplyOptions, CreateMethod
from hpcspec.errors import HpcspecError
from hpcspec.render import neutralise


@click.command()
@click.argument("manifests", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--interval",
    default="60s",
    show_default=True,
    metavar="DURATION",
    help="Time between the start of one round and the next.",
)
@click.option("--once", is_flag=True, help="Run one round and exit (0 ok, 1 error, 3 partial).")
@applying_options
@event_output("reconcile")
@lock_options
@planning_options
@var_options
@cluster_options
def reconcile(
    manifests: tuple[Path, ...],
    interval: str,
    once: bool,
    create_via: str,
    parallelism: int,
    stream: JsonLinesView | None,
    lock: bool,
    lock_timeout: str,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
    **selection: object,
) -> int:
    """Plan and apply the manifests every --interval until SIGTERM/SIGINT (exit 0)."""
    seconds = duration_seconds(interval, "--interval", positive=True)
    locking = lock_settings(lock, lock_timeout)
    overrides = collect_vars(var_pairs, var_files)
    load_stacks(manifests, overrides)  # a broken manifest stops the service before it starts
    client, config = open_client(cluster_flags)
    request = ApplyRequest(
        cluster_name=str(config.url.value),
        plan_options=plan_options(selection),
        options=ApplyOptions(via=CreateMethod(create_via), parallelism=parallelism),
        provenance=lambda stack: ci.provenance(stack.source, os.environ),
        lock=locking,
        state_key=config.state_key,
    )
    say = stream.log if stream is not None else log
    try:
        if once:
            return exit_code(_round(client, manifests, overrides, request, stream))
        with _stop_on_signals(say) as stop:
            # A round waiting for another's stack lock stops waiting: it has changed nothing.
            request = replace(request, lock=replace(request.lock, stop=stop))
            say(f"reconcile: {len(manifests)} manifest(s) every {interval}")
            while not stop.is_set():
                started = time.monotonic()
                _round(client, manifests, overrides, request, stream)
                stop.wait(max(0.0, seconds - (time.monotonic() - started)))
            say("reconcile: stopped")
        return exit_code(ApplyVerdict.APPLIED)
    finally:
        client.close()


@contextmanager
def _stop_on_signals(say: Callable[[str], None]) -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT; the previous handlers come back afterwards."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        say(f"reconcile: {signal.Signals(signum).name} received; stopping after this round")
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _round(
    client: Cluster,
    manifests: tuple[Path, ...],
    overrides: dict[str, str],
    request: ApplyRequest,
    stream: JsonLinesView | None,
) -> ApplyVerdict:
    """One round: the manifests read again (a new commit is picked up), then every stack
    applied by the engine; errors are logged, never fatal to the loop."""
    read = {path: _as_read(path) for path in manifests}
    try:
        stacks = load_stacks(manifests, overrides)
        for stack in stacks:  # masked in the task output it shows (`masking.py`)
            remember_secrets(stack)
    except HpcspecError as error:
        if stream is not None:
            stream.diagnostic(error)
        else:
            log(f"error: {neutralise(error.render())}")
        ci.annotate(error)
        return ApplyVerdict.FAILED
    sources = {stack.stack: Path(stack.source) for stack in stacks}

    def unchanged(plans: Sequence[Plan]) -> bool:
        for plan in plans:
            path = sources[plan.stack]
            if _as_read(path) != read.get(path):
                raise HpcspecError(
                    f"{path} changed while this round read and planned it: not applied this "
                    "round (the next round reads it again)",
                    code="manifest-changed",
                    hint="write a manifest whole: a new file renamed over the old one",
                )
        return True

    observer = stream or ReconcileView()
    return reconcile_round(client, stacks, request, observer=observer, confirm=unchanged)


def _as_read(path: Path) -> tuple[int, ...] | None:
    """What tells one version of a file from the next without reading it: which file the
    path names (a rename over it) and its size and times (a write in place); None when gone.
    A round applies a manifest only if this is the same before it reads it and after it
    planned: a file half written when read (`git pull` writes in place) is never applied."""
    try:
        seen = path.stat()
    except OSError:
        return None
    return (seen.st_dev, seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns)
