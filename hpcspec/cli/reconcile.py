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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import click

from hpcspec.cli import ci
from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options
from hpcspec.cli.planning import applying_options, load_stacks, plan_options, planning_options
from hpcspec.cli.variables import collect_vars, var_options
from hpcspec.config import ClusterFlags
from hpcspec.engine.apply import ApplyOptions, JobResult, Outcome, apply_plan
from hpcspec.engine.journal import Journal
from hpcspec.engine.recover import recover
from hpcspec.engine.workflow import plan_stack
from hpcspec.errors import ExitCode, HpcspecError, UsageError
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.values import parse_duration
from hpcspec.render import neutralise


def log(message: str) -> None:
    """One line, timestamped, on stdout (flushed: services and CI read it live)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    click.echo(f"{stamp} {message}")


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
@planning_options
@var_options
@cluster_options
def reconcile(
    manifests: tuple[Path, ...],
    interval: str,
    once: bool,
    create_via: str,
    parallelism: int,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
    **selection: object,
) -> int:
    """Plan and apply the manifests every --interval until SIGTERM/SIGINT (exit 0)."""
    try:
        seconds = float(parse_duration(interval))
    except ValueError as bad:
        raise UsageError(f"--interval {interval!r}: {bad}", code="usage") from None
    if seconds <= 0:
        raise UsageError("--interval must be longer than 0s", code="usage")
    overrides = collect_vars(var_pairs, var_files)
    load_stacks(manifests, overrides)  # a broken manifest stops the service before it starts
    client, config = open_client(cluster_flags)
    options = ApplyOptions(via=create_via, parallelism=parallelism)
    try:
        if once:
            return int(
                _round(client, str(config.url.value), manifests, overrides, selection, options)
            )
        with _stop_on_signals() as stop:
            log(f"reconcile: {len(manifests)} manifest(s) every {interval}")
            while not stop.is_set():
                started = time.monotonic()
                _round(client, str(config.url.value), manifests, overrides, selection, options)
                stop.wait(max(0.0, seconds - (time.monotonic() - started)))
            log("reconcile: stopped")
        return int(ExitCode.OK)
    finally:
        client.close()


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT; the previous handlers come back afterwards."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        log(f"reconcile: {signal.Signals(signum).name} received; stopping after this round")
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _round(
    client: HpcPackClient,
    cluster: str,
    manifests: tuple[Path, ...],
    overrides: dict[str, str],
    selection: dict[str, object],
    options: ApplyOptions,
) -> ExitCode:
    """One round over every manifest; errors are logged, never fatal to the loop."""
    codes: list[ExitCode] = []
    try:
        stacks = load_stacks(manifests, overrides)
    except HpcspecError as error:
        log(f"error: {neutralise(error.render())}")
        ci.annotate(error)
        return ExitCode.ERROR
    for stack in stacks:
        try:
            journal = Journal(stack.stack)
            for job_id in recover(client, stack, journal, via=options.via):
                log(f"{stack.stack}: adopted job {job_id} from an interrupted apply")
            plan = plan_stack(client, stack, cluster_name=cluster, options=plan_options(selection))
            if not plan.has_changes and not plan.blocked:
                continue
            stamped = ApplyOptions(
                via=options.via,
                parallelism=options.parallelism,
                source=ci.provenance(stack.source, os.environ),
            )

            def report(result: JobResult, name: str = stack.stack) -> None:
                if result.outcome is Outcome.UNCHANGED:
                    return
                job = f" (job {result.job_id})" if result.job_id is not None else ""
                note = f": {neutralise(result.message)}" if result.message else ""
                log(
                    f"{neutralise(name)}/{neutralise(result.key)}{job}: "
                    f"{result.action.value} {result.outcome.value}{note}"
                )

            codes.append(
                apply_plan(client, stack, plan, journal, options=stamped, report=report).exit_code
            )
        except HpcspecError as error:
            log(f"error: {neutralise(stack.stack)}: {neutralise(error.render())}")
            codes.append(ExitCode.ERROR)
        except Exception as error:  # a service keeps going; the next round tries again
            log(
                f"error: {neutralise(stack.stack)}: internal error: {type(error).__name__}: "
                f"{neutralise(str(error))} [internal-error]"
            )
            codes.append(ExitCode.ERROR)
    if ExitCode.PARTIAL in codes or (ExitCode.ERROR in codes and ExitCode.OK in codes):
        return ExitCode.PARTIAL
    return ExitCode.ERROR if ExitCode.ERROR in codes else ExitCode.OK
