"""What the transport is given and gives back, without requests: where the cluster is and
how to reach it (`TransportOptions`, `Credentials`, `RetryPolicy`), a decoded answer
(`Reply`), and the statuses a request is retried on. `transport`, the only package that
imports requests, re-exports them; config builds options without loading the HTTP stack.
"""

from __future__ import annotations

import base64
import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hpcspec.hpcpack import endpoint

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "PUT"})
READ_RETRY_STATUSES = RETRY_STATUSES | {500}  # a GET: nothing to take effect twice


@dataclass(frozen=True)
class Credentials:
    """A Basic-auth user (`DOMAIN\\user`) and password; the password never shows in a repr."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying an idempotent request (full-jitter exponential backoff)."""

    attempts: int = 5  # tries in all, the first one included
    base_delay: float = 0.5  # seconds; the n-th wait is random in [0, base * 2**(n-1)]
    max_delay: float = 20.0  # one wait is never longer (nor a Retry-After honoured beyond it)
    total: float = 90.0  # no new try starts after this many seconds

    def delay(self, attempt: int, said: float | None, draw: Callable[[], float]) -> float:
        """The wait before try `attempt + 1`: what the server `said` (Retry-After, capped),
        else a `draw` in [0, 1) of the full-jitter ceiling."""
        if said is not None:
            return min(said, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return float(draw() * ceiling)


@dataclass(frozen=True)
class TransportOptions:
    """Where the cluster is and how to talk to it."""

    base_url: str  # e.g. https://headnode/hpc
    credentials: Credentials | None = None
    as_user: str | None = None  # x-ms-as-user
    ca_bundle: str | None = None  # a PEM file or directory of CA certificates
    insecure: bool = False  # skip TLS verification (only when asked for)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = RetryPolicy()


@dataclass(frozen=True)
class Reply:
    """A successful answer: status, headers (case-insensitive) and the decoded body."""

    status: int
    headers: Mapping[str, str]
    body: object

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


def check_url(base_url: str, *, with_credentials: bool) -> str:
    """The base URL without a trailing slash, or the error that refuses it (`endpoint.route`)."""
    return endpoint.route(base_url, with_credentials=with_credentials).base_url


def basic_token(user: str, password: str) -> str:
    """The Basic credentials `user:password` as UTF-8, base64 (RFC 7617 `charset="UTF-8"`)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
