"""Where a task's stream files are and how they are read (engine/stream_files.py).

Paths are as the task's node sees them (msdocs/ischedulertask-output.md: Output keeps only
what was not redirected, so a redirected stream is only as readable as its file).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hpcspec.engine.stream_files import (
    MAX_SHOWN_BYTES,
    FilePlaces,
    PathMap,
    Stream,
    locate,
    read_from,
    read_tail,
)
from hpcspec.hpcpack.live import LiveTask
from hpcspec.hpcpack.states import TaskState

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX view of Windows paths")


def task(stdout: str = "", stderr: str = "", work: str = "") -> LiveTask:
    return LiveTask(1, "t", TaskState.Finished, stdout_path=stdout, stderr_path=stderr,
                    work_directory=work)  # fmt: skip


def test_a_task_without_redirection_has_no_stream_files() -> None:
    assert locate(task(), FilePlaces()) == ()


def test_relative_paths_are_under_the_work_directory(tmp_path: Path) -> None:
    files = locate(task("out.log", "err.log", str(tmp_path)), FilePlaces())
    assert [(f.streams, f.local) for f in files] == [
        ((Stream.STDOUT,), tmp_path / "out.log"),
        ((Stream.STDERR,), tmp_path / "err.log"),
    ]


def test_one_path_for_both_streams_is_one_file(tmp_path: Path) -> None:
    (only,) = locate(task("both.log", "both.log", str(tmp_path)), FilePlaces())
    assert only.label == "stdout+stderr" and only.local == tmp_path / "both.log"


def test_without_a_work_directory_the_default_one_is_used_when_known(tmp_path: Path) -> None:
    (known,) = locate(task("a.log"), FilePlaces(default_work_directory=str(tmp_path)))
    assert known.local == tmp_path / "a.log"
    (unknown,) = locate(task("a.log"), FilePlaces())
    assert unknown.local is None and "default working directory" in unknown.why_not


@posix_only
def test_a_windows_share_is_reached_through_a_path_map_in_any_case(tmp_path: Path) -> None:
    places = FilePlaces(maps=(PathMap.parse(f"\\\\FS\\Cfd={tmp_path}"),))
    (mapped,) = locate(task("case-007.log", work="\\\\fs\\cfd\\run 1"), places)
    assert mapped.path == "\\\\fs\\cfd\\run 1\\case-007.log"
    assert mapped.local == tmp_path / "run 1" / "case-007.log"
    (unmapped,) = locate(task("\\\\other\\share\\x.log"), places)
    assert unmapped.local is None
    assert "--path-map '\\\\other\\share=DIR'" in unmapped.why_not


@posix_only
def test_the_longest_matching_map_wins_and_a_drive_is_not_a_share(tmp_path: Path) -> None:
    places = FilePlaces(
        maps=(PathMap.parse("D:\\=/nowhere"), PathMap.parse(f"D:\\data={tmp_path}"))
    )
    (found,) = locate(task("D:\\data\\a\\b.log"), places)
    assert found.local == tmp_path / "a" / "b.log"
    (share,) = locate(task("\\\\D:\\data\\x"), places)  # a share named like a drive
    assert share.local is None


def test_a_path_map_needs_both_sides() -> None:
    for bad in ("nothing", "=/mnt", "\\\\fs\\x="):
        with pytest.raises(ValueError):
            PathMap.parse(bad)


def test_read_tail_returns_the_last_lines_with_or_without_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_text("1\n2\n3\n", encoding="utf-8")
    assert read_tail(path, 2).text == "2\n3\n"
    assert read_tail(path, None).text == "1\n2\n3\n"
    assert read_tail(path, 10).text == "1\n2\n3\n"
    assert read_tail(path, 0).text == ""
    path.write_text("1\n2\n3", encoding="utf-8")
    assert read_tail(path, 2).text == "2\n3"


def test_read_tail_shows_at_most_the_last_mib_and_says_what_it_skipped(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(b"x" * 100 + b"\n" + b"y" * MAX_SHOWN_BYTES)
    read = read_tail(path, None)
    assert read.skipped == 101 and read.text == "y" * MAX_SHOWN_BYTES
    assert read.size == 101 + MAX_SHOWN_BYTES


def test_read_tail_of_a_missing_file_says_so(tmp_path: Path) -> None:
    read = read_tail(tmp_path / "nope.log", 5)
    assert read.text == "" and read.missing == "not found (yet)"


def test_read_from_returns_what_was_appended_and_starts_over_when_rewritten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "grow.log"
    path.write_text("one\n", encoding="utf-8")
    first = read_tail(path, None)
    with path.open("a", encoding="utf-8") as stream:
        stream.write("two\n")
    grown = read_from(path, first.size)
    assert grown.text == "two\n" and grown.size == 8
    path.write_text("new\n", encoding="utf-8")
    assert read_from(path, grown.size).text == "new\n"
