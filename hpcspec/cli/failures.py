"""In CI, failures explain themselves: what each failed task printed, folded in the log and
in the step summary, after `status` and after `--wait` (of `apply` and `status`).

Outside CI nothing is added (`status` already lists the failed tasks, and `hpcspec logs`
shows the rest). In CI, each Failed job costs one more task listing (its Failed tasks, with
their Output and stream files, `engine.logs.failed_task_logs`); at most MAX_TASKS tasks are
shown, each as a capped tail (`render/failures.py`) inside the runner's own collapsible group
(`ci.fold_lines`), and the same blocks go to GitHub's step summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import click

from hpcspec.cli import ci
from hpcspec.engine.events import Event, Observer, WaitEnded
from hpcspec.engine.logs import LogReader, failed_task_logs
from hpcspec.engine.status import JobStatus
from hpcspec.engine.stream_files import FilePlaces
from hpcspec.render.failures import (
    EXCERPT_LINES,
    MAX_TASKS,
    excerpt,
    failures_markdown,
    more_line,
    title,
)


def explain_failures(
    reader: LogReader,
    rows: Sequence[JobStatus],
    *,
    stacks: Sequence[str],
    places: FilePlaces | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Print, in CI, a folded tail of each failed task of the rows' Failed jobs."""
    system = ci.ci_system(env)
    if system is ci.CiSystem.NONE:
        return
    failed = [(r.key, r.job_id) for r in rows if r.job_id is not None and r.state == "Failed"]
    if not failed:
        return
    logs = failed_task_logs(reader, failed, places=places, tail=EXCERPT_LINES)
    shown, hidden = logs[:MAX_TASKS], max(0, len(logs) - MAX_TASKS)
    command = "; ".join(f"hpcspec logs --stack {s} --failed" for s in stacks)
    for number, log in enumerate(shown, 1):
        section = f"hpcspec_failed_task_{number}"
        for line in ci.fold_lines(title(log), excerpt(log), system, section=section):
            click.echo(line, color=True)  # keeps GitLab's escape-sequence markers off a TTY
    if hidden:
        click.echo(more_line(hidden, command))
    ci.append_step_summary(failures_markdown(shown, hidden=hidden, command=command), env)


class ExplainingObserver:
    """Passes every event on to `inner`; when a wait ends, explains its failed tasks."""

    def __init__(
        self,
        inner: Observer,
        reader: LogReader,
        *,
        stacks: Sequence[str],
        places: FilePlaces | None = None,
    ) -> None:
        self.inner, self.reader, self.stacks, self.places = inner, reader, stacks, places

    def notify(self, event: Event) -> None:
        self.inner.notify(event)
        if isinstance(event, WaitEnded):
            explain_failures(self.reader, event.rows, stacks=self.stacks, places=self.places)
