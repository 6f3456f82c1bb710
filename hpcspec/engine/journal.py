"""The write-ahead journal: what apply meant to do and what happened, so a killed apply resumes.

One JSON line per event under `.hpcspec/journal/<stack>.jsonl`. An intent is written and
fsynced before the request it announces; an outcome is written (a killed process cannot lose
it) and reaches the disk with the next fsync: losing one to a power cut only makes the next
apply look the job up again. An `intent` to create carries the per-attempt token; a `result`
carries the job id (a REST create also records `create-started` once the job exists and
before it is complete). A create intent without a result is "outcome unknown": the next apply looks
the token up before it creates anything. Secrets never enter it (only keys, tokens, ids).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JOURNAL_DIR = Path(".hpcspec") / "journal"
ANNOUNCES = frozenset({"create-intent"})  # events fsynced before the request they announce


@dataclass(frozen=True)
class PendingCreate:
    """A create whose outcome the journal does not know, or whose job was never marked."""

    key: str
    token: str
    digest: str
    job_id: int | None = None  # known: created, but the ClientSource marker may be missing
    via: str = "xml"  # how it was created (a job XML create needs the importer's leftovers)
    complete: bool = True  # False: an intent with no result (a REST job may be half-built)


class Journal:
    """Append-only, one file per stack; safe to share between apply's worker threads."""

    def __init__(self, stack: str, root: Path = JOURNAL_DIR) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / f"{stack}.jsonl"
        self._lock = threading.Lock()
        self._whole = False  # the file is known to end with a whole line

    def record(self, event: str, key: str, **fields: Any) -> None:
        """Append one event; an intent is on disk (fsynced) before this returns."""
        line = json.dumps(
            {"time": round(time.time(), 3), "event": event, "key": key, **fields}, sort_keys=True
        )
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # A kill may have torn the last line: start on a fresh one, so the torn line
                # is the only one lost.
                size = 0 if self._whole else os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = "\n" + line
                self._whole = True
                os.write(fd, (line + "\n").encode())
                if event in ANNOUNCES:
                    os.fsync(fd)
            finally:
                os.close(fd)

    def events(self) -> list[dict[str, Any]]:
        """Every event so far (a torn last line from a kill is skipped)."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def pending_creates(self) -> list[PendingCreate]:
        """Creates with no result yet, and created jobs that were never marked."""
        intents: dict[str, dict[str, Any]] = {}
        created: dict[int, dict[str, Any]] = {}
        for event in self.events():
            token = event.get("token")
            kind = event["event"]
            if kind == "create-intent" and token:
                intents[token] = event
            elif kind == "create-started" and token and token in intents:
                intents[token] = {**intents[token], "job_id": int(event["job_id"])}
            elif kind == "create-absent" and token:
                intents.pop(token, None)
            elif kind == "create-result" and token:
                intent = intents.pop(token, {})
                created[int(event["job_id"])] = {
                    **event,
                    "digest": intent.get("digest", ""),
                    "via": intent.get("via", "xml"),
                }
            elif kind == "marked":
                created.pop(int(event["job_id"]), None)
        out = [
            PendingCreate(
                e["key"],
                e["token"],
                e.get("digest", ""),
                e.get("job_id"),
                e.get("via", "xml"),
                False,
            )
            for e in intents.values()
        ]
        out += [
            PendingCreate(e["key"], e["token"], e.get("digest", ""), job_id, e.get("via", "xml"))
            for job_id, e in created.items()
        ]
        return out
