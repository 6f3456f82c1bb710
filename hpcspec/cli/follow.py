"""Following a stack's jobs to the end (`apply --wait`, `status --wait`).

One line per state change and a heartbeat every 30 s, which reads well in CI logs; on a
terminal, a `rich` progress bar per job (tasks ended of total) sits below those lines. Failed
jobs are requeued while their `retries` allow. Returns the verdict as
an exit code: 0 all finished, 5 a job failed or was cancelled, 6 timed out.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

import click

from hpcspec.engine.protocols import ClusterReader
from hpcspec.engine.status import JobStatus, Verdict, stack_status, wait_for
from hpcspec.errors import ExitCode
from hpcspec.manifest.resolve import ResolvedStack
from hpcspec.render import neutralise

if TYPE_CHECKING:
    from rich.progress import TaskID

POLL_SECONDS = 2.0  # how often the stack is read while waiting
HEARTBEAT_SECONDS = 30.0  # a line saying what is still running, when nothing changed


class Requeuer(ClusterReader, Protocol):
    """A reader that can also requeue jobs (the REST client)."""

    def requeue_job(self, job_id: int) -> None: ...


def follow(
    client: Requeuer,
    stacks: Sequence[ResolvedStack],
    *,
    timeout: float | None,
    interval: float | None = None,
) -> ExitCode:
    """Wait for every job of `stacks` to end; requeue per `retries`; return the verdict."""
    bars = _Bars() if sys.stdout.isatty() else None
    try:
        return _follow(client, stacks, timeout, interval, bars)
    finally:
        if bars is not None:
            bars.stop()


def _follow(
    client: Requeuer,
    stacks: Sequence[ResolvedStack],
    timeout: float | None,
    interval: float | None,
    bars: _Bars | None,
) -> ExitCode:
    retries = {(s.stack, k): j.retries for s in stacks for k, j in s.jobs.items()}
    echo = bars.echo if bars is not None else click.echo

    def poll() -> list[JobStatus]:
        rows: list[JobStatus] = []
        for stack in stacks:
            rows += [
                _keyed(stack.stack, r) for r in stack_status(client, stack.stack, list(stack.jobs))
            ]
        if bars is not None:
            bars.update(rows)
        return rows

    def requeue(row: JobStatus) -> bool:
        stack, _, key = row.key.partition("/")
        allowed = retries.get((stack, key), 0)
        if row.job_id is None or row.requeue_count >= allowed:
            return False
        client.requeue_job(row.job_id)
        echo(
            f"{row.key} (job {row.job_id}): Failed; requeued "
            f"({row.requeue_count + 1} of {allowed} retries)"
        )
        return True

    def changed(row: JobStatus, before: str | None) -> None:
        tasks = ", ".join(f"{n} {s.lower()}" for s, n in sorted(row.tasks.items()))
        line = f"{row.key} (job {row.job_id}): {before + ' → ' if before else ''}{row.state}"
        echo(line + (f" [{tasks}]" if tasks else ""))
        for task in row.failed:
            first = neutralise(task.output[0]) if task.output else ""
            echo(
                f"    task {neutralise(task.name)} failed, exit code {task.exit_code}"
                + (f": {first}" if first else "")
            )

    def heartbeat(rows: list[JobStatus]) -> None:
        active = [r for r in rows if not r.ended]
        echo(
            f"… still waiting for {len(active)} job(s): "
            + ", ".join(f"{r.key} {r.state}" for r in active)
        )

    verdict, rows = wait_for(
        poll,
        timeout=timeout,
        interval=POLL_SECONDS if interval is None else interval,
        requeue=requeue,
        on_change=changed,
        heartbeat=heartbeat,
        heartbeat_every=HEARTBEAT_SECONDS,
    )
    if verdict == Verdict.FINISHED:
        click.echo(f"All {len(rows)} job(s) finished.")
        return ExitCode.OK
    if verdict == Verdict.TIMED_OUT:
        click.echo("Timed out waiting for the jobs to end.", err=True)
        return ExitCode.TIMED_OUT
    bad = [r for r in rows if r.state in ("Failed", "Canceled")]
    click.echo(
        f"{len(bad)} job(s) did not finish: " + ", ".join(f"{r.key} {r.state}" for r in bad),
        err=True,
    )
    return ExitCode.JOBS_FAILED


class _Bars:
    """A progress bar per job on a terminal: tasks ended of total, and the job's state."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(highlight=False),
        )
        self.ids: dict[str, TaskID] = {}
        self.progress.start()

    def echo(self, text: str) -> None:
        self.progress.console.print(text, markup=False)

    def update(self, rows: Sequence[JobStatus]) -> None:
        for row in rows:
            ended = sum(n for s, n in row.tasks.items() if s in ("Finished", "Failed", "Canceled"))
            label = f"{neutralise(row.key)} {row.state}"
            if row.key not in self.ids:
                self.ids[row.key] = self.progress.add_task(label, total=row.total_tasks or 1)
            done = ended if row.total_tasks else int(row.ended)
            self.progress.update(self.ids[row.key], description=label, completed=done)

    def stop(self) -> None:
        self.progress.stop()


def _keyed(stack: str, row: JobStatus) -> JobStatus:
    return replace(row, key=f"{stack}/{row.key}")
