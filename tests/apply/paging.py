"""A server whose job listing pages with other habits than the emulator's, for the tests that
try plan, apply, status and destroy on it.

The REST API 2016 says a continuation "enables large sets of data to be returned in smaller
responses" and nothing of what it shows while jobs come and go between its pages
(../shared/reference/hpcpack-rest-api-2016.md, "GET /jobs"). The emulator's continuation is a
seek past the last id shown, so it shows each job once whatever changes. `RePaged` pages
`GET /hpc/jobs` itself, `size` rows a page whatever `rowsPerRead` asks, as an offset cursor
over the live table (each page lists anew and slices; `size` 0: as many as `rowsPerRead`
asks), with one habit (from listing number `start` on: 1, the first listing it serves):

- `cycle`: after the last page, a continuation to the first page again, for ever;
- `shown_twice`: every page after the first starts with the row before it (the last row of
  the page before, as a cursor over a table that gained a row may show);
- `retention`: once the first page of listing number `retention` (1: the first listing) is
  served, its jobs are deleted (HPC Pack deletes old jobs after its retention period), so
  every later row moves up and the rows the next page would have started with are never
  shown;
- `drop`: a column left out of every row;
- `skip_page`: every continuation leaves out the page after the one it was given for;
- `shout`: `Name` and `ClientSource` upper-cased in every row (a collation or a proxy that
  changes case).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

WsgiApp = Callable[..., Iterable[bytes]]
HEADER = "x-ms-continuation-queryId"


class RePaged:
    """WSGI middleware paging `GET /hpc/jobs` by offset with one habit (module docstring)."""

    def __init__(
        self,
        app: WsgiApp,
        size: int = 2,
        *,
        cycle: bool = False,
        shown_twice: bool = False,
        retention: int = 0,
        drop: str = "",
        skip_page: bool = False,
        shout: bool = False,
        start: int = 1,
    ) -> None:
        self.app, self.size, self.cycle, self.drop = app, size, cycle, drop
        self.shown_twice, self.retention = shown_twice, retention
        self.skip_page, self.shout, self.start = skip_page, shout, start
        self.deleted: set[str] = set()  # ids the retention sweep removed
        self.pages = 0  # pages served
        self.listings = 0  # first pages served
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET" or environ["PATH_INFO"] != "/hpc/jobs":
            return self.app(environ, start)
        args = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        token = next((v for k, v in args if k.lower() == "queryid"), "")
        asked = next((v for k, v in args if k.lower() == "rowsperread"), "10")
        size = self.size or int(asked)
        kept = [(k, v) for k, v in args if k.lower() not in ("queryid", "rowsperread")]
        inner = dict(environ, QUERY_STRING=urlencode([*kept, ("rowsPerRead", "100000")]))
        answer: list[Any] = []
        body = b"".join(self.app(inner, lambda *a: answer.extend(a)))
        status, headers = answer[0], answer[1]
        if not status.startswith("200"):
            start(status, headers)
            return [body]
        with self._lock:
            self.listings += not token
            on = self.listings >= self.start
            rows = [r for r in json.loads(body) if _id(r) not in self.deleted]
            offset = int(token[1:]) if token else 0
            begin = offset - 1 if self.shown_twice and on and offset else offset
            page = rows[begin : offset + size]
            if self.listings == self.retention and not token:
                self.deleted.update(_id(r) for r in page)
            self.pages += 1
        after = offset + size * (2 if self.skip_page and on else 1)
        follow = f"p{after}" if after < len(rows) else ("p0" if self.cycle and on else "")
        for row in page:
            row["Properties"] = [_changed(p, self.shout and on) for p in row["Properties"]]
            row["Properties"] = [p for p in row["Properties"] if not on or p["Name"] != self.drop]
        data = json.dumps(page).encode()
        sent = [(k, v) for k, v in headers if k.lower() not in ("content-length", HEADER.lower())]
        sent.append(("Content-Length", str(len(data))))
        if follow:
            sent.append((HEADER, follow))
        start(status, sent)
        return [data]


def _id(row: dict[str, Any]) -> str:
    return next((str(p["Value"]) for p in row["Properties"] if p["Name"] == "Id"), "")


def _changed(value: dict[str, Any], shout: bool) -> dict[str, Any]:
    if shout and value["Name"] in ("Name", "ClientSource") and value["Value"]:
        return {**value, "Value": str(value["Value"]).upper()}
    return value
