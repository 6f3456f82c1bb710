"""The transport's HTTP connections behave as urllib3's and http.client's own (connections.py).

`headers.header_message` builds an answer's `HTTPMessage` without `email.parser` for plain
header lines, and leaves every other block to it; `headers.Response.begin` is the standard
library's but for that parse; the connections write each checked header line again as it
was. These tests hold each equal to the standard code it stands for, on the same input.
"""

from __future__ import annotations

import email.parser
import http.client
import io
import socket
from typing import Any

import pytest
import urllib3
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.hpcpack.connections import Connection, Response, header_message

_NAME = st.text(st.sampled_from("AZaz09-_!~.:' \t"), min_size=0, max_size=8)
_VALUE = st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))
_LINE = st.one_of(
    st.builds(lambda n, v: n.encode() + b": " + v + b"\r\n", _NAME, _VALUE),
    st.builds(lambda n, v: n.encode() + b":" + v + b"\n", _NAME, _VALUE),
    st.sampled_from(
        [
            b"Content-Type: application/json; charset=utf-8\r\n",
            b"Content-Type: multipart/mixed; boundary=x\r\n",
            b"content-type: Message/rfc822\r\n",
            b"Set-Cookie: ARRAffinity=node2; Path=/hpc\r\n",
            b"x-ms-continuation-queryId: abc\r\n",
            b" folded continuation\r\n",
            b"\tfolded with a tab\r\n",
            b"From somebody\r\n",
            b"no colon here\r\n",
            b": empty name\r\n",
            b"Bare: carriage\rreturn\r\n",
            b"Trailing: spaces   \r\n",
        ]
    ),
)


def _by_email_parser(lines: list[bytes]) -> http.client.HTTPMessage:
    text = b"".join(lines).decode("iso-8859-1")
    parsed: http.client.HTTPMessage = email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
        text
    )
    return parsed


def _seen(message: Any) -> tuple[object, ...]:
    payload = message.get_payload()
    return (
        type(message),
        message.items(),
        [type(d) for d in message.defects],
        [_seen(part) for part in payload] if isinstance(payload, list) else payload,
        message.is_multipart(),
        message.get_content_type(),
        message.get_all("Set-Cookie"),
    )


@given(lines=st.lists(_LINE, max_size=6), end=st.sampled_from([b"\r\n", b"\n", b""]))
def test_a_header_block_is_read_as_email_parser_reads_it(lines: list[bytes], end: bytes) -> None:
    block = [*lines, end]
    assert _seen(header_message(block)) == _seen(_by_email_parser(block))


class _Socket:
    """What http.client reads an answer from."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


_ANSWERS = [
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n"1"',
    b"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\nbody",
    b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nbody",
    b"HTTP/1.1 100 Continue\r\nA: b\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n7",
    b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    b"HTTP/1.1 500 Internal Server Error\r\n Folded: x\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\n"
    b"Keep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n",
]


def _read(cls: type[http.client.HTTPResponse], data: bytes, method: str) -> tuple[Any, ...]:
    response = cls(_Socket(data), method=method)  # type: ignore[arg-type]
    try:
        response.begin()
    except http.client.HTTPException as failure:
        return (type(failure), str(failure))
    state = (
        response.status,
        response.reason,
        response.version,
        response.headers.items(),
        response.chunked,
        getattr(response, "chunk_left", "unset"),
        response.length,
        response.will_close,
    )
    return (*state, response.read())


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("data", [*_ANSWERS, b"HTTP/2 200 OK\r\n\r\n", b"garbage\r\n"])
def test_an_answer_is_begun_as_http_client_begins_it(data: bytes, method: str) -> None:
    assert _read(Response, data, method) == _read(http.client.HTTPResponse, data, method)


def _written(connection: urllib3.connection.HTTPConnection, requests: list[Any]) -> bytes:
    ours, theirs = socket.socketpair()
    connection.sock = ours
    with ours, theirs:
        for method, url, body, headers in requests:
            connection.request(method, url, body=body, headers=headers)
            connection._HTTPConnection__state = "Idle"  # type: ignore[attr-defined]
        ours.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: theirs.recv(65536), b""))


def test_a_connection_writes_what_urllib3_writes_its_checked_lines_too() -> None:
    headers = {"Accept": "application/json", "Authorization": "Basic c2VjcmV0", "X": "é"}
    requests = [
        ("PUT", "/hpc/jobs/1", b"[1]", headers | {"Content-Length": "3"}),
        ("PUT", "/hpc/jobs/2", b"[22]", headers | {"Content-Length": "4"}),
        ("GET", "/hpc/jobs?x=1", None, headers),
        ("GET", "/hpc/jobs", None, {"User-Agent": urllib3.util.SKIP_HEADER}),
    ]
    mine = _written(Connection("head.test", 80), requests)
    assert mine == _written(urllib3.connection.HTTPConnection("head.test", 80), requests)
    assert mine.count(b"Authorization: Basic c2VjcmV0\r\n") == 3


def test_a_header_urllib3_refuses_is_refused_every_time() -> None:
    connection = Connection("head.test", 80)
    for _ in range(2):
        connection.putrequest("GET", "/hpc")
        with pytest.raises(ValueError, match="Invalid header value"):
            connection.putheader("X", "a\r\nInjected: 1")
        connection._HTTPConnection__state = "Idle"  # type: ignore[attr-defined]


def test_a_plain_header_block_is_read_without_email_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    block = [
        b"Server: Microsoft-IIS/10.0\r\n",
        b"Content-Type: application/json; charset=utf-8\r\n",
        b"x-ms-continuation-queryId: 1f3e\r\n",
        b"Content-Length: 120\r\n",
        b"\r\n",
    ]
    expected = _seen(_by_email_parser(block))
    monkeypatch.setattr(email.parser, "Parser", None)
    assert _seen(header_message(block)) == expected
