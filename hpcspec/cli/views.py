"""The text views of a run: engine observers that print each event as it arrives.

`ApplyView` (apply), `DestroyView`, `RescueView` (requeue, cancel), `ReconcileView`
(timestamped log lines for a service) and `WaitView` (`--wait` of apply, status and requeue:
one line per state change and a heartbeat, which read well in CI logs; on a terminal, a
`rich` progress bar per job below those lines).
The words come from `hpcspec.render`; the views only choose the stream.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from hpcspec.cli import ci
from hpcspec.engine.events import (
    Applied,
    Event,
    JobApplied,
    JobRequeued,
    JobStateChanged,
    LockWaiting,
    Planned,
    Resumed,
    StackFailed,
    StillWaiting,
    WaitEnded,
    WaitPolled,
)
from hpcspec.engine.outcomes import Outcome
from hpcspec.engine.status import JobStatus
from hpcspec.render import neutralise, render_text
from hpcspec.render.apply import (
    apply_markdown,
    apply_summary,
    destroy_line,
    heartbeat_line,
    job_line,
    requeue_line,
    state_change_lines,
    wait_verdict_line,
)

if TYPE_CHECKING:
    from rich.progress import TaskID


class WaitView:
    """`--wait`: state changes, requeues, heartbeats and the verdict."""

    def __init__(self) -> None:
        self._bars: _Bars | None = None

    def echo(self, text: str) -> None:
        if self._bars is not None:
            self._bars.echo(text)
        else:
            click.echo(text)

    def close(self) -> None:
        """Take the progress bars off the terminal (also after an error)."""
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def notify(self, event: Event) -> None:
        match event:
            case WaitPolled(rows=rows):
                if self._bars is None and sys.stdout.isatty():
                    self._bars = _Bars()
                if self._bars is not None:
                    self._bars.update(rows)
            case JobStateChanged(row=row, before=before):
                for line in state_change_lines(row, before):
                    self.echo(line)
            case JobRequeued(row=row, attempt=attempt, allowed=allowed):
                self.echo(requeue_line(row, attempt, allowed))
            case StillWaiting(rows=rows):
                self.echo(heartbeat_line(rows))
            case WaitEnded(verdict=verdict, rows=rows):
                self.close()
                text, to_stderr = wait_verdict_line(verdict, rows)
                click.echo(text, err=to_stderr)


def resumed_text(event: Resumed) -> str:
    """What recovery did with the jobs an interrupted apply left pending."""
    parts = []
    if event.job_ids:
        parts.append(f"job(s) {', '.join(map(str, event.job_ids))} adopted")
    if event.cancelled:
        parts.append(f"incomplete job(s) {', '.join(map(str, event.cancelled))} cancelled")
    return f"resumed an interrupted apply of {neutralise(event.stack)}: " + "; ".join(parts)


def lock_waiting_text(event: LockWaiting) -> str:
    """Another apply holds the stack lock: who, and how long this one waits."""
    return (
        f"stack {neutralise(event.stack)} is locked by lock job {event.lock_id} "
        f"(owner {neutralise(event.owner) or 'unknown'}, {neutralise(event.holder)}); "
        f"waiting up to {event.timeout:g} s (--lock-timeout)"
    )


class ApplyView(WaitView):
    """`hpcspec apply`: the plans, each key's result, the summary, then the wait."""

    def __init__(self, *, color: bool) -> None:
        super().__init__()
        self.color = color

    def notify(self, event: Event) -> None:
        match event:
            case Resumed():
                click.echo(f"hpcspec: {resumed_text(event)}", err=True)
            case LockWaiting():
                click.echo(f"hpcspec: {lock_waiting_text(event)}", err=True)
            case Planned(plans=plans):
                with ci.group("hpcspec apply: the plan", ci.plan_lines(plans)):
                    for plan in plans:
                        click.echo(render_text(plan, color=self.color), nl=False)
            case JobApplied(result=result):
                line = job_line(result)
                if line is not None:
                    click.echo(line)
            case Applied(plans=plans, results=results):
                click.echo(apply_summary(plans, results))
                ci.append_step_summary(apply_markdown(plans, results))
            case _:
                super().notify(event)


class DestroyView:
    """`hpcspec destroy`: the plan, then one line per key cancelled (or not)."""

    def __init__(self, *, color: bool) -> None:
        self.color = color

    def notify(self, event: Event) -> None:
        match event:
            case Planned(plans=plans):
                for plan in plans:
                    click.echo(render_text(plan, color=self.color, verdict=False), nl=False)
                    if not plan.has_changes:
                        click.echo("Nothing to cancel.")
            case JobApplied(result=result):
                click.echo(destroy_line(result), err=result.outcome is not Outcome.DONE)
            case LockWaiting():
                click.echo(f"hpcspec: {lock_waiting_text(event)}", err=True)


class RescueView(WaitView):
    """`hpcspec requeue` and `hpcspec cancel`: the plan, a line per key, then `--wait`."""

    def __init__(self, *, color: bool, nothing: str) -> None:
        super().__init__()
        self.color, self.nothing = color, nothing

    def notify(self, event: Event) -> None:
        match event:
            case Planned(plans=plans):
                for plan in plans:
                    click.echo(render_text(plan, color=self.color, verdict=False), nl=False)
                    if not plan.has_changes:
                        click.echo(self.nothing)
            case JobApplied(result=result):
                line = job_line(result)
                if line is not None:
                    click.echo(line, err=result.outcome is not Outcome.DONE)
            case _:
                super().notify(event)


def log(message: str) -> None:
    """One line, timestamped, on stdout (flushed: services and CI read it live)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    click.echo(f"{stamp} {message}")


class ReconcileView:
    """`hpcspec reconcile`: a timestamped log line per action, adoption and failing stack."""

    def notify(self, event: Event) -> None:
        match event:
            case Resumed(stack=stack):
                log(f"{neutralise(stack)}: {resumed_text(event)}")
            case LockWaiting():
                log(lock_waiting_text(event))
            case JobApplied(stack=stack, result=result):
                line = job_line(result, prefix=f"{stack}/")
                if line is not None:
                    log(line)
            case StackFailed(stack=stack, message=message):
                log(f"error: {neutralise(stack)}: {neutralise(message)}")


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
