"""What the transport is given and gives back, without requests: where the cluster is and
how to reach it (`TransportOptions`, `Credentials`, `RetryPolicy`), a decoded answer
(`Reply`), and the statuses a request is retried on. `transport`, the only package that
imports requests, re-exports them; config builds options without loading the HTTP stack.
"""

from __future__ import annotations

import base64
import email.utils
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hpcspec.errors import UsageError
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


def header_value_problem(value: str) -> str | None:
    """What keeps `value` from going out as an HTTP header value (None: nothing does): a
    control character (a line break would end the header), surrounding whitespace (dropped
    or refused on the way), or a character outside Latin-1 (http.client's encoding)."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        return "it holds a control character (a line break would end the HTTP header)"
    if value != value.strip():
        return "it starts or ends with whitespace"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return "it holds a character outside Latin-1, which an HTTP header cannot carry"
    return None


def user_id_problem(user: str) -> str | None:
    """What keeps `user` from being a Basic-auth user-id (None: nothing does): RFC 7617 allows
    no colon (it ends the user-id) and no control character."""
    if ":" in user:
        return "it holds a colon, which Basic authentication reads as the end of the user name"
    if any(unicodedata.category(c) == "Cc" for c in user):
        return "it holds a control character, which Basic authentication does not allow"
    return None


def check_user_names(
    user: str | None, user_origin: str, as_user: str | None, as_user_origin: str
) -> None:
    """Refuse a Basic user name or an as-user that cannot go out on a request: a usage error
    naming where it came from, before any request (a line break in --as-user once failed only
    after five retries, as a transport error)."""
    why = user_id_problem(user) if user is not None else None
    name, origin = "user name", user_origin
    if why is None and as_user is not None:
        why = header_value_problem(as_user)
        name, origin = "as-user (the x-ms-as-user header)", as_user_origin
    if why is not None:
        raise UsageError(
            f"the {name} from {origin} cannot be sent: {why}",
            code="invalid-user-name",
            hint="write the account as DOMAIN\\user",
        )


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
