"""`hpcspec logs MANIFEST|--stack S [KEY[/TASK]]`: what the tasks of a stack printed.

Stages: the target (`engine.logs.TaskTarget`) → one job listing and one task listing per
selected job (`collect_logs`) → stream files read where this machine reaches them → text or
JSON → with `--follow`, what is new every few seconds until the jobs end (`engine.logs.follow`).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from hpcspec.cli.context import open_client
from hpcspec.cli.options import cluster_options, output_option
from hpcspec.cli.variables import manifest_and_target, say_if_no_jobs, stack_target, var_options
from hpcspec.config import ClusterConfig, ClusterFlags, local_cluster_dir
from hpcspec.engine.logs import JobLogs, LogChunk, collect_logs, with_files
from hpcspec.engine.logs import follow as new_output
from hpcspec.engine.stream_files import FilePlaces, PathMap
from hpcspec.engine.task_target import TaskTarget
from hpcspec.errors import ExitCode, UsageError
from hpcspec.render.logs import render_chunk, render_logs_json, render_logs_text


@click.command()
@click.argument("arguments", nargs=-1, metavar="[MANIFEST] [KEY[/TASK]]")
@click.option("--stack", "stack_name", help="Name the stack instead of giving its manifest.")
@click.option("--failed", is_flag=True, help="Only tasks that failed.")
@click.option(
    "--tail",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Only the last N lines of each task's output and files.",
)
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing new output until the jobs have ended."
)
@click.option(
    "--path-map",
    "path_maps",
    multiple=True,
    metavar="CLUSTER_PATH=LOCAL_DIR",
    help="Read stream files under CLUSTER_PATH (e.g. \\\\fs\\share) from LOCAL_DIR (repeatable).",
)
@output_option(("text", "json"), "How to show the logs.")
@var_options
@cluster_options
def logs(
    arguments: tuple[str, ...],
    stack_name: str | None,
    failed: bool,
    tail: int | None,
    follow: bool,
    path_maps: tuple[str, ...],
    output: str,
    var_pairs: tuple[str, ...],
    var_files: tuple[Path, ...],
    cluster_flags: ClusterFlags,
) -> int:
    """Show what tasks printed: state, exit code, error, Output, and their stream files.

    KEY selects a job of the stack, KEY/TASK one task (a matrix task by its name, or all of a
    matrix by its key), KEY/TASK[N] the sweep instance whose * became N.
    """
    manifest, target_text = manifest_and_target(arguments, stack_name)
    if follow and output == "json":
        raise UsageError("--follow prints text as it comes; drop -o json", code="usage")
    maps = tuple(_path_map(text) for text in path_maps)
    target = TaskTarget.parse(target_text)
    stack, keys, resolved = stack_target(manifest, stack_name, var_pairs, var_files)
    adopted = resolved.adopted if resolved is not None else {}
    moved = resolved.moved if resolved is not None else {}
    client, config = open_client(cluster_flags)
    places = file_places(config, maps)
    try:

        def collect() -> list[JobLogs]:
            return collect_logs(
                client,
                stack,
                keys,
                target,
                failed_only=failed,
                places=places,
                adopted=adopted,
                moved=moved,
            )

        jobs = [_read(job, tail) for job in collect()]
        say_if_no_jobs(stack, len(jobs), by_name=resolved is None)
        if output == "json":
            click.echo(render_logs_json(stack, jobs, tail=tail), nl=False)
            return int(ExitCode.OK)
        click.echo(render_logs_text(jobs, tail=tail, failed_only=failed), nl=False)
        if follow:
            previous: LogChunk | None = None
            for chunk in new_output(collect, jobs):
                click.echo(render_chunk(chunk, previous), nl=False)
                previous = chunk
    finally:
        client.close()
    return int(ExitCode.OK)


def _path_map(text: str) -> PathMap:
    try:
        return PathMap.parse(text)
    except ValueError as bad:
        raise UsageError(f"--path-map {text!r}: {bad}", code="usage") from None


def file_places(config: ClusterConfig, maps: tuple[PathMap, ...] = ()) -> FilePlaces:
    """How this machine reaches the cluster's stream files. Where a task without a
    WorkDirectory runs is known for the embedded local cluster only (a Windows node runs it
    in the job owner's home, out of hpcspec's sight)."""
    if not config.is_local:
        return FilePlaces(None, maps)
    from hpcspec.emulator.local import work_directory

    return FilePlaces(str(work_directory(local_cluster_dir(os.environ))), maps)


def _read(job: JobLogs, tail: int | None) -> JobLogs:
    return JobLogs(job.key, job.job, tuple(with_files(log, tail) for log in job.tasks))
