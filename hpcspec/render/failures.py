"""Failed tasks explained for CI logs and step summaries: a capped tail of what each printed.

`excerpt` is what one failed task shows — its scheduler error, the last lines of its
`Output` and of each stream file hpcspec could read — at most EXCERPT_LINES lines per source
and EXCERPT_CHARS characters in all, so a task that printed megabytes still costs a few
lines. `failures_markdown` is the step-summary section; the CLI folds each excerpt in the
runner's own group markers (`cli/ci.fold_lines`). Pure; every string is neutralised.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from hpcspec.engine.logs import TaskLog
from hpcspec.render.logs import last_lines, outcome
from hpcspec.render.markdown import unlinked
from hpcspec.render.neutralise import neutralise

EXCERPT_LINES = 30  # per source: the Output, each stream file
EXCERPT_CHARS = 4096  # per task, all sources together (the end is kept)
MAX_TASKS = 10  # failed tasks explained in one run; the rest are counted


def title(log: TaskLog) -> str:
    """`stack/key: run[3] failed (Failed, exit code 4; job 12, task 12.1.3)`."""
    return (
        f"{neutralise(log.key)}: {neutralise(log.label)} failed "
        f"({outcome(log)}; job {log.job_id}, task {log.task_ref})"
    )


def excerpt(log: TaskLog) -> list[str]:
    """The capped tail of what a failed task printed, as neutralised lines."""
    lines: list[str] = []
    if log.task.error_message:
        lines.append(f"error: {log.task.error_message}")
    output = last_lines(log.task.output, EXCERPT_LINES)
    if output:
        lines += ["--- Output (last lines) ---", *output.splitlines()]
    texts = log.texts or (None,) * len(log.files)
    for stream, read in zip(log.files, texts, strict=True):
        if read is None or read.missing or not read.text:
            why = stream.why_not or (read.missing if read is not None else "") or "empty"
            lines.append(f"--- {stream.label} → {stream.path}: {why} ---")
            continue
        lines.append(f"--- {stream.label} → {stream.path} (last lines) ---")
        lines += last_lines(read.text, EXCERPT_LINES).splitlines()
    if not lines:
        lines.append("(the task printed nothing)")
    shown = neutralise("\n".join(lines), multiline=True)
    if len(shown) > EXCERPT_CHARS:
        shown = "…" + shown[-EXCERPT_CHARS:].split("\n", 1)[-1]
    return shown.splitlines()


def more_line(hidden: int, command: str) -> str:
    """What to run for the failed tasks not shown."""
    return f"{hidden} more failed task(s) not shown: {command}"


def failures_markdown(logs: Sequence[TaskLog], *, hidden: int, command: str) -> str:
    """The step-summary section: a folded block per failed task."""
    out = ["### hpcspec: failed tasks", ""]
    for log in logs:
        out += [
            f"<details><summary>{html.escape(unlinked(title(log)))}</summary>",
            "",
            "<pre>",
            *(html.escape(line) for line in excerpt(log)),
            "</pre>",
            "</details>",
            "",
        ]
    if hidden:
        out.append(html.escape(more_line(hidden, command)))
    out.append(f"All of it: <code>{html.escape(command)}</code>")
    return "\n".join(out) + "\n"
