"""Task logs → text (a `==> key/task <==` section per task, as `tail` prints several files)
and a versioned JSON document (pure).

Every string from the cluster or a task's files is neutralised (`neutralise.py`): a task
that prints `::add-mask::` or `##vso[…]` must not drive the CI runner that shows its log.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.engine.logs import JobLogs, LogChunk, TaskLog
from hpcspec.engine.planfile import dumps
from hpcspec.engine.stream_files import FileText, StreamFile
from hpcspec.render.neutralise import neutralise

LOGS_FORMAT_VERSION = "1.0"


def last_lines(text: str, count: int | None) -> str:
    """The last `count` lines of `text` (all with None)."""
    if count is None:
        return text
    if count == 0:
        return ""
    lines = text.splitlines(keepends=True)
    return "".join(lines[-count:])


def outcome(log: TaskLog) -> str:
    """`Finished, exit code 0`, `Failed, exit code 3`, `Running`."""
    state = log.task.state.name or "unknown"
    if log.task.state.is_terminal and log.task.exit_code is not None:
        return f"{state}, exit code {log.task.exit_code}"
    return state


def task_heading(log: TaskLog) -> str:
    """`hello/greet (job 12, task 12.1): Finished, exit code 0`."""
    return (
        f"{neutralise(log.key)}/{neutralise(log.label)} "
        f"(job {log.job_id}, task {log.task_ref}): {outcome(log)}"
    )


def _block(text: str) -> list[str]:
    shown = neutralise(text, multiline=True)
    return shown.splitlines() if shown else []


def _file_lines(stream: StreamFile, read: FileText | None) -> list[str]:
    where = f"--- {stream.label} → {neutralise(stream.path)}"
    if stream.local is None:
        return [f"{where}: not reachable from here ({neutralise(stream.why_not)}) ---"]
    if read is None or read.missing:
        why = read.missing if read is not None else "not read"
        return [f"{where}: {why} ---"]
    lines = [f"{where} ---" + (" (empty)" if read.size == 0 else "")]
    if read.skipped:
        lines.append(f"(the first {read.skipped} bytes are not shown)")
    return lines + _block(read.text)


def _task_lines(log: TaskLog, tail: int | None) -> list[str]:
    lines = [f"==> {task_heading(log)} <=="]
    if log.task.error_message:
        lines.append(f"error: {neutralise(log.task.error_message)}")
    output = last_lines(log.task.output, tail)
    if output:
        lines += _block(output)
    elif log.task.stdout_path and log.task.stderr_path:
        lines.append("(Output is empty: stdout and stderr both go to files)")
    elif not log.task.state.is_terminal:
        lines.append(f"(no output yet: {log.task.state.name})")
    elif not log.task.output:
        lines.append("(no output)")
    for stream, read in zip(log.files, log.texts or (None,) * len(log.files), strict=True):
        lines += _file_lines(stream, read)
    return lines


def render_logs_text(jobs: Sequence[JobLogs], *, tail: int | None, failed_only: bool) -> str:
    """A section per task; a line for a key with no live job or no (failed) tasks."""
    lines: list[str] = []
    for job in jobs:
        if job.job is None:
            lines.append(f"==> {neutralise(job.key)}: no live job <==")
            continue
        if not job.tasks:
            what = "no failed tasks" if failed_only else "no tasks"
            state = job.job.state.name
            lines.append(f"==> {neutralise(job.key)} (job {job.job.id}, {state}): {what} <==")
            continue
        for log in job.tasks:
            lines += _task_lines(log, tail)
    return "\n".join(lines) + "\n" if lines else ""


def render_chunk(chunk: LogChunk, previous: LogChunk | None) -> str:
    """One piece of `--follow` output, under a heading when its task or source changed."""
    log = chunk.log
    if chunk.source == "state":
        return f"==> {task_heading(log)} <==\n"
    same = previous is not None and (previous.log.ident, previous.source) == (
        log.ident,
        chunk.source,
    )
    text = neutralise(chunk.text, multiline=True)
    text = text if text.endswith("\n") else text + "\n"
    if same:
        return text
    head = f"==> {neutralise(log.key)}/{neutralise(log.label)} ({chunk.source}) <==\n"
    return head + text


def _file_document(stream: StreamFile, read: FileText | None) -> dict[str, object]:
    return {
        "streams": [s.value for s in stream.streams],
        "path": stream.path,
        "local_path": str(stream.local) if stream.local is not None else None,
        "reachable": stream.local is not None and read is not None and not read.missing,
        "why_not": stream.why_not or (read.missing if read is not None else ""),
        "text": read.text if read is not None else None,
        "skipped_bytes": read.skipped if read is not None else 0,
    }


def _task_document(log: TaskLog, tail: int | None) -> dict[str, object]:
    task = log.task
    texts = log.texts or (None,) * len(log.files)
    return {
        "label": log.label,
        "name": task.name,
        "task_id": log.task_ref,
        "instance_id": task.instance_id,
        "instance_value": task.instance_value,
        "state": task.state.name,
        "exit_code": task.exit_code,
        "error_message": task.error_message,
        "output": last_lines(task.output, tail),
        "files": [_file_document(f, t) for f, t in zip(log.files, texts, strict=True)],
    }


def logs_document(stack: str, jobs: Sequence[JobLogs], *, tail: int | None) -> dict[str, object]:
    """The `--output json` document: per key, its job and its selected tasks."""
    return {
        "format_version": LOGS_FORMAT_VERSION,
        "stack": stack,
        "jobs": [
            {
                "key": job.key,
                "job_id": job.job.id if job.job is not None else None,
                "state": job.job.state.name if job.job is not None else "absent",
                "tasks": [_task_document(log, tail) for log in job.tasks],
            }
            for job in jobs
        ],
    }


def render_logs_json(stack: str, jobs: Sequence[JobLogs], *, tail: int | None) -> str:
    """`logs_document` as inert JSON (safe to print in a CI log)."""
    return dumps(logs_document(stack, jobs, tail=tail))
