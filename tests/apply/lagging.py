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
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

CREATES = ("/hpc/jobs", "/hpc/jobs/jobFile")
WsgiApp = Callable[..., Iterable[bytes]]


class LaggingListing:
    """WSGI middleware: `GET /hpc/jobs` lists a new job only `lag` seconds after its create
    (`stall`: the first job created through it, and so every later one, only `stall` seconds
    after — a replica that stopped a while, then caught up)."""

    def __init__(self, app: WsgiApp, lag: float, *, stall: float | None = None) -> None:
        self.app, self.lag, self.stall = app, lag, stall
        self.born: dict[int, float] = {}
        self.listings = 0  # GET /hpc/jobs answered
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        answer: list[Any] = []
        body = b"".join(self.app(environ, lambda *a: answer.extend(a)))
        status, headers = answer[0], answer[1]
        if status.startswith("200") and route[0] == "POST" and route[1] in CREATES:
            with self._lock:
                self.born[int(json.loads(body))] = time.monotonic()
        elif status.startswith("200") and route == ("GET", "/hpc/jobs"):
            body = json.dumps([r for r in json.loads(body) if self._listed(r)]).encode()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
            with self._lock:
                self.listings += 1
        start(status, headers)
        return [body]

    def _listed(self, row: dict[str, Any]) -> bool:
        job_id = next(int(p["Value"]) for p in row["Properties"] if p["Name"] == "Id")
        now = time.monotonic()
        with self._lock:
            first = min(self.born, default=None)
            lags = {i: self.stall if i == first and self.stall else self.lag for i in self.born}
            young = [i for i, born in self.born.items() if now - born < lags[i]]
        return job_id < min(young, default=job_id + 1)


class LostCreateAnswers:
    """WSGI middleware: the first `count` job XML creates get a 503 instead of their answer —
    `after` the server made the job (the answer lost on its way back), or before the server
    saw the request (nothing made). A 5xx to a POST is an unclear answer to the client."""

    def __init__(self, app: WsgiApp, count: int = 1, *, after: bool = True) -> None:
        self.app, self.left, self.after = app, count, after
        self.lost: list[bytes] = []  # the answers the client never saw
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
        with self._lock:
            lose = route == ("POST", "/hpc/jobs/jobFile") and self.left > 0
            self.left -= lose
        if not lose:
            return self.app(environ, start)
        if self.after:
            self.lost.append(b"".join(self.app(environ, lambda *a: None)))
        body = b'{"Code": -1, "Message": "Injected: the answer was lost."}'
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start("503 Service Unavailable", headers)
        return [body]
