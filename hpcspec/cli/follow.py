"""Following a stack's jobs to the end (`apply --wait`, `status --wait`).

One line per state change and a heartbeat every 30 s, which reads well both in a terminal
and in CI logs; Failed jobs are requeued while their `retries` allow. Returns the verdict as
an exit code: 0 all finished, 5 a job failed or was cancelled, 6 timed out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import click

from hpcspec.engine.discovery import JobReader
from hpcspec.engine.status import JobStatus, Verdict, stack_status, wait_for
from hpcspec.errors import ExitCode
from hpcspec.manifest.resolve import ResolvedStack
from hpcspec.render import neutralise

POLL_SECONDS = 2.0  # how often the stack is read while waiting
HEARTBEAT_SECONDS = 30.0  # a line saying what is still running, when nothing changed


class Requeuer(JobReader, Protocol):
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
    retries = {(s.stack, k): j.retries for s in stacks for k, j in s.jobs.items()}

    def poll() -> list[JobStatus]:
        rows: list[JobStatus] = []
        for stack in stacks:
            rows += [
                _keyed(stack.stack, r) for r in stack_status(client, stack.stack, list(stack.jobs))
            ]
        return rows

    def requeue(row: JobStatus) -> bool:
        stack, _, key = row.key.partition("/")
        allowed = retries.get((stack, key), 0)
        if row.job_id is None or row.requeue_count >= allowed:
            return False
        client.requeue_job(row.job_id)
        click.echo(
            f"{row.key} (job {row.job_id}): Failed; requeued "
            f"({row.requeue_count + 1} of {allowed} retries)"
        )
        return True

    def changed(row: JobStatus, before: str | None) -> None:
        tasks = ", ".join(f"{n} {s.lower()}" for s, n in sorted(row.tasks.items()))
        line = f"{row.key} (job {row.job_id}): {before + ' → ' if before else ''}{row.state}"
        click.echo(line + (f" [{tasks}]" if tasks else ""))
        for task in row.failed:
            first = neutralise(task.output[0]) if task.output else ""
            click.echo(
                f"    task {neutralise(task.name)} failed, exit code {task.exit_code}"
                + (f": {first}" if first else "")
            )

    def heartbeat(rows: list[JobStatus]) -> None:
        active = [r for r in rows if not r.ended]
        click.echo(
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


def _keyed(stack: str, row: JobStatus) -> JobStatus:
    return replace(row, key=f"{stack}/{row.key}")
