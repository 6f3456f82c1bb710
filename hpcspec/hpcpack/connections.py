"""Below requests: the URLs, connections and answers of the transport's pools, made cheaper
for a transport whose every request goes to one origin with the same settings. Nothing here
imports requests (`transport.py` is the only module that does).

- `prepared_url` builds the URL requests' `prepare_url` would make of a base URL, a quoted path
  and parameters (a test holds them equal), without re-parsing what quoting made valid.
- `Connection` and `TLSConnection` write a header line they have checked before as it was,
  and read answers with `Response`: `http.client.HTTPResponse`, whose `begin` is the standard
  library's (the same in Python 3.11 to 3.13; a test compares the two on every kind of
  answer) but for the header parse. `http.client` hands every answer's header block to
  `email.parser`, whose feed parser cost a fifth of the client's CPU per request here;
  `header_message` makes the same `HTTPMessage` directly when every line is a plain
  `Name: value` line (what servers send), and leaves every other block (folded lines, a line
  that is not a header, a multipart or message content type, a block cut short) to
  `email.parser` itself; a test holds the two equal.
- `LoopbackOnlyConnection` refuses a plain-http peer that is not a loopback address, so Basic
  credentials over http reach this machine only.
"""

from __future__ import annotations

import email.parser
import http.client
import re
import socket
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

from hpcspec.hpcpack.endpoint import is_loopback_address
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


def prepared_url(prefix: str | None, path: str, params: Mapping[str, str] | None) -> str | None:
    """The URL `prepare_url` makes of the base URL `prefix` came from, the quoted `path` and
    `params`, built directly (a test holds them equal): requests would parse and re-quote
    text that quoting made valid already. None where only `prepare_url` can say (no prefix,
    a dot segment it would remove, a value that is not text)."""
    if prefix is None:
        return None
    quoted = quote(path, safe="/")
    if not quoted.startswith("/") or "/." in quoted:
        return None
    if not params:
        return prefix + quoted
    pairs = [(k, v) for k, v in params.items() if v is not None]
    if not all(type(k) is str and type(v) is str for k, v in pairs):
        return None
    query = urlencode(pairs)
    return f"{prefix}{quoted}?{query}" if query else prefix + quoted


def _putheader(connection: Any, header: str, *values: str) -> None:
    """urllib3's `putheader`, checking and encoding each header line once per connection: a
    line it has written before is written again as it was (a handful per connection; the
    Authorization line is kept no longer than the headers that hold it)."""
    if len(values) != 1:
        urllib3.connection.HTTPConnection.putheader(connection, header, *values)
        return
    checked: dict[tuple[str, str], bytes] = connection.__dict__.setdefault("_checked_lines", {})
    line = checked.get((header, values[0]))
    if line is not None:
        connection._output(line)  # what http.client's putheader writes for this header
        return
    written = len(connection._buffer)
    urllib3.connection.HTTPConnection.putheader(connection, header, *values)
    if len(connection._buffer) == written + 1 and len(checked) < _CHECKED_LINES:
        checked[header, values[0]] = connection._buffer[-1]


_CHECKED_LINES = 32


class Connection(urllib3.connection.HTTPConnection):
    """An http connection that reads answers with `Response`."""

    response_class = Response
    putheader = _putheader


class TLSConnection(urllib3.connection.HTTPSConnection):
    response_class = Response
    putheader = _putheader  # type: ignore[assignment]


class Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = Connection


class TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = TLSConnection


# Plain http with Basic credentials: `endpoint.route` decided the URL names this machine; each
# connection's peer is checked again, so a name that now resolves elsewhere gets no credentials.


class LoopbackOnlyConnection(Connection):
    """An http connection that is closed unless its peer is a loopback address."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            peer = str(sock.getpeername()[0])
        except OSError as failure:
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"no peer: {failure}") from None
        if not is_loopback_address(peer):
            sock.close()
            raise urllib3.exceptions.NewConnectionError(
                self,
                f"{self.host} now resolves to {peer}, not a loopback address; the Basic auth "
                "credentials were not sent",
            )
        return sock


class LoopbackOnlyPool(Pool):
    ConnectionCls = LoopbackOnlyConnection
