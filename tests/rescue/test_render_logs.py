"""Task logs rendered: sections, notes for redirected or missing output, and no CI command
or terminal escape from a task's output reaching the log (render/logs.py)."""

from __future__ import annotations

import json
from pathlib import Path

from hpcspec.engine.logs import JobLogs, LogChunk, TaskLog
from hpcspec.engine.stream_files import FileText, Stream, StreamFile
from hpcspec.hpcpack.live import LiveJob, LiveTask
from hpcspec.hpcpack.states import JobState, TaskState
from hpcspec.render.logs import last_lines, render_chunk, render_logs_json, render_logs_text

JOB = LiveJob(12, JobState.Failed)


def log(output: str = "", **task: object) -> TaskLog:
    values: dict[str, object] = {"state": TaskState.Failed, "exit_code": 2, **task}
    return TaskLog("k", 12, LiveTask(1, "t", output=output, **values))  # type: ignore[arg-type]


def test_a_task_section_has_its_outcome_error_and_output() -> None:
    text = render_logs_text(
        [JobLogs("k", JOB, (log("a\nb\n", error_message="Task failed"),))],
        tail=None,
        failed_only=False,
    )
    assert text == (
        "==> k/t (job 12, task 12.1): Failed, exit code 2 <==\nerror: Task failed\na\nb\n"
    )


def test_keys_without_a_job_or_without_failed_tasks_get_one_line() -> None:
    jobs = [JobLogs("gone", None), JobLogs("ok", LiveJob(3, JobState.Finished))]
    assert render_logs_text(jobs, tail=None, failed_only=True) == (
        "==> gone: no live job <==\n==> ok (job 3, Finished): no failed tasks <==\n"
    )


def test_redirected_and_unreachable_files_are_explained() -> None:
    files = (
        StreamFile((Stream.STDOUT,), "\\\\fs\\x\\o.log", None, "a Windows share; pass --path-map"),
        StreamFile((Stream.STDERR,), "/w/e.log", Path("/w/e.log")),
    )
    texts = (None, FileText("", 0, missing="not found (yet)"))
    task = log(stdout_path="o.log", stderr_path="e.log")
    text = render_logs_text(
        [JobLogs("k", JOB, (TaskLog("k", 12, task.task, files, texts),))],
        tail=None,
        failed_only=False,
    )
    assert "(Output is empty: stdout and stderr both go to files)" in text
    assert "--- stdout → \\\\fs\\x\\o.log: not reachable from here (a Windows share" in text
    assert "--- stderr → /w/e.log: not found (yet) ---" in text


def test_tail_keeps_the_last_lines() -> None:
    assert last_lines("1\n2\n3\n", 2) == "2\n3\n"
    assert last_lines("1\n2\n3", 1) == "3"
    assert last_lines("1\n2\n", 0) == "" and last_lines("x", None) == "x"


def test_a_tasks_output_cannot_drive_the_ci_runner_or_the_terminal() -> None:
    evil = "::add-mask::x\n##vso[task.setvariable variable=a]b\n\x1b]0;title\x07done\n"
    text = render_logs_text([JobLogs("k", JOB, (log(evil),))], tail=None, failed_only=False)
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert "##vso[" not in text and "\x1b" not in text and "done" in text
    document = render_logs_json("s", [JobLogs("k", JOB, (log(evil),))], tail=None)
    assert "##vso[" not in document and "\x1b" not in document
    assert json.loads(document)["jobs"][0]["tasks"][0]["output"] == evil  # data unchanged
    chunk = render_chunk(LogChunk(log(), "stdout", evil), None)
    assert "##vso[" not in chunk and not chunk.splitlines()[1].startswith("::")


def test_follow_chunks_get_a_heading_only_when_their_source_changes() -> None:
    first = LogChunk(log(), "stdout", "one\n")
    again = LogChunk(log(), "stdout", "two")
    assert render_chunk(first, None) == "==> k/t (stdout) <==\none\n"
    assert render_chunk(again, first) == "two\n"
    ended = LogChunk(log(), "state", "")
    assert render_chunk(ended, again) == "==> k/t (job 12, task 12.1): Failed, exit code 2 <==\n"
