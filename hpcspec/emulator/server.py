"""A running emulator: store + scheduler + clock thread + threaded werkzeug server.

Used by `hpcspec emulator serve`, the embedded local cluster and the test fixture, so all three
run the same thing. `Emulator.start()` returns once the socket is listening; `stop()` joins the
threads and closes the store.
"""

from __future__ import annotations

import dataclasses
import email.utils
import errno
import functools
import http.client
import io
import logging
import os
import queue
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from hpcspec.emulator import wire
from hpcspec.emulator.api import HpcApp, User
from hpcspec.emulator.clock import SchedulerClock
from hpcspec.emulator.cluster import ClusterSpec
from hpcspec.emulator.executors import make_executor
from hpcspec.emulator.faults import FaultMiddleware, FaultPlan
from hpcspec.emulator.scheduler import Scheduler, Timings
from hpcspec.emulator.state_machine import ACTIVE_JOB
from hpcspec.emulator.store import Store
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.profile import ClusterProfile

log = logging.getLogger(__name__)
IDLE_SECONDS = 30.0  # a request thread idle this long ends
KEEP_ALIVE_SECONDS = 15.0  # an idle persistent connection is closed after this long
MAX_KEPT_BODY = 8 * 1024 * 1024  # larger bodies get werkzeug's handling (and a closed connection)


@dataclass(frozen=True)
class EmulatorOptions:
    """Everything `hpcspec emulator serve` can set."""

    db: Path
    users: tuple[User, ...]
    host: str = "127.0.0.1"
    port: int = 0
    executor: str = "simulate"
    cluster: ClusterSpec = field(default_factory=ClusterSpec)
    timings: Timings = field(default_factory=Timings)
    faults: FaultPlan | None = None
    work_root: Path | None = None
    idle_timeout: float = 0.0  # stop after this long without requests or active jobs (0 = never)
    profile: ClusterProfile = field(default_factory=ClusterProfile)  # behave like this cluster


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, with HTTP/1.1 persistent connections and no access log.

    werkzeug's own `run_wsgi` closes every connection (it cannot tell where one request body
    ends and the next request begins). This one reads a request's whole body (`Content-Length`)
    before the application runs, answers with a `Content-Length`, and keeps the connection
    for the client's next request, as IIS does for HPC Pack: no TCP connect, accept and close
    per request. A chunked or oversized request, HTTP/1.0, or `Connection: close` gets
    werkzeug's behaviour (the connection closes). Idle connections close after KEEP_ALIVE_SECONDS.
    """

    timeout = KEEP_ALIVE_SECONDS  # socket reads and writes; an idle connection ends with it

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def parse_request(self) -> bool:
        """`http.server`'s parse_request; an `HTTP/1.x` request line with a path target gets
        its headers from `wire.read_headers` (same message, no email feed parser)."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0") or words[1][:2] == "//":
            return bool(super().parse_request())
        self.requestline = requestline
        self.command, self.path, self.request_version = words
        self.close_connection = words[2] != "HTTP/1.1" or self.protocol_version < "HTTP/1.1"
        try:
            self.headers = wire.read_headers(self.rfile, self.MessageClass)
        except http.client.LineTooLong as error:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(error))
            return False
        except http.client.HTTPException as error:
            self.send_error(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(error)
            )
            return False
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        expect = self.headers.get("Expect", "").lower()
        http11 = self.request_version >= "HTTP/1.1" and self.protocol_version >= "HTTP/1.1"
        if expect == "100-continue" and http11:
            return bool(self.handle_expect_100())
        return True

    def make_environ(self) -> dict[str, Any]:
        return wire.plain_environ(self) or super().make_environ()

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("%s: " + format, self.client_address, *args)  # e.g. an idle connection ended

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length", "")
        persistent = (
            self.request_version == "HTTP/1.1"
            and "close" not in self.headers.get("Connection", "").lower()
            and "Transfer-Encoding" not in self.headers
            and (not length or (length.isdigit() and int(length) <= MAX_KEPT_BODY))
        )
        if not persistent:
            self.close_connection = True
            super().run_wsgi()
            return
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(int(length or 0))
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            answer[:] = [status, headers]
            return chunks.append

        chunks: list[bytes] = []
        result = self.server.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = answer
        payload = b"".join(chunks)
        lines = [f"HTTP/1.1 {status}", f"Server: {self.version_string()}", f"Date: {_now()}"]
        lines += [
            f"{name}: {value}"
            for name, value in headers
            if name.lower() not in ("content-length", "connection", "transfer-encoding")
        ]
        lines.append(f"Content-Length: {len(payload)}\r\n\r\n")
        # one write, one system call: the status line, headers and body leave together
        self.wfile.write("\r\n".join(lines).encode("latin-1") + payload)
        self.log_request(status.partition(" ")[0], len(payload))


