"""`cluster check --record DIR`: the HTTP exchange as a redacted, replayable trace; and its replay.

Sessions of the transport's own `Session` type (`transport.py` is the only module that imports
requests). `RecordingSession` is the `Session` the check's transport sends
through: it notes every request (method, path, query, JSON body) and answer
(status, the headers the client reads, body), each under the probe that sent it, and never the
Authorization header; every secret it was given (the password, its Basic token) and every value
of a `Password` field or environment variable (but the check's own `HPCSPEC_CHECK`) is replaced
by `<redacted>`. `ReplaySession`
answers a client from such a trace, matching requests by method, path, query and body, so the
same probes reach the same decisions offline (`tests/check/test_replay.py`). `normalised` makes a
trace comparable across runs (job ids, times and the run's random name replaced).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hpcspec.hpcpack.transport import PreparedRequest, Response, Session

FORMAT = 1
REDACTED = "<redacted>"
_KEPT_HEADERS = ("Content-Type", "x-ms-continuation-queryId", "x-ms-row-count", "WWW-Authenticate")
_SECRET_FIELDS = ("password",)
CHECK_VARIABLE = "hpcspec_check"  # the one env variable and custom property the check writes


def _body_of(prepared: PreparedRequest) -> Any:
    raw = prepared.body
    if raw is None:
        return None
    text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _redact_pairs(body: Any, *, everything: bool) -> Any:
    """A `[{"Name","Value"}]` body with secret fields' values hidden (`everything`: every value
    but the check's own `hpcspec_check` marker, which is never a secret)."""
    if not isinstance(body, list):
        return body
    out = []
    for item in body:
        if isinstance(item, dict) and "Value" in item:
            name = str(item.get("Name", "")).lower()
            secret = name in _SECRET_FIELDS or (everything and name != CHECK_VARIABLE)
            out.append(item | {"Value": REDACTED} if secret else item)
        else:
            out.append(item)
    return out


class RecordingSession(Session):
    """A session that records each exchange (see the module docstring)."""

    def __init__(self, base_url: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self.secrets = tuple(s for s in secrets if s)
        self.exchanges: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._probe = threading.local()

    def probe(self, name: str | None) -> None:
        """Name the probe this thread's next requests belong to."""
        self._probe.name = name

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:
        response = super().send(request, **kwargs)
        parts = urlsplit(request.url or "")
        path = parts.path[len(self.base_path) :] if parts.path.startswith(self.base_path) else ""
        env = path.endswith("/envVariables")
        answer: Any = response.text
        is_json = False
        if "json" in response.headers.get("Content-Type", ""):
            with contextlib.suppress(ValueError):
                answer, is_json = response.json(), True
        exchange = {
            "probe": getattr(self._probe, "name", None) or "",
            "method": request.method,
            "path": path or parts.path,
            "query": sorted(parse_qsl(parts.query, keep_blank_values=True)),
            "body": _redact_pairs(_body_of(request), everything=env),
            "status": response.status_code,
            "headers": {h: response.headers[h] for h in _KEPT_HEADERS if h in response.headers},
            "answer": _redact_pairs(answer, everything=env),
            "json": is_json,
        }
        with self._lock:
            self.exchanges.append(json.loads(self._hide(json.dumps(exchange))))
        return response

    def _hide(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(json.dumps(secret)[1:-1], REDACTED)
        return text

    def trace(self, **about: Any) -> dict[str, Any]:
        """The trace: format, what the run was (`about`: prefix, start time) and exchanges."""
        return {"format": FORMAT, **about, "exchanges": list(self.exchanges)}


class ReplaySession(Session):
    """A session that answers from a recorded trace (unmatched requests: HTTP 599)."""

    def __init__(self, trace: Mapping[str, Any], base_url: str) -> None:
        super().__init__()
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self._answers: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        for exchange in trace["exchanges"]:
            self._answers[_key(exchange)].append(exchange)
        self.unmatched: list[str] = []
        self._lock = threading.Lock()

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:
        parts = urlsplit(request.url or "")
        asked = {
            "method": request.method,
            "path": parts.path[len(self.base_path) :],
            "query": sorted(parse_qsl(parts.query, keep_blank_values=True)),
            "body": _redact_pairs(_body_of(request), everything=parts.path.endswith("Variables")),
        }
        key = _key(json.loads(json.dumps(asked)))
        with self._lock:
            queue = self._answers.get(key)
            found = queue.popleft() if queue else None
            if found is None:
                self.unmatched.append(key)
        response = Response()
        response.request, response.url = request, request.url or ""
        if found is None:
            response.status_code = 599
            response._content = b"no recorded answer"
            return response
        response.status_code = found["status"]
        response.headers.update(found["headers"])
        answer = found["answer"]
        text = json.dumps(answer) if found["json"] else str(answer)
        response._content = text.encode("utf-8")
        response.encoding = "utf-8"
        return response


def _key(exchange: Mapping[str, Any]) -> str:
    shown = [exchange["method"], exchange["path"], exchange["query"], exchange["body"]]
    return json.dumps(shown, sort_keys=True)


_TIME = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}( [AP]M)?")
_ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


_PASSING = ("Submitted", "Validating", "Canceling")  # states a wait reads a varying number of times


def _waiting(exchange: Mapping[str, Any]) -> bool:
    """A state read that saw a passing state (how many a wait makes depends on timing)."""
    answer = exchange["answer"]
    return (
        exchange["method"] == "GET"
        and exchange["query"] == [["properties", "State"]]
        and isinstance(answer, list)
        and any(isinstance(p, dict) and p.get("Value") in _PASSING for p in answer)
    )


def normalised(trace: Mapping[str, Any]) -> dict[str, Any]:
    """The trace with what differs between two runs of the same probes masked: times, the run's
    random name prefix, continuation tokens, and state reads that saw a passing state while
    waiting. Job ids are kept: run one probe at a time on a fresh emulator, the same probes get
    the same ids."""
    prefix = str(trace.get("prefix", ""))
    text = json.dumps(trace["exchanges"], sort_keys=True)
    if prefix:
        text = text.replace(prefix, "hpcspec-check-<run>-")
    exchanges = [e for e in json.loads(_TIME.sub("<time>", _ISO.sub("<time>", text)))
                 if not _waiting(e)]  # fmt: skip
    for exchange in exchanges:
        headers = exchange["headers"]
        if "x-ms-continuation-queryId" in headers:
            headers["x-ms-continuation-queryId"] = "<token>"
        exchange["query"] = [[k, "<token>" if k == "queryId" else v] for k, v in exchange["query"]]
    return {"format": FORMAT, "exchanges": exchanges}
