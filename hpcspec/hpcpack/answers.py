"""What an answer, or its absence, means for one try of a transport request: the `Reply`, the
error to raise, or the wait before the next try — the retry and error rules of `transport.py`'s
docstring, as plain values in and out (the transport hands over what requests gave it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import NamedTuple

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import errors
from hpcspec.hpcpack.answer_body import decode_body
from hpcspec.hpcpack.error_body import BodyShape, read_error_body
from hpcspec.hpcpack.transport_options import (
    IDEMPOTENT,
    READ_RETRY_STATUSES,
    RETRY_STATUSES,
    Reply,
    RetryPolicy,
    retry_after,
)

log = logging.getLogger("hpcspec.hpcpack.transport")  # the transport's log


class Try(NamedTuple):
    """One try of a request: what it was, and what decides whether another may follow (a
    NamedTuple: one is made per request, and a frozen dataclass costs four times as much)."""

    method: str
    path: str
    attempt: int
    deadline: float
    retry: bool
    policy: RetryPolicy
    clock: Callable[[], float]
    jitter: Callable[[], float]
    hidden: tuple[str, ...]  # secrets redacted from every text


def after_failure(tried: Try, description: str, *, tls: bool, never_sent: bool) -> float:
    """The wait before the next try after no answer came, or the error to raise."""
    method, path = tried.method, tried.path
    reason = errors.redact(description, tried.hidden)
    if tls:
        raise errors.TransportError(
            f"{method} {path}: TLS failed: {reason}",
            hint="give the cluster's CA with --ca-bundle (or HPCSPEC_CA_BUNDLE)",
            method=method,
            path=path,
        )
    if method not in IDEMPOTENT and not never_sent:
        raise errors.OutcomeUnknown(
            f"{method} {path} was sent but no answer came back ({reason}); "
            "it may or may not have taken effect",
            hint="look the object up before trying again",
            method=method,
            path=path,
        )
    wait = tried.policy.delay(tried.attempt, None, tried.jitter)
    if not tried.retry or tried.attempt >= tried.policy.attempts or _late(tried, wait):
        raise errors.TransportError(
            f"{method} {path} failed after {tried.attempt} attempt(s): {reason}",
            hint="check the cluster URL, the network and --request-timeout",
            method=method,
            path=path,
        )
    log.info("%s %s: %s; retrying in %.1f s", method, path, reason, wait)
    return wait


def after_status(
    tried: Try,
    status: int,
    content: bytes,
    headers: Mapping[str, str],
    statuses: Mapping[int, errors.Kind],
) -> float:
    """The wait before the next try after an error status, or the error to raise."""
    method, path = tried.method, tried.path
    if 300 <= status < 400:
        raise errors.TransportError(
            f"{method} {path} was redirected (HTTP {status}); hpcspec does not follow "
            "redirects, because the credentials would go along",
            method=method,
            path=path,
            status=status,
            hint="give the final URL of the REST API as the cluster URL",
        )
    said = read_error_body(content, headers.get("Content-Type"))
    message = errors.redact(said.message, tried.hidden)
    code = said.code
    error = errors.for_status(
        status,
        method=method,
        path=path,
        scheduler_message=message,
        scheduler_code=code,
        texts=tuple(errors.redact(t, tried.hidden) for t in said.texts),
        www_authenticate=headers.get("WWW-Authenticate"),
        html=said.shape is BodyShape.HTML,
        statuses=statuses,
    )
    error.body_shape = said.shape.value
    if not isinstance(error, errors.ServerError):
        raise error  # a definite answer (a 5xx that names a refusal included)
    retried = READ_RETRY_STATUSES if method == "GET" else RETRY_STATUSES
    if method in IDEMPOTENT and status in retried and tried.retry:
        said_wait = retry_after(headers.get("Retry-After"))
        wait = tried.policy.delay(tried.attempt, said_wait, tried.jitter)
        within = not _late(tried, wait)
        if tried.attempt < tried.policy.attempts and within:
            log.info("%s %s: HTTP %s; retrying in %.1f s", method, path, status, wait)
            return wait
    if method not in IDEMPOTENT and status >= 500:
        raise errors.OutcomeUnknown(
            f"{method} {path} failed with HTTP {status} after it was sent; "
            f"it may or may not have taken effect{': ' + message if message else ''}",
            method=method,
            path=path,
            status=status,
            scheduler_message=message,
            scheduler_code=code,
            hint="look the object up before trying again",
        )
    raise error


def reply(
    method: str,
    path: str,
    status: int,
    content: bytes,
    headers: Mapping[str, str],
    hidden: tuple[str, ...],
) -> Reply:
    """A successful answer, its body decoded (an unreadable one is `BadResponse`)."""
    log.debug("%s %s -> HTTP %s", method, path, status)
    try:
        body = decode_body(content, headers.get("Content-Type"))
    except (ValueError, HpcspecError) as bad:
        why = errors.redact(bad.message if isinstance(bad, HpcspecError) else str(bad), hidden)
        raise errors.BadResponse(
            f"{method} {path}: the answer could not be read: {why}",
            method=method,
            path=path,
            status=status,
        ) from None
    return Reply(status, dict(headers), body)


def _late(tried: Try, wait: float) -> bool:
    return tried.clock() + wait > tried.deadline
