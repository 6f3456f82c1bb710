"""Seeing what the emulator was asked: a WSGI recorder installed in front of its app."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any


class Recorder:
    """WSGI middleware keeping every request line and body (bytes) the emulator received."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.seen: list[tuple[str, bytes]] = []
        self.statuses: Counter[tuple[str, str]] = Counter()  # (route, status line) answered
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        route = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
        with self._lock:
            self.seen.append((route, body))

        def answer(status: str, *args: Any) -> Any:
            with self._lock:
                self.statuses[(route, status)] += 1
            return start(status, *args)

        return self.app(environ, answer)

    def faults(self, status: str, route: str = "") -> int:
        """How many answers had `status` (e.g. "500 Dropped"), on routes starting with `route`."""
        return sum(n for (r, s), n in self.statuses.items() if s == status and r.startswith(route))

    def routes(self) -> Counter[str]:
        return Counter(route for route, _ in self.seen)


def install(running: Any) -> Recorder:
    recorder = Recorder(running.emulator.server.app)
    running.emulator.server.app = recorder
    return recorder


def uninstall(running: Any, recorder: Recorder) -> None:
    running.emulator.server.app = recorder.app
