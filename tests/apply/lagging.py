"""Servers whose job listing lags their writes, for the tests that try apply on them.

The references say nothing of how soon `GET /jobs` shows a job its create answered
(docs/apply.md, "A listing behind its writes"). `LaggingListing` behaves like a read replica a
little behind the primary: a listing shows the jobs below the first one created less than
`lag` seconds ago, never a later one without an earlier one (`stall`: one that stopped a
while on the first job, then caught up). `LostCreateAnswers` loses the
answer to job XML creates, after the server made the job or before it saw the request.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

CREATES = ("/hpc/jobs", "/hpc/jobs/jobFile")
TASKS = re.compile(r"^/hpc/jobs/(\d+)/tasks$")
WsgiApp = Callable[..., Iterable[bytes]]


class LaggingListing:
    """WSGI middleware: `GET /hpc/jobs` lists a new job only `lag` seconds after its create
    (`stall`: the first job created through it, and so every later one, only `stall` seconds
    after — a replica that stopped a while, then caught up); a job's task listing
    (`GET /hpc/jobs/{id}/tasks`) lists a new task `lag` seconds after its add, the same way."""

    def __init__(self, app: WsgiApp, lag: float, *, stall: float | None = None) -> None:
        self.app, self.lag, self.stall = app, lag, stall
        self.born: dict[int, float] = {}  # job id → when its create answered
        self.tasks_born: dict[int, dict[int, float]] = {}  # job id → JobTaskId → when added
        self.listings = 0  # GET /hpc/jobs answered
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        answer: list[Any] = []
        body = b"".join(self.app(environ, lambda *a: answer.extend(a)))
        status, headers = answer[0], answer[1]
        tasks = TASKS.match(path)
        if status.startswith("200") and method == "POST" and path in CREATES:
            with self._lock:
                self.born[int(json.loads(body))] = time.monotonic()
        elif status.startswith("200") and method == "POST" and tasks:
            with self._lock:
                added = self.tasks_born.setdefault(int(tasks[1]), {})
                added[int(json.loads(body))] = time.monotonic()
        elif status.startswith("200") and method == "GET" and (path == "/hpc/jobs" or tasks):
            with self._lock:
                if tasks:
                    born, key, lag = self.tasks_born.get(int(tasks[1]), {}), "JobTaskId", None
                else:
                    born, key, lag = self.born, "Id", self.stall
                    self.listings += 1
                first = min(born, default=None)
                lags = {i: lag if i == first and lag else self.lag for i in born}
                now = time.monotonic()
                young = [i for i, at in born.items() if now - at < lags[i]]
            hidden = min(young, default=None)
            rows = [r for r in json.loads(body) if _shown(r, key, hidden)]
            body = json.dumps(rows).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start(status, headers)
        return [body]


def _shown(row: dict[str, Any], key: str, hidden: int | None) -> bool:
    """A row below the first one still hidden (rows without the key are all shown)."""
    ids = [int(p["Value"]) for p in row["Properties"] if p["Name"] == key]
    return hidden is None or not ids or ids[0] < hidden


class LostCreateAnswers:
    """WSGI middleware: the first `count` job XML creates (or requests `route` matches, e.g. a
    task add) get a 503 instead of their answer — `after` the server made the job (the answer
    lost on its way back), or before the server saw the request (nothing made). A 5xx to a
    POST is an unclear answer to the client."""

    def __init__(
        self,
        app: WsgiApp,
        count: int = 1,
        *,
        after: bool = True,
        route: re.Pattern[str] = re.compile(r"^/hpc/jobs/jobFile$"),
    ) -> None:
        self.app, self.left, self.after, self.route = app, count, after, route
        self.lost: list[bytes] = []  # the answers the client never saw
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        with self._lock:
            lose = method == "POST" and bool(self.route.match(path)) and self.left > 0
            self.left -= lose
        if not lose:
            return self.app(environ, start)
        if self.after:
            self.lost.append(b"".join(self.app(environ, lambda *a: None)))
        body = b'{"Code": -1, "Message": "Injected: the answer was lost."}'
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start("503 Service Unavailable", headers)
        return [body]
