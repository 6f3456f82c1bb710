"""An independent counting proxy for benchmarks: adds latency to every request and counts them.

Run as its own process (`counting_proxy(upstream, latency_ms)` starts one): each request waits
`latency_ms` (one round trip to a far head node), then goes to the upstream emulator on a
keep-alive connection of its own handler thread; the reply is passed back unchanged. The
proxy is not part of hpcspec or of the emulator, so neither can under-count: it sees what
went over the wire. `GET /__proxy/counts` answers `{"METHOD /route/*": n, …}` (ids as `*`)
and `POST /__proxy/reset` zeroes them; neither is counted or delayed.

    python benchmarks/counting_proxy.py http://127.0.0.1:PORT/hpc --latency-ms 20
"""

from __future__ import annotations

import argparse
import http.client
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


def route(method: str, path: str) -> str:
    """`METHOD /a/*/b`: the path without its query, numeric segments as `*`."""
    parts = ["*" if p.isdigit() else p for p in path.split("?")[0].split("/")]
    return f"{method} {'/'.join(parts)}"


class Proxy(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, upstream: str, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        split = urlsplit(upstream)
        self.upstream = (split.hostname or "127.0.0.1", split.port or 80)
        self.latency = latency
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Proxy
    upstream: http.client.HTTPConnection | None = None

    def setup(self) -> None:
        super().setup()
        # Every answer leaves in one write (below) and nothing waits for an ACK: without this,
        # Nagle's algorithm holding a reply's tail for the client's delayed ACK (~40 ms on
        # Linux) would add a wait no network between a client and IIS has.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the benchmark prints the figures

    def _relay(self) -> None:
        if self.path.startswith("/__proxy/"):
            self._control()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        with self.server.lock:
            self.server.counts[route(self.command, self.path)] += 1
        time.sleep(self.server.latency)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if self.upstream is None:
            self.upstream = http.client.HTTPConnection(*self.server.upstream, timeout=300)
        self.upstream.request(self.command, self.path, body=body, headers=headers)
        reply = self.upstream.getresponse()
        data = reply.read()
        lines = [f"HTTP/1.1 {reply.status} {reply.reason}"]
        lines += [
            f"{name}: {value}"
            for name, value in reply.getheaders()
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
        ]
        lines.append(f"Content-Length: {len(data)}\r\n\r\n")
        self.wfile.write("\r\n".join(lines).encode("latin-1") + data)  # one write

    def _control(self) -> None:
        with self.server.lock:
            if self.path == "/__proxy/reset":
                self.server.counts.clear()
            data = json.dumps(dict(self.server.counts)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay


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
    host, port = server.server_address[:2]
    print(f"counting proxy listening on http://{host!s}:{port}", flush=True)
    with suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
