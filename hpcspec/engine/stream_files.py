"""Where a task's stdout and stderr files are, and reading them when hpcspec can reach them.

A task's `StdOutFilePath`/`StdErrFilePath` are paths as its compute node sees them: absolute
(`C:\\out\\a.log`, `\\\\fs\\share\\a.log`, `/data/a.log`), or relative to the task's
`WorkDirectory`, else to the node's default working directory — the job owner's home on a
Windows node, which hpcspec cannot know; on the embedded local cluster it is the cluster's
`work/` directory (`docs/emulator.md`). HPC Pack keeps only the first 4 KB of the streams
that were *not* redirected in the task's `Output` (`msdocs/ischedulertask-output.md`), so a
redirected stream is only as readable as its file.

`locate` turns a task's paths into `StreamFile`s: the path on the node and, when this machine
can open it, the local path — the same path (a local or mounted absolute path), or one
rewritten by a `--path-map CLUSTER_PREFIX=LOCAL_DIR` (a share mounted elsewhere). `read_tail`
and `read_from` read them with bounded memory. `hpcspec logs` uses both (`engine/logs.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from hpcspec.hpcpack.live import LiveTask
from hpcspec.masking import mask

MAX_SHOWN_BYTES = 1024 * 1024  # a file is shown up to its last MiB (a note says what was cut)
_BLOCK = 64 * 1024


class Stream(Enum):
    """A standard stream a task can send to a file."""

    STDOUT = "stdout"
    STDERR = "stderr"


@dataclass(frozen=True)
class PathMap:
    """`--path-map CLUSTER_PREFIX=LOCAL_DIR`: a share the nodes write to, mounted here."""

    cluster_prefix: str
    local_dir: Path

    @classmethod
    def parse(cls, text: str) -> PathMap:
        """`\\\\fs\\cfd=/mnt/cfd` → PathMap; ValueError when there is no `=` or a side is empty."""
        prefix, sep, local = text.rpartition("=")
        if not sep or not prefix.strip() or not local.strip():
            raise ValueError("expected CLUSTER_PATH=LOCAL_DIR")
        return cls(prefix.strip(), Path(local.strip()).expanduser())


@dataclass(frozen=True)
class FilePlaces:
    """How paths on the cluster's nodes are reached from here."""

    default_work_directory: str | None = None  # known only for the embedded local cluster
    maps: tuple[PathMap, ...] = ()


@dataclass(frozen=True)
class StreamFile:
    """One file a task's stdout and/or stderr went to."""

    streams: tuple[Stream, ...]  # both when StdOutFilePath and StdErrFilePath are the same
    path: str  # as the task's node sees it (still relative when its base is unknown)
    local: Path | None  # where this machine can open it; None: it cannot
    why_not: str = ""  # why `local` is None, for the reader

    @property
    def label(self) -> str:
        """`stdout`, `stderr` or `stdout+stderr`."""
        return "+".join(s.value for s in self.streams)


def locate(task: LiveTask, places: FilePlaces) -> tuple[StreamFile, ...]:
    """The files `task`'s stdout and stderr went to (none when neither is redirected)."""
    wanted = [(Stream.STDOUT, task.stdout_path), (Stream.STDERR, task.stderr_path)]
    by_path: dict[str, list[Stream]] = {}
    for stream, path in wanted:
        if path:
            by_path.setdefault(path, []).append(stream)
    files = []
    for path, streams in by_path.items():
        base = task.work_directory or places.default_work_directory
        if _is_absolute(path):
            on_node = path
        elif base:
            on_node = _join(base, path)
        else:
            why = (
                "relative to the task's default working directory on its node, which hpcspec "
                "cannot see; set the task's workDirectory to a share"
            )
            files.append(StreamFile(tuple(streams), path, None, why))
            continue
        local, why = _reachable(on_node, places.maps)
        files.append(StreamFile(tuple(streams), on_node, local, why))
    return tuple(files)


def _windows(path: str) -> bool:
    return "\\" in path or PureWindowsPath(path).drive != ""


