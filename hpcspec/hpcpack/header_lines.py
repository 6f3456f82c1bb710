"""An HTTP header block read line by line as `http.client.parse_headers` reads it.

Shared by both ends of the wire: the transport reads an answer's headers with it
(`connections.py`) and the emulator a request's (`emulator/wire.py`). Each then
builds the message from the lines without `email.parser` when every line is plain.
"""

from __future__ import annotations

import http.client
from typing import Protocol

MAX_LINE = 65536  # http.client's _MAXLINE
MAX_HEADERS = 100  # http.client's _MAXHEADERS


class _Lines(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def read_header_lines(fp: _Lines) -> list[bytes]:
    """The header lines up to and with the blank line that ends them (or the stream's end),
    with `http.client`'s limits and errors: a line of at most 64 KiB, at most 100 lines."""
    lines = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            return lines
