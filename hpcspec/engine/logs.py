"""Logs: what each selected task of a stack printed, and where its stream files went.

`hpcspec logs` in stages: `TaskTarget.parse` (`KEY`, `KEY/TASK`, `KEY/TASK[17]`) → one job
listing (`discovery.list_stack`; each key's current job is `choose_current`'s, as for status)
→ one task listing per selected job with only the columns logs shows (`task_logs`: state,
exit code, ErrorMessage, Output, stream file paths; sweeps expanded; `TaskState eq Failed`
on the server with `--failed`) → `TaskLog`s with their stream files located
(`stream_files.locate`) → `with_files` reads the files this machine can reach. `follow`
repeats the listings until every selected job has ended and yields only what is new.
Addressing is `task_target`'s (`KEY/TASK[17]` for a sweep instance, a matrix task by name).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from hpcspec.engine.discovery import choose_current, list_stack
from hpcspec.engine.protocols import ClusterReader
from hpcspec.engine.stream_files import (
    FilePlaces,
    FileText,
    StreamFile,
    locate,
    read_from,
    read_tail,
)
from hpcspec.engine.task_target import TaskTarget, check_key, no_such_task, task_label
from hpcspec.hpcpack.live import LiveJob, LiveTask

FOLLOW_SECONDS = 2.0  # how often --follow reads the listings again


class LogReader(ClusterReader, Protocol):
    """A reader that also lists tasks with their output and stream files (the REST client)."""

    def task_logs(self, job_id: int, *, failed_only: bool = False) -> list[LiveTask]: ...


@dataclass(frozen=True)
class TaskLog:
    """One task (or sweep instance) and what it printed."""

    key: str
    job_id: int
    task: LiveTask
    files: tuple[StreamFile, ...] = ()
    texts: tuple[FileText | None, ...] = ()  # per file, once read; None: not reachable

    @property
    def label(self) -> str:
        """`greet`, `post[mesh=fine;re=1e5]`, or `run[17]` for a sweep instance."""
        return task_label(self.task)

    @property
    def task_ref(self) -> str:
        """HPC Pack's TaskId: `job.task`, or `job.task.instance` for a sweep instance."""
        ref = f"{self.job_id}.{self.task.task_id}"
        return ref + (f".{self.task.instance_id}" if self.task.instance_id else "")

    @property
    def ident(self) -> tuple[int, int, int]:
        return (self.job_id, self.task.task_id, self.task.instance_id)


@dataclass(frozen=True)
class JobLogs:
    """One job key: its current job (None: no live job) and its selected tasks."""

    key: str
    job: LiveJob | None
    tasks: tuple[TaskLog, ...] = field(default=())


def collect_logs(
    reader: LogReader,
    stack: str,
    keys: Sequence[str],
    target: TaskTarget,
    *,
    failed_only: bool = False,
    places: FilePlaces | None = None,
    adopted: Mapping[str, int] | None = None,
    moved: Mapping[str, str] | None = None,
) -> list[JobLogs]:
    """The selected tasks of each selected key's current job (no file read yet); `adopted`
    and `moved`: the manifest's `adopt:` and `moved:` blocks."""
    places = places or FilePlaces()
    listed = list_stack(reader, stack, list(keys), adopted=adopted, moved=moved).by_key
    order = [*keys, *sorted(k for k in listed if k not in keys)]
    if target.key is not None:
        check_key(stack, target.key, order)
        order = [target.key]
    out = []
    for key in order:
        jobs = listed.get(key)
        if not jobs:
            out.append(JobLogs(key, None))
            continue
        job = choose_current(jobs)[0]
        tasks = reader.task_logs(job.id, failed_only=failed_only)
        chosen = [t for t in tasks if target.selects(t)]
        if target.task is not None and not chosen and not failed_only:
            no_such_task(key, job, target, tasks)
        logs = tuple(TaskLog(key, job.id, t, locate(t, places)) for t in chosen)
        out.append(JobLogs(key, job, logs))
    return out


def failed_task_logs(
    reader: LogReader,
    jobs: Sequence[tuple[str, int]],
    *,
    places: FilePlaces | None = None,
    tail: int | None = None,
) -> list[TaskLog]:
    """The Failed tasks of each `(label, job id)`, files read (their last `tail` lines): one
    task listing per job. What CI shows of the jobs `status` or `--wait` found Failed."""
    places = places or FilePlaces()
    out = []
    for label, job_id in jobs:
        for task in reader.task_logs(job_id, failed_only=True):
            out.append(with_files(TaskLog(label, job_id, task, locate(task, places)), tail))
    return out


def with_files(log: TaskLog, tail: int | None) -> TaskLog:
    """`log` with its reachable files read (their last `tail` lines; all with None)."""
    texts = tuple(None if f.local is None else read_tail(f.local, tail) for f in log.files)
    return replace(log, texts=texts)


@dataclass(frozen=True)
class LogChunk:
    """Something new while following: text a task printed, or its end."""

    log: TaskLog
    source: str  # "output", a StreamFile label, or "state" (the task ended)
    text: str


@dataclass
class _Seen:
    output: str = ""  # the Output shown so far
    offsets: dict[str, int] = field(default_factory=dict)  # file path on the node -> bytes read
    ended: bool = False


def follow(
    collect: Callable[[], list[JobLogs]],
    first: Sequence[JobLogs],
    *,
    interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LogChunk]:
    """What is new since `first` (already shown, files read), until every job has ended;
    the listings are read again every `interval` seconds (FOLLOW_SECONDS)."""
    every = FOLLOW_SECONDS if interval is None else interval
    seen = {log.ident: _seen_after(log) for job in first for log in job.tasks}
    jobs = first
    while not all(j.job is None or j.job.state.is_terminal for j in jobs):
        sleep(every)
        jobs = collect()
        for job in jobs:
            for log in job.tasks:
                yield from _news(log, seen.setdefault(log.ident, _Seen()))


def _seen_after(log: TaskLog) -> _Seen:
    offsets = {f.path: t.size for f, t in zip(log.files, log.texts, strict=False) if t}
    return _Seen(log.task.output, offsets, log.task.state.is_terminal)


def _news(log: TaskLog, seen: _Seen) -> Iterator[LogChunk]:
    output = log.task.output
    if output != seen.output:  # grown, or new after a requeue
        new = output[len(seen.output) :] if output.startswith(seen.output) else output
        if new:
            yield LogChunk(log, "output", new)
        seen.output = output
    for stream in log.files:
        if stream.local is None:
            continue
        grown = read_from(stream.local, seen.offsets.get(stream.path, 0))
        if grown.text:
            yield LogChunk(log, stream.label, grown.text)
        seen.offsets[stream.path] = grown.size
    if log.task.state.is_terminal and not seen.ended:
        seen.ended = True
        yield LogChunk(log, "state", "")
