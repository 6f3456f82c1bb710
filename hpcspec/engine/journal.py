"""The write-ahead journal: what apply meant to do and what happened, so a killed apply resumes.

One JSON line per `JournalEntry` in `journal.jsonl` of the stack's per-user state directory,
keyed by cluster and stack (`config.state.stack_state_dir`; created with the first entry), so
every working directory of a user shares it. The cluster itself is the source of truth:
every job is listable from its first moment (`identity.py`), so a lost journal (an
ephemeral CI runner) costs nothing that recovery cannot find by listing; the journal only
closes this user's own open creates and keeps their history.
An intent is written and fsynced before the request it announces (group commit: the
threads waiting at once share one fsync, and no lock is held across it); an outcome is
written (a killed process cannot lose it) and reaches the disk with the next fsync: losing
one to a power cut only makes the next apply look the job up again. A `CREATE_INTENT` carries
the per-attempt token; a `CREATE_RESULT` the job id (a REST create also records
`CREATE_STARTED` once the job exists and before it is complete). A create intent without a
result is "outcome unknown": the next apply looks the token up before it creates anything
(`recovery`). Secrets never enter it (only keys, tokens, digests, ids).
The file must be a regular file of its own: a symbolic link (planted to make apply append to
another file), a FIFO or a directory in its place is refused, as is a write or fsync that
fails (a full or failing disk): `JournalError`, naming the file, fails the step before its
request goes out (docs/apply.md, "The journal").
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from pathlib import Path

from hpcspec.config.state import make_private_dir, stack_state_dir, state_dir
from hpcspec.engine.steps import CreateMethod
from hpcspec.errors import HpcspecError, Location
from hpcspec.host import pid_alive

JOURNAL_FILE = "journal.jsonl"  # in the stack's per-user state directory


class JournalEvent(StrEnum):
    """What one journal line records (the value is the line's `event`)."""

    CREATE_INTENT = "create-intent"  # about to send a create with this token (fsynced first)
    CREATE_STARTED = "create-started"  # a REST create's job exists; its parts follow
    CREATE_ABSENT = "create-absent"  # the attempt made no job, or its job was cancelled
    CREATE_RESULT = "create-result"  # the attempt made this job, complete
    MARKED = "marked"  # the job carries its marker: discovery finds it from now on
    SUBMITTED = "submitted"


ANNOUNCES = frozenset({JournalEvent.CREATE_INTENT})  # fsynced before the request they announce
# Never through a symbolic link (where the OS has the flag); never blocking on a FIFO.
OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class JournalError(HpcspecError):
    """The journal cannot be read or written: what is wrong with the file, and where it is."""


def _journal_error(path: Path, doing: str, failure: OSError | str) -> JournalError:
    why = failure if isinstance(failure, str) else (failure.strerror or str(failure))
    return JournalError(
        f"cannot {doing} the journal: {why}",
        code="journal-unusable",
        hint="the journal must be a regular file in a directory you can write, on a disk with "
        "room (HPCSPEC_STATE_DIR moves it); what this run created is found again by listing: "
        "run apply again once it can write",
        location=Location(file=str(path)),
    )


def _regular(path: Path, fd: int, doing: str) -> int:
    """`fd`, once it is a regular file (else closed, and a `JournalError`)."""
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return fd
    os.close(fd)
    kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO, device or socket"
    raise _journal_error(path, doing, f"it is {kind}, not a regular file")


@dataclass(frozen=True)
class JournalEntry:
    """One line of the journal."""

    event: JournalEvent
    key: str
    token: str | None = None
    job_id: int | None = None
    digest: str | None = None
    via: CreateMethod | None = None
    note: str | None = None
    time: float = 0.0
    writer: str | None = None  # an intent's `host/pid`: whether its apply still runs


_FIELDS = tuple(f.name for f in fields(JournalEntry))


@dataclass(frozen=True)
class PendingCreate:
    """A create whose outcome the journal does not know, or whose job was never marked."""

    key: str
    token: str
    digest: str
    job_id: int | None = None  # known: created, but the ClientSource marker may be missing
    via: CreateMethod = CreateMethod.XML  # a job XML create needs the importer's leftovers
    complete: bool = True  # False: an intent with no result (a REST job may be half-built)
    writer: str | None = None  # the `host/pid` of the apply that wrote the intent

    def in_flight(self) -> bool:
        """Whether another apply that is still running (or may be: one on another host of a
        shared home directory) wrote this create's intent: it may still be building the job,
        so an apply without the stack lock must leave it alone. One of this process (a
        reconcile loop's earlier round) or of a process that is gone is not in flight."""
        host, _, pid = (self.writer or "").rpartition("/")
        if not host or not pid.isdigit() or (int(pid) == os.getpid() and host == HOST):
            return False
        return host != HOST or pid_alive(int(pid))


HOST = socket.gethostname()


def stack_journal(state_key: str, stack: str, root: Path | None = None) -> Journal:
    """The journal of `stack` on the cluster `state_key` names (`ClusterConfig.state_key`):
    in the stack's per-user state directory, or `<root>/<stack>.jsonl` when `root` is given
    (tests)."""
    if root is not None:
        return Journal(root / f"{stack}.jsonl")
    return Journal(
        stack_state_dir(state_key, stack) / JOURNAL_FILE, state_root=state_dir(os.environ)
    )


class Journal:
    """Append-only, one file per stack and cluster; safe to share between apply's worker
    threads."""

    def __init__(self, path: Path, *, state_root: Path | None = None) -> None:
        self.path = path
        # Where the directories it makes again (removed while apply ran) start: each is made
        # private and checked as the first time (`make_private_dir`); else only its own.
        self.state_root: Path = (
            state_root if state_root is not None and state_root in path.parents else path.parent
        )
        self._lock = threading.Lock()  # held to write a line, never across an fsync
        self._whole = False  # the file is known to end with a whole line
        self._written = 0  # lines written by this Journal
        self._synced = 0  # of those, the first `_synced` are known to be on disk
        self._syncing = False  # a thread is in fsync for them
        self._synced_cond = threading.Condition()
        # A failed fsync: what it covered may be lost, and a later fsync may not say so (the
        # kernel clears the error once reported), so no line counts as on disk from then on.
        self._sync_failed: OSError | None = None

    def record(
        self,
        event: JournalEvent,
        key: str,
        *,
        token: str | None = None,
        job_id: int | None = None,
        digest: str | None = None,
        via: CreateMethod | None = None,
        note: str | None = None,
    ) -> None:
        """Append one entry; an intent is on disk (fsynced) before this returns."""
        writer = f"{HOST}/{os.getpid()}" if event in ANNOUNCES else None
        entry = JournalEntry(
            event, key, token, job_id, digest, via, note, round(time.time(), 3), writer
        )
        # The entry's fields as `asdict` gives them (every value is a str, int, float or enum,
        # which it would copy as they are), without its deep copy.
        values = {f: getattr(entry, f) for f in _FIELDS}
        line = json.dumps({k: v for k, v in values.items() if v is not None}, sort_keys=True)
        fd = self._open()
        try:
            with self._lock:
                # A kill or a failed write may have torn the last line: start on a fresh one,
                # so the torn line is the only one lost.
                size = 0 if self._whole else os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = "\n" + line
                self._whole = False  # until the whole line is in
                data = (line + "\n").encode()
                while data:  # a short write (a disk filling up) goes on, or raises ENOSPC
                    data = data[os.write(fd, data) :]
                self._whole = True
                self._written += 1
                mine = self._written
            if event in ANNOUNCES:
                self._sync(fd, mine)
        except OSError as failure:
            raise _journal_error(self.path, f"write {event.value} of {key} to", failure) from None
        finally:
            os.close(fd)

    def _open(self) -> int:
        """The journal file, opened to append (its directory made first, if it is missing)."""
        try:
            try:
                fd = os.open(self.path, OPEN_FLAGS, 0o600)
            except FileNotFoundError:
                make_private_dir(self.path.parent, root=self.state_root)
                fd = os.open(self.path, OPEN_FLAGS, 0o600)
        except OSError as failure:
            raise _journal_error(self.path, "open", _link(self.path, failure)) from None
        return _regular(self.path, fd, "open")

    def _sync(self, fd: int, line: int) -> None:
        """Return once line number `line` is on disk. Group commit: one writer fsyncs for
        every line written so far while the others wait for it; no lock is held across the
        fsync, so writes of other threads go on meanwhile."""
        with self._synced_cond:
            while self._synced < line:
                if self._sync_failed is not None:
                    raise self._sync_failed
                if self._syncing:
                    self._synced_cond.wait()
                    continue
                self._syncing = True
                target = self._written  # every line written before the fsync starts
                self._synced_cond.release()
                try:
                    os.fsync(fd)
                except OSError as failure:
                    self._sync_failed = failure
                    raise
                finally:
                    self._synced_cond.acquire()
                    self._syncing = False
                    self._synced_cond.notify_all()
                self._synced = max(self._synced, target)

    def entries(self) -> list[JournalEntry]:
        """Every entry so far (a torn line from a kill, or an unknown or unreadable one, is
        skipped)."""
        try:
            fd = os.open(self.path, READ_FLAGS)
        except FileNotFoundError:
            return []
        except OSError as failure:
            raise _journal_error(self.path, "read", _link(self.path, failure)) from None
        with os.fdopen(_regular(self.path, fd, "read"), "rb") as journal:
            try:
                lines = journal.read().splitlines()
            except OSError as failure:
                raise _journal_error(self.path, "read", failure) from None
        out = []
        for line in lines:
            try:
                fields = json.loads(line.decode("utf-8"))
                if isinstance(fields, dict):
                    out.append(_entry(fields))
            except (ValueError, TypeError, KeyError):  # UnicodeDecodeError is a ValueError
                continue
        return out

    def pending_creates(self) -> list[PendingCreate]:
        """Creates with no result yet, and created jobs that were never marked."""
        intents: dict[str, JournalEntry] = {}
        created: dict[int, tuple[JournalEntry, JournalEntry | None]] = {}
        for entry in self.entries():
            token = entry.token
            match entry.event:
                case JournalEvent.CREATE_INTENT if token:
                    intents[token] = entry
                case JournalEvent.CREATE_STARTED if token and token in intents:
                    intents[token] = replace(intents[token], job_id=entry.job_id)
                case JournalEvent.CREATE_ABSENT if token:
                    intents.pop(token, None)
                case JournalEvent.CREATE_RESULT if token and entry.job_id is not None:
                    created[entry.job_id] = (entry, intents.pop(token, None))
                case JournalEvent.MARKED if entry.job_id is not None:
                    created.pop(entry.job_id, None)
        out = [
            PendingCreate(
                e.key, token, e.digest or "", e.job_id, e.via or CreateMethod.XML, False, e.writer
            )
            for token, e in intents.items()
        ]
        out += [
            PendingCreate(
                result.key,
                result.token or "",
                (intent.digest if intent else None) or "",
                job_id,
                (intent.via if intent else None) or CreateMethod.XML,
                writer=intent.writer if intent else None,
            )
            for job_id, (result, intent) in created.items()
        ]
        return out


def _link(path: Path, failure: OSError) -> OSError | str:
    """What an open's failure means: O_NOFOLLOW's ELOOP is a symbolic link in the file's place."""
    if path.is_symlink():
        return "it is a symbolic link, which hpcspec does not follow here"
    return failure


def _entry(fields: dict[str, object]) -> JournalEntry:
    job_id, via = fields.get("job_id"), fields.get("via")
    return JournalEntry(
        event=JournalEvent(str(fields["event"])),
        key=str(fields["key"]),
        token=_text(fields.get("token")),
        job_id=int(str(job_id)) if job_id is not None else None,
        digest=_text(fields.get("digest")),
        via=CreateMethod(str(via)) if via is not None else None,
        note=_text(fields.get("note")),
        time=float(str(fields.get("time", 0.0))),
        writer=_text(fields.get("writer")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
