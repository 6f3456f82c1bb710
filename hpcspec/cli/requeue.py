"""`hpcspec requeue MANIFEST|--stack S KEY [--failed-only] [--wait]`: run failed work again in
place.

The plan (one change: `requeue (job 7, Failed)`, or `requeue (failed tasks only: 3 of 120)`)
is printed, then carried out by the executor without a question: a requeue runs again only
what did not finish and discards nothing (docs/logs-and-rescue.md). `--wait` then follows the
job until it ends (exit 0 Finished, 5 Failed or Canceled, 6 timed out) and, in CI, folds a
tail of each failed task's output into the log.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from hpcspec.cli.context import open_client
from hpcspec.cli.event_stream import JsonLinesView, event_output
from hpcspec.cli.exit_codes import exit_code
from hpcspec.cli.failures import ExplainingObserver
from hpcspec.cli.logs import file_places
from hpcspec.cli.options import cluster_options, wait_timeout
from hpcspec.cli.variables import manifest_and_target, stack_target, var_options
from hpcspec.cli.views import RescueView
from hpcspec.config import ClusterFlags
from hpcspec.engine.outcomes import ApplyVerdict
from hpcspec.engine.rescue_plan import plan_requeue, run_rescue
from hpcspec.engine.status import JobStatus, stack_status
from hpcspec.engine.task_target import TaskTarget
from hpcspec.engine.wait import wait_for
from hpcspec.errors import UsageError
from hpcspec.render import use_color


@click.command()
@click.argument("arguments", nargs=-1, metavar="[MANIFEST] KEY")
@click.option("--stack", "stack_name", help="Name the stack instead of giving its manifest.")
@click.option(
    "--failed-only",
    is_flag=True,
    help="Run only the failed and canceled tasks again (also in a job that is still running).",
)
@click.option("--wait", is_flag=True, help="Then wait until the job has ended (exit 0/5/6).")
@click.option("--timeout", default=None, metavar="DURATION", help="With --wait: give up after.")
@event_output("requeue")
@var_options
@cluster_options
def requeue(
    arguments: tuple[str, ...],
    stack_name: str | None,
    failed_only: bool,
    wait: bool,
    timeout: str | None,
    stream: JsonLinesView | None,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Run a Failed or Canceled job again in place (--failed-only: only its failed tasks).

    Without --failed-only, HPC Pack's job requeue: Finished tasks stay Finished, tasks
    canceled before they ran stay Canceled, the others run again. With it, exactly the
    Failed and Canceled tasks run again, and a job still running gets them back in place.
    """
    manifest, target_text = manifest_and_target(arguments, stack_name, needs_target=True)
    target = TaskTarget.parse(target_text)
    if target.key is None or target.task is not None:
        raise UsageError(
            f"{target_text!r}: requeue takes a job KEY", code="usage", hint="--failed-only"
        )
    key = target.key
    seconds = wait_timeout(wait, timeout)
    stack, keys, resolved = stack_target(manifest, stack_name, var_pairs, var_files)
    adopted = resolved.adopted if resolved is not None else {}
    moved = resolved.moved if resolved is not None else {}
    client, config = open_client(cluster_flags)
    view = stream or RescueView(
        color=use_color(sys.stdout, dict(os.environ)), nothing="Nothing to requeue."
    )
    try:
        cluster = str(config.url.value)
        plan = plan_requeue(
            client,
            stack,
            keys,
            key,
            failed_only=failed_only,
            cluster=cluster,
            adopted=adopted,
            moved=moved,
        )
        report = run_rescue(
            client,
            plan,
            observer=view,
            confirm=lambda _: True,
            state_key=config.state_key,
            keys=keys,
            adopted=adopted,
            moved=moved,
        )
        if not wait or report.verdict is not ApplyVerdict.APPLIED:
            return exit_code(report.verdict)

        def poll() -> list[JobStatus]:
            rows = stack_status(client, stack, keys or [key], adopted=adopted, moved=moved)
            return [replace(r, key=f"{stack}/{key}") for r in rows if r.key == key]

        places = file_places(config)
        observer = stream or ExplainingObserver(view, client, stacks=[stack], places=places)
        return exit_code(wait_for(poll, timeout=seconds, observer=observer).verdict)
    finally:
        view.close()
        client.close()
