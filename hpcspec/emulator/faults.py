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

from hpcspec.capped_read import FileTooLarge, read_capped_text
from hpcspec.errors import HpcspecError
from hpcspec.strict_json import loads_strict


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
MAX_FAULTS_FILE_BYTES = 1024 * 1024
_NUMBER = (int, float)
# What each field of a rule holds: (accepted types, what the error says is expected).
_RULE_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "match": ((str,), "a METHOD /path glob (text)"),
    "probability": (_NUMBER, "a number from 0 to 1"),
    "latency_ms": (_NUMBER, "a number of milliseconds, 0 or more"),
    "jitter_ms": (_NUMBER, "a number of milliseconds, 0 or more"),
    "error_status": ((int,), "an HTTP status from 400 to 599, or 0 for none"),
    "drop_after_commit": ((bool,), "true or false"),
}


def load_plan(path: Path, seed: int | None = None) -> FaultPlan:
    """A plan from a JSON file `{"seed": N, "rules": [{...}, ...]}`; a wrong field is an
    error naming it (`rules.0.probability`) and what it must hold."""
    try:
        data = loads_strict(read_capped_text(path, MAX_FAULTS_FILE_BYTES))
    except (OSError, ValueError, FileTooLarge) as error:
        raise HpcspecError(
            f"cannot read the faults file {path}: {error}", code="emulator-faults-file"
        ) from None
    if not isinstance(data, dict):
        raise _bad(path, ".", data, 'an object {"seed": N, "rules": [...]}')
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise _bad(path, "rules", rules, "a list of rules")
    if "seed" in data and (type(data["seed"]) is not int):
        raise _bad(path, "seed", data["seed"], "a whole number")
    return FaultPlan(
        tuple(_rule(path, index, item) for index, item in enumerate(rules)),
        int(seed if seed is not None else data.get("seed", 0)),
    )


def _rule(path: Path, index: int, item: object) -> FaultRule:
    if not isinstance(item, dict):
        raise _bad(path, f"rules.{index}", item, "an object of rule fields")
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise HpcspecError(
            f"{path}: rules.{index}: unknown fault rule keys {sorted(unknown)}",
            code="emulator-faults-file",
            hint=f"use {sorted(_RULE_KEYS)}",
        )
    for name, value in item.items():
        types, expected = _RULE_TYPES[name]
        wrong_type = not isinstance(value, types) or (bool not in types and isinstance(value, bool))
        if wrong_type or not _in_range(name, value):
            raise _bad(path, f"rules.{index}.{name}", value, expected)
    return FaultRule(**item)


def _in_range(name: str, value: Any) -> bool:
    if name == "probability":
        return bool(0 <= value <= 1)
    if name in ("latency_ms", "jitter_ms"):
        return bool(0 <= value < float("inf"))
    if name == "error_status":
        return bool(value == 0 or 400 <= value <= 599)
    return True


def _bad(path: Path, where: str, found: object, expected: str) -> HpcspecError:
    shown = json.dumps(found)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return HpcspecError(
        f"{path}: {where} must be {expected}, not {shown}",
        code="emulator-faults-file",
        hint="docs/emulator.md describes the faults file",
    )


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