@functools.lru_cache(maxsize=2)
def _date(second: int) -> str:
    return email.utils.formatdate(second, usegmt=True)


def _now() -> str:
    """The Date header's value (HTTP-date), computed once per second."""
    return _date(int(time.time()))


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; a clear error when the address is taken.

    werkzeug binds by itself and, on failure, prints to stderr and exits the process; binding
    here first turns "address in use" into an error the CLI reports like any other.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if os.name != "nt":  # on Windows this option would let two servers share a port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        in_use = error.errno == errno.EADDRINUSE
        raise HpcspecError(
            f"cannot listen on {host}:{port}: "
            + ("address already in use" if in_use else error.strerror or str(error)),
            code="emulator-address-in-use" if in_use else "emulator-listen",
            hint="another program (perhaps another emulator) holds that port: stop it, or "
            "choose another --port (0 picks a free one)"
            if in_use
            else "check --host and --port",
        ) from None
    return sock


class _PooledServer(ThreadedWSGIServer):
    """werkzeug's threaded server, its requests handled by threads that wait on a queue.

    socketserver starts a thread per request, and `ThreadPoolExecutor.submit` builds a future
    with its locks for each: at hundreds of requests a second either is a good share of what a
    request costs the emulator, all of it on the accepting thread. Here a request is one
    `SimpleQueue.put` to an idle thread; a thread is added whenever none is idle (so, like a
    thread per request, no request ever waits for a busy one), and one left idle for
    IDLE_SECONDS ends.
    """

    def __init__(self, host: str, port: int, app: Any) -> None:
        self._requests: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._count_lock = threading.Lock()
        self._idle = 0  # threads waiting for a request that no queued request has claimed
        listening = listen(host, port)
        try:
            super().__init__(host, port, app, _Handler, fd=listening.fileno())
        finally:
            listening.close()  # werkzeug works on its own duplicate of the socket

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            claimed = self._idle > 0
            if claimed:
                self._idle -= 1
        if not claimed:
            threading.Thread(target=self._work, name="emulator-request", daemon=True).start()
        self._requests.put((request, client_address))

    def _work(self) -> None:
        while True:
            try:
                item = self._requests.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._count_lock:
                    if self._idle > 0:  # no request claimed this thread meanwhile: end
                        self._idle -= 1
                        return
                continue  # a request claimed it: it is on its way
            if item is None:
                return
            self.process_request_thread(*item)
            with self._count_lock:
                self._idle += 1

    def server_close(self) -> None:
        super().server_close()
        with self._count_lock:
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._requests.put(None)


class Emulator:
    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self._app: Any = None
        self.server: BaseWSGIServer = _PooledServer(options.host, options.port, self._serve)
        self.store = Store(options.db)
        cluster = options.cluster
        if not cluster.started:
            cluster = dataclasses.replace(cluster, started=time.time())
        self.executor = make_executor(options.executor, options.timings.simulate)
        self.scheduler = Scheduler(
            self.store, cluster, self.executor, options.timings, options.profile
        )
        work = options.work_root or Path(tempfile.gettempdir())
        self.clock = SchedulerClock(self.scheduler, str(work))
        self.last_request = time.monotonic()
        app: Any = HpcApp(self.scheduler, options.users, on_request=self._touch)
        if options.faults is not None:
            app = FaultMiddleware(app, options.faults)
        self._app = app
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._app(environ, start_response)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        host = self.options.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}/hpc"

    def _touch(self) -> None:
        self.last_request = time.monotonic()

    def start(self) -> None:
        serve = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="emulator-http", daemon=True
        )
        clock = threading.Thread(target=self._clock, name="emulator-clock", daemon=True)
        self._threads = [serve, clock]
        for thread in self._threads:
            thread.start()

    def _clock(self) -> None:
        tick = self.options.timings.tick
        while not self._stopping.wait(tick):
            try:
                self.clock.tick()
            except Exception:  # keep the clock alive; the failure is logged for the operator
                log.exception("scheduler tick failed")
            if self.options.idle_timeout and self._idle():
                log.info("idle for %ss: stopping", self.options.idle_timeout)
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                self._stopping.set()

    def _idle(self) -> bool:
        if time.monotonic() - self.last_request < self.options.idle_timeout:
            return False
        return not self.store.jobs_in(ACTIVE_JOB)

    @property
    def serving(self) -> bool:
        return bool(self._threads) and self._threads[0].is_alive()

    def wait(self) -> None:
        """Block until the server stops (idle timeout or `stop()` from another thread)."""
        while self._threads and self._threads[0].is_alive():
            self._threads[0].join(0.5)

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.executor.stop_all()
        self.store.close()
