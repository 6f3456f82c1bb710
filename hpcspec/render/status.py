"""Status rows → text, markdown and JSON (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from hpcspec.engine.status import JobStatus
from hpcspec.hpcpack.values import format_duration
from hpcspec.render.markdown import literal
from hpcspec.render.neutralise import inert_json, neutralise

STATUS_FORMAT_VERSION = "1.0"
_ORDER = (
    "Finished",
    "Failed",
    "Canceled",
    "Running",
    "Dispatching",
    "Queued",
    "Submitted",
    "Validating",
    "Configuring",
)


def _tasks(row: JobStatus) -> str:
    if not row.total_tasks:
        return "-"
    parts = [f"{row.tasks[s]} {s.lower()}" for s in _ORDER if row.tasks.get(s)]
    return f"{', '.join(parts)} of {row.total_tasks}"


def _runtime(row: JobStatus) -> str:
    return format_duration(row.runtime_seconds) if row.runtime_seconds is not None else "-"


def render_status_text(stack: str, rows: Sequence[JobStatus]) -> str:
    """A table, one row per job key, then the failed tasks' exit codes and first lines."""
    header = ("KEY", "JOB", "STATE", "TASKS", "RUNTIME")
    table = [header] + [
        (neutralise(r.key), str(r.job_id or "-"), r.state, _tasks(r), _runtime(r)) for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [f"Stack {neutralise(stack)}:"]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    for row in rows:
        if row.source:
            lines.append(f"  {neutralise(row.key)}: applied from {neutralise(row.source)}")
        for task in row.failed:
            where = f"{task.task_id}" + (f".{task.instance_id}" if task.instance_id else "")
            lines.append(
                f"  {neutralise(row.key)}: task {neutralise(task.name)} ({where}) "
                f"failed, exit code {task.exit_code}"
            )
            lines += [f"      {neutralise(line)}" for line in task.output]
    return "\n".join(lines) + "\n"


def render_status_markdown(stack: str, rows: Sequence[JobStatus]) -> str:
    """A markdown table for CI job summaries (the cluster's words neutralised and escaped)."""
    out = [
        f"### hpcspec status: stack <code>{literal(stack)}</code>",
        "",
        "| Key | Job | State | Tasks | Runtime |",
        "| :-- | --: | :-- | :-- | --: |",
    ]
    out += [
        f"| {literal(r.key)} | {r.job_id or '-'} | {r.state} | {_tasks(r)} | {_runtime(r)} |"
        for r in rows
    ]
    failed = [(r, t) for r in rows for t in r.failed]
    if failed:
        out += ["", "<details><summary>Failed tasks</summary>", ""]
        for row, task in failed:
            out.append(f"- {literal(row.key)} / {literal(task.name)}: exit code {task.exit_code}")
            out += [f"  - <code>{literal(line)}</code>" for line in task.output]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def status_document(stack: str, rows: Sequence[JobStatus]) -> dict[str, object]:
    return {
        "format_version": STATUS_FORMAT_VERSION,
        "stack": stack,
        "jobs": [status_row(r) for r in rows],
    }


def status_row(row: JobStatus) -> dict[str, object]:
    """One job's row as JSON data (`status --output json`, and the wait's JSON events)."""
    return {
        "key": row.key,
        "job_id": row.job_id,
        "state": row.state,
        "tasks": dict(row.tasks),
        "total_tasks": row.total_tasks,
        "runtime_seconds": row.runtime_seconds,
        "requeue_count": row.requeue_count,
        "source": row.source,
        "failed_tasks": [
            {
                "name": t.name,
                "task_id": t.task_id,
                "instance_id": t.instance_id,
                "exit_code": t.exit_code,
                "output": list(t.output),
            }
            for t in row.failed
        ],
    }


def render_status_json(stack: str, rows: Sequence[JobStatus]) -> str:
    return inert_json(status_document(stack, rows)) + "\n"