def _is_absolute(path: str) -> bool:
    return PureWindowsPath(path).is_absolute() if _windows(path) else path.startswith("/")


def _join(base: str, path: str) -> str:
    if _windows(base) or _windows(path):
        return str(PureWindowsPath(base) / PureWindowsPath(path))
    return str(PurePosixPath(base) / path)


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p]


def _matches(on_node: str, rule: PathMap) -> bool:
    """Whether `rule`'s prefix is a leading run of `on_node`'s parts (any case on Windows)."""
    prefix, parts = _parts(rule.cluster_prefix), _parts(on_node)
    if not prefix or _is_share(on_node) != _is_share(rule.cluster_prefix):
        return False
    head = parts[: len(prefix)]
    if _windows(on_node):
        return [p.lower() for p in head] == [p.lower() for p in prefix]
    return head == prefix


def _is_share(path: str) -> bool:
    return path.startswith(("\\\\", "//"))


def _reachable(on_node: str, maps: tuple[PathMap, ...]) -> tuple[Path | None, str]:
    """The local path of `on_node`, through the longest matching map or as it is."""
    matching = [rule for rule in maps if _matches(on_node, rule)]
    if matching:
        rule = max(matching, key=lambda r: len(_parts(r.cluster_prefix)))
        return rule.local_dir.joinpath(*_parts(on_node)[len(_parts(rule.cluster_prefix)) :]), ""
    if _windows(on_node) and os.name != "nt":
        what = "a Windows share" if _is_share(on_node) else "a path on a Windows node"
        return None, f"{what}; if it is mounted here, pass --path-map '{_example(on_node)}=DIR'"
    return Path(on_node), ""


def _example(on_node: str) -> str:
    parts = _parts(on_node)
    if _is_share(on_node):
        return "\\\\" + "\\".join(parts[:2])
    return parts[0] if parts else on_node


@dataclass(frozen=True)
class FileText:
    """What was read of a stream file."""

    text: str
    size: int  # the file's size when it was read (where following goes on from)
    skipped: int = 0  # bytes at the start not shown
    missing: str = ""  # why nothing could be read (the file is absent or unreadable)


def read_tail(path: Path, lines: int | None) -> FileText:
    """The last `lines` lines of a file (all of it with None), at most MAX_SHOWN_BYTES."""
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            if lines == 0:
                return FileText("", size)
            start = max(0, size - MAX_SHOWN_BYTES)
            if lines is not None:
                start = _start_of_last_lines(stream, size, lines, start)
            stream.seek(start)
            data = stream.read(size - start)
    except FileNotFoundError:
        return FileText("", 0, missing="not found (yet)")
    except OSError as error:
        return FileText("", 0, missing=f"cannot be read: {error.strerror or error}")
    return FileText(mask(data.decode("utf-8", errors="replace")), size, skipped=start)


def _start_of_last_lines(stream: BinaryIO, size: int, lines: int, floor: int) -> int:
    """Where the last `lines` lines start, reading backwards a block at a time."""
    position, newlines = size, 0
    end_trimmed = False
    while position > floor:
        block = min(_BLOCK, position - floor)
        position -= block
        stream.seek(position)
        data = stream.read(block)
        if not end_trimmed and position + block == size and data.endswith(b"\n"):
            data, end_trimmed = data[:-1], True  # a final newline ends a line, not starts one
        for index in range(len(data) - 1, -1, -1):
            if data[index] == 0x0A:
                newlines += 1
                if newlines == lines:
                    return position + index + 1
    return floor


def read_from(path: Path, offset: int) -> FileText:
    """What a file gained since `offset` (all of it again when it shrank: it was rewritten)."""
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            base = 0 if size < offset else offset
            start = max(base, size - MAX_SHOWN_BYTES)
            stream.seek(start)
            data = stream.read(size - start)
    except OSError:
        return FileText("", offset)
    return FileText(mask(data.decode("utf-8", errors="replace")), size, skipped=start - base)
