"""Lazy, paged listings (`GET /jobs`, `/jobs/{id}/tasks`, `/nodes`) over the transport.

HPC Pack pages with `rowsPerRead` and the `x-ms-continuation-queryId` response header: while
the header is present, more rows remain and its value goes back as `queryId`
(`research/hpcpack-ground-truth.md` §1.3; header names are case-insensitive). A continuation
token is only good for the sequence it came from (and expires after 60 minutes), so when a
page after the first fails the listing starts again from the top with no queryId — never
reusing the one that failed — at most `max_restarts` times. A continuation page that repeats
the page before it (a server that ignores `queryId` but keeps saying "more") is such a
failure, not a page to follow forever. Rows already yielded are skipped after a restart by
their key (`Id`, `TaskId`, `Name`), which the listing always requests.

The references do not say what a continuation shows when rows change between its pages, so
every promise resting on "each job once" checks what one pass of a listing can see
(`PassCheck`, docs/cluster-check.md "Listings"): a row without its key, a key shown twice, a
job listing in its documented default order (ascending `Id`) going back, or pages that keep
saying "more" without rows. Each is an anomaly: the listing starts again from the top (a
continuation page's, at most `max_restarts` times), then the error stands, naming the
request — the listing never ends early and never follows a loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.codec import BodyShapeError, PropertyMap, decode_objects
from hpcspec.hpcpack.transport import Transport

log = logging.getLogger("hpcspec.hpcpack.listing")

CONTINUATION_HEADER = "x-ms-continuation-queryId"
MAX_EMPTY_PAGES = 3  # pages in a row saying "more" with no rows: an anomaly, never the end
# A numeric key as a proxy or server may spell it ("7", "007", " 7"); `int` alone would also
# take "7_0" (70), "+7" and other scripts' digits.
_WHOLE_NUMBER = re.compile(r"\s*0*([0-9]+)\s*")


def filter_expression(terms: Iterable[tuple[str, str]]) -> str | None:
    """`$filter` text: `Name eq Value` terms joined by ` and ` (None when there are none)."""
    parts = [f"{name} eq {value}" for name, value in terms]
    return " and ".join(parts) or None


def with_key(properties: Sequence[str] | None, key: str) -> str | None:
    """The `properties=` value, with the listing's key added when a list is given."""
    if properties is None:
        return None
    names = list(properties)
    if key.lower() not in (n.lower() for n in names):
        names.append(key)
    return ",".join(names)


class PassCheck:
    """What one pass over a listing must show: each row's key, no key twice, and (`ordered`:
    numeric keys in the server's documented default order) keys that only go up. A `numeric`
    key (a job's Id; `ordered` implies it) is compared as the number it spells."""

    def __init__(self, path: str, key: str, *, ordered: bool, numeric: bool = False) -> None:
        self.path, self.key, self.ordered = path, key, ordered
        self.numeric = numeric or ordered
        self.keys: set[str] = set()
        self.last = -1
        self.page = 0
        self.query_id: str | None = None
        self.empty_pages = 0

    def next_page(self, query_id: str | None, rows: int) -> None:
        """A page of `rows` rows arrived for `query_id` (None: the first page)."""
        self.page, self.query_id = self.page + 1, query_id
        self.empty_pages = 0 if rows else self.empty_pages + 1

    def row(self, identity: str | None) -> str:
        """One row's key (None: the row has no such column), as the pass compares it."""
        if not identity:
            raise self.anomaly(f"a row without {self.key}")
        if self.numeric:
            whole = _WHOLE_NUMBER.fullmatch(identity)
            if whole is None:
                raise self.anomaly(f"{self.key} {identity!r} is not a whole number")
            identity = str(int(whole[1]))
        if identity in self.keys:
            raise self.anomaly(f"{self.key} {identity} again: the listing repeats rows")
        self.keys.add(identity)
        if self.ordered:
            number = int(identity)
            if number <= self.last:
                raise self.anomaly(
                    f"{self.key} {identity} after {self.key} {self.last}: the rows go back "
                    f"(documented order: ascending {self.key})"
                )
            self.last = number
        return identity

    def more(self, header: str | None) -> bool:
        """Whether to ask for another page (`header`: this page's continuation)."""
        if header and self.empty_pages >= MAX_EMPTY_PAGES:
            raise self.anomaly(
                f"{self.empty_pages} pages in a row without rows while {CONTINUATION_HEADER} "
                "says more remain"
            )
        return bool(header)

    def anomaly(self, what: str) -> errors.BadResponse:
        """The error naming the request, the page and what it showed."""
        where = f"page {self.page}" + (f" (queryId {self.query_id!r})" if self.query_id else "")
        return errors.BadResponse(
            f"GET {self.path}: {where}: {what}; a listing that may not show each row once is "
            "not concluded from",
            method="GET",
            path=self.path,
            hint="list again later; if it persists, run `hpcspec cluster check` and report "
            "its trace (docs/cluster-check.md, Listings)",
        )


def iter_rows(
    transport: Transport,
    path: str,
    params: Mapping[str, str | None],
    *,
    key: str,
    ordered: bool = False,
    numeric: bool = False,
    max_restarts: int = 2,
) -> Iterator[PropertyMap]:
    """Every row of a paged listing, fetched one page at a time as the caller iterates; each
    pass is held to `PassCheck` (`ordered`: keys ascend, the server's default order;
    `numeric`: keys are whole numbers, "7" and "007" the same row)."""
    query = {k: v for k, v in params.items() if v is not None}
    seen: set[str] = set()
    restarts = 0
    while True:
        query_id: str | None = None
        check = PassCheck(path, key, ordered=ordered, numeric=numeric)
        try:
            while True:
                page = dict(query) | ({"queryId": query_id} if query_id else {})
                # A continuation page is not retried with its (maybe stale) queryId: the
                # listing restarts instead.
                reply = transport.request("GET", path, params=page, retry=query_id is None)
                try:
                    rows = decode_objects(reply.body)
                except BodyShapeError as bad:
                    raise errors.BadResponse(
                        f"GET {path}: {bad}", method="GET", path=path, status=reply.status
                    ) from None
                check.next_page(query_id, len(rows))
                for row in rows:
                    identity = check.row(row.get(key))
                    if identity in seen:
                        continue  # yielded before a restart
                    seen.add(identity)
                    yield row
                query_id = reply.header(CONTINUATION_HEADER)
                if not check.more(query_id):
                    return
        except errors.ApiError as failure:
            if query_id is None or restarts >= max_restarts:
                raise
            restarts += 1
            log.warning("%s: a page failed (%s); listing again from the top", path, failure.code)
