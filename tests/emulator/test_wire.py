"""The emulator's lean request parsing gives exactly what `http.server` and werkzeug give:
the same header message for any header block, the same WSGI environ for any plain request,
and the standard path (same answers) for anything else."""

from __future__ import annotations

import http.client
import io
import socket
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Response

from hpcspec.emulator import api, wire
from hpcspec.emulator.server import _Handler
from tests.emulator.helpers import Api
from tests.emulator.test_request_threads import _answers, _request

NAMES = st.sampled_from(
    ["Host", "Accept", "Content-Type", "X_Under", "x-ms-as-user", "Authorization", "A", "From"]
) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=6)
VALUES = st.text(st.characters(min_codepoint=0x09, max_codepoint=0xFF), max_size=12)
LINES = st.tuples(
    NAMES, st.sampled_from([":", ": ", ":\t ", " : "]), VALUES, st.sampled_from(["\r\n", "\n"])
).map("".join) | st.sampled_from([" folded\r\n", "\tfolded\r\n", "no colon\r\n", "a\rb: c\r\n"])


def _message_state(message: Any) -> dict[str, Any]:
    state = {k: v for k, v in vars(message).items() if k not in ("policy", "defects")}
    defects = [(type(d), d.args) for d in message.defects]  # defects compare by identity
    return state | {"type": type(message), "policy": message.policy, "defects": defects}


def _both(block: bytes) -> tuple[object, object]:
    def parse(function: Any) -> object:
        try:
            return _message_state(function(io.BytesIO(block), http.client.HTTPMessage))
        except http.client.HTTPException as error:
            return (type(error), str(error))

    return parse(wire.read_headers), parse(lambda f, c: http.client.parse_headers(f, _class=c))


@given(st.lists(LINES, max_size=6), st.sampled_from(["\r\n", "\n", ""]))
def test_a_header_block_reads_as_the_email_parser_reads_it(lines: list[str], end: str) -> None:
    block = ("".join(lines) + end).encode("iso-8859-1")
    lean, standard = _both(block)
    assert lean == standard


def test_too_many_or_too_long_header_lines_fail_as_http_client_fails() -> None:
    for block in (b"A: b\r\n" * 101 + b"\r\n", b"A: " + b"b" * 70000 + b"\r\n\r\n"):
        lean, standard = _both(block)
        assert isinstance(lean, tuple)
        assert lean == standard


def _handler(target: str, block: bytes, peer: Any = ("127.0.0.1", 50123)) -> Any:
    handler = object.__new__(_Handler)
    handler.server = SimpleNamespace(
        ssl_context=None,
        multithread=True,
        multiprocess=False,
        _server_version="Werkzeug/3",
        server_address=("127.0.0.1", 8123),
    )
    handler.path, handler.command, handler.request_version = target, "GET", "HTTP/1.1"
    handler.client_address, handler.connection, handler.rfile = peer, object(), io.BytesIO()
    handler.headers = http.client.parse_headers(io.BytesIO(block))
    return handler


TARGETS = [
    "/hpc/jobs",
    "/hpc/jobs?rowsPerRead=10&$filter=JobState%20eq%20Failed&owner=HPC%5Cbob",
    "/hpc/jobs/%E2%82%AC?x=%zz&y=%C3",
    "/a;b/?",
    "/",
]
HEADERS = (
    b"Host: h\r\nAccept: a\r\naccept: b\r\nContent-Type: text/xml\r\nContent-Length: 3\r\n"
    b"X_Dropped: y\r\nx-ms-as-user: HPC\\bob\r\nFolded: one\r\n two\r\n\r\n"
)


@pytest.mark.parametrize("target", TARGETS)
def test_a_plain_request_gets_the_environ_werkzeug_builds(target: str) -> None:
    handler = _handler(target, HEADERS)
    assert wire.plain_environ(handler) == WSGIRequestHandler.make_environ(handler)


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30))
def test_any_printable_path_gets_the_environ_werkzeug_builds(rest: str) -> None:
    handler = _handler("/" + rest, b"Host: h\r\n\r\n")
    lean = wire.plain_environ(handler)
    assert lean is None or lean == WSGIRequestHandler.make_environ(handler)


@pytest.mark.parametrize(
    ("target", "block"),
    [
        ("//evil/path", b"\r\n"),
        ("http://host/hpc/jobs", b"\r\n"),
        ("/a#fragment", b"\r\n"),
        ("*", b"\r\n"),
        ("/hpc/jobs", b"Transfer-Encoding: chunked\r\n\r\n"),
    ],
)
def test_other_requests_are_left_to_werkzeug(target: str, block: bytes) -> None:
    assert wire.plain_environ(_handler(target, block)) is None


def test_folded_and_odd_header_lines_are_still_served(start_emulator: Any) -> None:
    running = start_emulator()
    parts = urlsplit(running.url)
    odd = "X-Folded: one\r\n two\r\nX-Latin: caf\xe9\r\n"
    with socket.create_connection((parts.hostname, parts.port)) as connection:
        connection.sendall(
            _request("GET", "/hpc/cluster/version", running.admin, extra=odd).replace(
                b"caf\xc3\xa9", b"caf\xe9"
            )
        )
        connection.sendall(_request("GET", "/hpc/cluster/version", running.admin))
        answers = _answers(connection, 2)
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 2


def test_a_route_answers_the_same_every_time_and_misses_are_never_remembered(emulator: Any):
    api = Api(emulator)
    job = api.create_job(Name="routed")
    for _ in range(2):
        assert api.call("GET", f"/jobs/{job}").status_code == 200
        assert api.call("GET", "/jobs/not-a-number").status_code == 404
        assert api.call("DELETE", f"/jobs/{job}").status_code == 405
        assert api.call("GET", f"/jobs/{job}/").status_code == 200  # strict_slashes=False


@pytest.mark.parametrize("extra", [{}, {"x-ms-row-count": "3", "Location": "/x"}])
def test_a_204_starts_as_werkzeugs_response_starts_it(extra: dict[str, str]) -> None:
    started: list[Any] = []
    environ = {"REQUEST_METHOD": "PUT"}
    body = Response(status=204, headers=extra)(environ, lambda *a: started.append(a))
    assert list(body) == []
    assert [(status, list(headers)) for status, headers in started] == [api.no_content(extra)]
