"""An independent counting proxy for benchmarks: adds latency to every request and counts them.

Run as its own process (`counting_proxy(upstream, latency_ms)` starts one): each request waits
`latency_ms` (one round trip to a far head node), then goes to the upstream emulator on a
keep-alive connection of its own thread; the answer is passed back (status, headers and body
as the emulator sent them, only hop-by-hop headers dropped) in one write. The
proxy is not part of hpcspec or of the emulator, so neither can under-count: it sees what
went over the wire. `GET /__proxy/counts` answers `{"METHOD /route/*": n, …}` (ids as `*`)
and `POST /__proxy/reset` zeroes them; neither is counted or delayed.

    python benchmarks/counting_proxy.py http://127.0.0.1:PORT/hpc --latency-ms 20
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
NO_BODY = (b"1", b"204", b"304")  # statuses whose answer has no body, whatever its headers say


def route(method: str, path: str) -> str:
    """`METHOD /a/*/b`: the path without its query, numeric segments as `*`."""
    parts = ["*" if p.isdigit() else p for p in path.split("?")[0].split("/")]
    return f"{method} {'/'.join(parts)}"


class Message:
    """One HTTP request or answer as read off a socket: its first line, headers and body."""

    def __init__(self, first: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.first, self.headers, self.body = first, headers, body
        self.to_end = False  # the body ran to the end of the connection

    def header(self, name: bytes) -> bytes:
        return next((v for k, v in self.headers if k.lower() == name), b"")

    def closes(self) -> bool:
        """Whether the connection ends after this message (`Connection: close`, HTTP/1.0)."""
        http10 = self.first.startswith(b"HTTP/1.0") or self.first.endswith(b"HTTP/1.0")
        return self.to_end or b"close" in self.header(b"connection").lower() or http10

    def wire(self, *, last: bool = False) -> bytes:
        """The message to pass on: hop-by-hop headers dropped, the body whole, with its length
        (`last`: the connection closes after it, and says so)."""
        lines = [self.first]
        lines += [k + b": " + v for k, v in self.headers if k.lower().decode() not in HOP_BY_HOP]
        lines = [line for line in lines if not line.lower().startswith(b"content-length:")]
        lines += [b"Connection: close"] if last else []
        lines.append(b"Content-Length: " + str(len(self.body)).encode() + b"\r\n\r\n")
        return b"\r\n".join(lines) + self.body


def read_message(stream: BinaryIO, *, answer_to: bytes | None = None) -> Message | None:
    """The next message on `stream` (None at end of stream). A request's body, or an answer's
    (`answer_to` its request's method), is read by Content-Length, chunks, or to the end."""
    first = stream.readline(65537).rstrip(b"\r\n")
    while first == b"" and answer_to is None:  # blank lines between requests are allowed
        line = stream.readline(65537)
        if not line:
            return None
        first = line.rstrip(b"\r\n")
    if not first:
        return None
    headers = []
    while (line := stream.readline(65537).rstrip(b"\r\n")) != b"":
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    message = Message(first, headers, b"")
    length = message.header(b"content-length")
    if answer_to is not None and (
        answer_to == b"HEAD" or first.split(b" ")[1][:3].startswith(NO_BODY)
    ):
        return message
    if b"chunked" in message.header(b"transfer-encoding").lower():
        message.body = _dechunk(stream)
    elif length:
        message.body = stream.read(int(length))
    elif answer_to is not None:  # an answer without a length ends with its connection
        message.body = stream.read()
        message.to_end = True
    return message


def _dechunk(stream: BinaryIO) -> bytes:
    chunks = []
    while size := int(stream.readline().split(b";")[0].strip() or b"0", 16):
        chunks.append(stream.read(size))
        stream.readline()
    while stream.readline().strip():  # trailers
        pass
    return b"".join(chunks)


class Proxy:
    """Accepts connections; each is served by its own thread (see `serve`)."""

    def __init__(self, upstream: str, latency: float) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=128)
        split = urlsplit(upstream)
        self.upstream = (split.hostname or "127.0.0.1", split.port or 80)
        self.latency = latency
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.socket.getsockname()[:2]
        return str(host), int(port)

    def serve_forever(self) -> None:
        while True:
            connection, _ = self.socket.accept()
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def serve(self, connection: socket.socket) -> None:
        """Relay each request of one client connection: count it, wait the latency, send it
        upstream on this thread's own keep-alive connection, pass the answer back in one write
        (TCP_NODELAY both ways: no ACK-clocked stalls a real network would not have)."""
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upstream: socket.socket | None = None
        replies: BinaryIO | None = None
        try:
            with connection, connection.makefile("rb") as requests:
                while (request := read_message(requests)) is not None:
                    method, path = request.first.decode("latin-1").split(" ")[:2]
                    if path.startswith("/__proxy/"):
                        connection.sendall(self._control(path))
                        continue
                    with self.lock:
                        self.counts[route(method, path)] += 1
                    time.sleep(self.latency)
                    if upstream is None or replies is None:
                        upstream = socket.create_connection(self.upstream, timeout=300)
                        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        replies = upstream.makefile("rb")
                    upstream.sendall(request.wire())
                    answer = read_message(replies, answer_to=method.encode())
                    if answer is None:
                        return  # the upstream closed without answering: so does the proxy
                    connection.sendall(answer.wire(last=request.closes()))
                    if answer.closes():
                        replies.close()
                        upstream.close()
                        upstream = replies = None
                    if request.closes():
                        return
        except OSError:
            return  # a client or upstream connection ended; the others go on
        finally:
            if upstream is not None and replies is not None:
                replies.close()
                upstream.close()

    def _control(self, path: str) -> bytes:
        with self.lock:
            if path == "/__proxy/reset":
                self.counts.clear()
            data = json.dumps(dict(self.counts)).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}"
        return head.encode() + b"\r\n\r\n" + data


@contextmanager
def counting_proxy(upstream: str, latency_ms: float) -> Iterator[tuple[str, ProxyCounts]]:
    """Run the proxy as its own process in front of `upstream` (an emulator's `/hpc` URL);
    yields the URL to use instead and a handle on the counts."""
    command = [sys.executable, __file__, upstream, "--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"proxy did not start: {line!r}")
    base = line.rsplit(" ", 1)[-1]
    try:
        yield base + urlsplit(upstream).path, ProxyCounts(base)
    finally:
        process.terminate()
        process.wait(timeout=10)


class ProxyCounts:
    """The running proxy's request counts."""

    def __init__(self, base: str) -> None:
        self.base = base

    def _call(self, path: str, method: str) -> Counter[str]:
        request = urllib.request.Request(self.base + path, method=method)
        with urllib.request.urlopen(request, timeout=30) as reply:
            return Counter(json.loads(reply.read()))

    def reset(self) -> None:
        """Zero the counts."""
        self._call("/__proxy/reset", "POST")

    def counts(self) -> Counter[str]:
        """Requests by route since the last reset."""
        return self._call("/__proxy/counts", "GET")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("upstream")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    server = Proxy(args.upstream, args.latency_ms / 1000)
    host, port = server.address
    print(f"counting proxy listening on http://{host}:{port}", flush=True)
    with suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
