"""Fault injection as WSGI middleware: latency, 5xx before handling, dropped connections after.

A `FaultPlan` is a seeded list of rules; each rule matches `METHOD /path` globs (e.g.
`POST /hpc/jobs/*/submit`) and fires with its probability. Effects: `latency_ms` (+ uniform
`jitter_ms`), `error_status` (answered before the request reaches the emulator, so nothing
changes), `drop_after_commit` (the request is handled and committed, then the connection is
closed without a response — the case that makes clients retry a create). File format and
flags: `docs/emulator.md`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpcspec.errors import HpcspecError


@dataclass(frozen=True)
class FaultRule:
    match: str = "*"
    probability: float = 1.0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_status: int = 0
    drop_after_commit: bool = False

    def matches(self, route: str) -> bool:
        return fnmatch.fnmatchcase(route.lower(), self.match.lower())


@dataclass(frozen=True)
class FaultPlan:
    rules: tuple[FaultRule, ...] = field(default_factory=tuple)
    seed: int = 0


_RULE_KEYS = {f for f in FaultRule.__dataclass_fields__}


def load_plan(path: Path, seed: int | None = None) -> FaultPlan:
    """A plan from a JSON file `{"seed": N, "rules": [{...}, ...]}`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HpcspecError(
            f"cannot read the faults file {path}: {error}", code="emulator-faults-file"
        ) from None
    rules = []
    for item in data.get("rules", []) if isinstance(data, dict) else []:
        unknown = set(item) - _RULE_KEYS
        if unknown:
            raise HpcspecError(
                f"{path}: unknown fault rule keys {sorted(unknown)}",
                code="emulator-faults-file",
                hint=f"use {sorted(_RULE_KEYS)}",
            )
        rules.append(FaultRule(**item))
    return FaultPlan(tuple(rules), int(seed if seed is not None else data.get("seed", 0)))


class FaultMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]], plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan
        self._random = random.Random(plan.seed)
        self._lock = threading.Lock()

    def _roll(self) -> tuple[float, float]:
        with self._lock:
            return self._random.random(), self._random.random()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        route = f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"
        drop = False
        for rule in self.plan.rules:
            if not rule.matches(route):
                continue
            chance, spread = self._roll()
            if chance >= rule.probability:
                continue
            delay = rule.latency_ms + spread * rule.jitter_ms
            if delay > 0:
                time.sleep(delay / 1000)
            if rule.error_status:
                body = json.dumps({"Code": -1, "Message": "Injected fault."}).encode()
                start_response(
                    f"{rule.error_status} Injected Fault",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
            drop = drop or rule.drop_after_commit
        if not drop:
            return self.app(environ, start_response)
        result = self.app(environ, lambda *a, **k: None)  # handled and committed …
        for _ in result:
            pass
        sock = environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):  # … but the client never hears back
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        start_response("500 Dropped", [("Content-Length", "0")])
        return [b""]
