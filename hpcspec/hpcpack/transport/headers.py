"""An answer's status line and headers, read as `http.client` reads them, without `email.parser`.

`http.client` hands every answer's header block to `email.parser`, whose feed parser costs a
fifth of the client's CPU per request here. `header_message` makes the same `HTTPMessage`
directly when every line is a plain `Name: value` line (what servers send), and leaves every
other block (folded lines, a line that is not a header, a multipart or message content type,
a block cut short) to `email.parser` itself; a test holds the two equal. `Response` is
`http.client.HTTPResponse` with that one change: its `begin` is the standard library's (the
same in Python 3.11 to 3.13; a test compares the two on every kind of answer), but for the
header parse. The transport's connections (`session.py`) answer with it.
"""

from __future__ import annotations

import email.parser
import http.client
import re
from http import HTTPStatus
from typing import Any

from hpcspec.hpcpack.header_lines import read_header_lines

# A `Name: value` line as `email.feedparser` reads it: a name of printable characters but
# ":" and space (its `headerRE`), the value after spaces and tabs, no CR or LF inside.
_PLAIN = re.compile(rb"([\x21-\x39\x3b-\x7e]+):[ \t]*([^\r\n]*)\r?\n")
_PARSED_ELSEWHERE = re.compile(rb"multipart|message", re.IGNORECASE)


def header_message(lines: list[bytes]) -> http.client.HTTPMessage:
    """The `HTTPMessage` `http.client.parse_headers` makes of these lines."""
    if lines and lines[-1] in (b"\r\n", b"\n"):
        message = http.client.HTTPMessage()
        for line in lines[:-1]:
            plain = _PLAIN.fullmatch(line)
            if plain is None:
                break
            name, value = plain.groups()
            if name.lower() == b"content-type" and _PARSED_ELSEWHERE.search(value):
                break  # the feed parser reads such a body's structure (and notes defects)
            message[name.decode("ascii")] = value.decode("iso-8859-1")
        else:
            message.set_payload("")
            return message
    text = b"".join(lines).decode("iso-8859-1")
    parsed: http.client.HTTPMessage = email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
        text
    )
    return parsed


class Response(http.client.HTTPResponse):
    """`http.client.HTTPResponse`, its headers read by `header_message`."""

    # `begin` below is the standard library's (3.11–3.13), but for the marked line.
    def begin(self) -> None:
        this: Any = self  # the attributes `begin` sets are not all in the stubs
        if self.headers is not None:
            return
        while True:
            version, status, reason = this._read_status()
            if status != HTTPStatus.CONTINUE:
                break
            read_header_lines(self.fp)  # skip the header of the 100 response
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = header_message(read_header_lines(self.fp))  # the change
        transfer_encoding = self.headers.get("transfer-encoding")
        if transfer_encoding and transfer_encoding.lower() == "chunked":
            self.chunked = True
            this.chunk_left = None
        else:
            self.chunked = False
        self.will_close = this._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        else:
            self.length = None
        if (
            status == HTTPStatus.NO_CONTENT
            or status == HTTPStatus.NOT_MODIFIED
            or 100 <= status < 200
            or this._method == "HEAD"
        ):
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True
