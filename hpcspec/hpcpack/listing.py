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
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.codec import BodyShapeError, PropertyMap, decode_objects
from hpcspec.hpcpack.transport import Transport

log = logging.getLogger("hpcspec.hpcpack.listing")

CONTINUATION_HEADER = "x-ms-continuation-queryId"
MAX_EMPTY_PAGES = 3  # a server that keeps answering "more" with no rows is not followed forever


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


def iter_rows(
    transport: Transport,
    path: str,
    params: Mapping[str, str | None],
    *,
    key: str,
    max_restarts: int = 2,
) -> Iterator[PropertyMap]:
    """Every row of a paged listing, fetched one page at a time as the caller iterates."""
    query = {k: v for k, v in params.items() if v is not None}
    seen: set[str] = set()
    restarts = 0
    while True:
        query_id: str | None = None
        try:
            empty_pages = 0
            before: list[str] = []  # the previous page's keys
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
                keys = [row.text(key) for row in rows]
                if query_id and keys and keys == before:
                    raise errors.BadResponse(
                        f"GET {path}: the page for queryId {query_id!r} repeats the page before "
                        f"it: the server does not honour {CONTINUATION_HEADER}",
                        method="GET",
                        path=path,
                        status=reply.status,
                    )
                before = keys
                for row, identity in zip(rows, keys, strict=True):
                    if identity and identity in seen:
                        continue
                    if identity:
                        seen.add(identity)
                    yield row
                query_id = reply.header(CONTINUATION_HEADER)
                empty_pages = 0 if rows else empty_pages + 1
                if not query_id or empty_pages >= MAX_EMPTY_PAGES:
                    return
        except errors.ApiError as failure:
            if query_id is None or restarts >= max_restarts:
                raise
            restarts += 1
            log.warning("%s: a page failed (%s); listing again from the top", path, failure.code)
