"""The emulator's HTTP request parsing: what `http.server` and werkzeug build, built leaner.

Used by `server._Handler` for every request. `http.server` parses each header block with the
`email` package's feed parser, and werkzeug's `make_environ` reads the headers back through
`email.message.Message`'s policy calls: together a fifth of the CPU an emulator request costs.
Here a header block of plain `Name: value` lines becomes the same `HTTPMessage` directly, and
the WSGI environ of a plain request path is the same dict werkzeug builds; anything else (folded
or malformed header lines, absolute or `//` request targets, chunked bodies, TLS) goes the
standard way. Tests compare both ways on the same requests.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import re
import sys
from typing import Any
from urllib.parse import unquote

from hpcspec.hpcpack.header_lines import read_header_lines

# A line the feed parser reads as one header: a name of printable ASCII but ':', then the
# value (its leading blanks dropped, trailing ones kept); no other CR or LF, no non-ASCII.
_PLAIN_HEADER = re.compile(r"([!-9;-~]+):[ \t]*([\t -~]*)\r?\n")
_PLAIN_TARGET = re.compile(r"/(?!/)[!-~]*")  # an origin-form target: no '//', no blanks


def read_headers(rfile: io.BufferedIOBase, message_class: type[Any]) -> Any:
    """`http.client.parse_headers(rfile, _class=message_class)`, the same message and errors."""
    lines = read_header_lines(rfile)
    message = message_class()
    if lines[-1]:  # ended by a blank line, not by the end of the stream
        pairs = [_PLAIN_HEADER.fullmatch(line.decode("iso-8859-1")) for line in lines[:-1]]
        if all(pairs):
            if message.policy is email.policy.compat32:
                # what `message[name] = value` stores under compat32 (no header limits, the
                # pair as given), without a policy call per header
                message._headers.extend(match.groups() for match in pairs if match)
            else:
                for match in pairs:
                    assert match is not None
                    message[match[1]] = match[2]
            message.set_payload("")
            return message
    text = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=message_class).parsestr(text)


def _dance(text: str) -> str:
    """werkzeug's `_wsgi_encoding_dance`: a str as the latin-1 reading of its UTF-8 bytes."""
    return text.encode().decode("latin1")


def plain_environ(handler: Any) -> dict[str, Any] | None:
    """werkzeug `WSGIRequestHandler.make_environ()` for a plain request (a path target, no
    Transfer-Encoding, no TLS, a TCP peer), or None for werkzeug to build."""
    server = handler.server
    target: str = handler.path
    peer = handler.client_address
    if (
        server.ssl_context is not None
        or not (isinstance(peer, tuple) and peer)
        or "#" in target
        or not _PLAIN_TARGET.fullmatch(target)
        or "Transfer-Encoding" in handler.headers
    ):
        return None
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": handler.rfile,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": server.multithread,
        "wsgi.multiprocess": server.multiprocess,
        "wsgi.run_once": False,
        "werkzeug.socket": handler.connection,
        "SERVER_SOFTWARE": handler.server_version,
        "REQUEST_METHOD": handler.command,
        "SCRIPT_NAME": "",
        "PATH_INFO": _dance(unquote(path)),
        "QUERY_STRING": _dance(query),
        "REQUEST_URI": _dance(target),
        "RAW_URI": _dance(target),
        "REMOTE_ADDR": handler.address_string(),
        "REMOTE_PORT": handler.port_integer(),
        "SERVER_NAME": server.server_address[0],
        "SERVER_PORT": str(server.server_address[1]),
        "SERVER_PROTOCOL": handler.request_version,
    }
    for name, value in handler.headers.items():
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        value = value.replace("\r\n", "")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
            if key in environ:
                value = f"{environ[key]},{value}"
        environ[key] = value
    return environ
