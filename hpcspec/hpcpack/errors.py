"""Typed errors of the HPC Pack REST API: what went wrong talking to the cluster.

One small family under `ApiError`, chosen by cause so callers decide by type, never by
parsing text (the httpx model): `NotFound`, `RefusedByState`, `AuthFailed`, `BadRequest`,
`ServerError`, `TransportError`, `InsecureConnection`, `BadResponse` and `OutcomeUnknown` —
a write that may or may not have happened, which the applier resolves by looking the object
up. Each carries the HTTP method, the path (without host or query), the status and the
scheduler's own message. None ever carries the Authorization header or a password: the
transport redacts every secret it knows from the scheduler's message before building one.

The `/hpc` API defines no error schema (`research/hpcpack-ground-truth.md` §1.5, §8); the
status → class mapping below is what the BVT observed ("4xx") refined by common HTTP use.
"""

from __future__ import annotations

from hpcspec.errors import HpcspecError

REDACTED = "********"


class ApiError(HpcspecError):
    """A request to the HPC Pack REST API failed."""

    default_code = "api-error"

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        scheduler_message: str = "",
        scheduler_code: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message=message, code=self.default_code, hint=hint)
        self.method = method
        self.path = path
        self.status = status
        self.scheduler_message = scheduler_message
        self.scheduler_code = scheduler_code

    def as_dict(self) -> dict[str, object]:
        return super().as_dict() | {
            "method": self.method,
            "request_path": self.path,
            "status": self.status,
            "scheduler_message": self.scheduler_message,
            "scheduler_code": self.scheduler_code,
        }


class NotFound(ApiError):
    """The job, task, subtask, node or node group does not exist (or is not visible)."""

    default_code = "not-found"


class RefusedByState(ApiError):
    """The scheduler refused because of the object's state (e.g. modifying a Finished job)."""

    default_code = "refused-by-state"


class AuthFailed(ApiError):
    """Wrong credentials (401) or not allowed to act on the object (403)."""

    default_code = "auth-failed"


class BadRequest(ApiError):
    """The scheduler rejected the request itself (an invalid value, an unknown property)."""

    default_code = "bad-request"


class ServerError(ApiError):
    """The server kept failing (5xx, 429) until hpcspec stopped retrying."""

    default_code = "server-error"


class BadResponse(ApiError):
    """The server answered with something that is not the documented shape."""

    default_code = "bad-response"


class TransportError(ApiError):
    """No usable answer: connection refused, TLS failure, timeout, a redirect refused."""

    default_code = "transport-error"


class InsecureConnection(ApiError):
    """Basic auth over plain http to a host that is not loopback: refused before sending."""

    default_code = "insecure-connection"


class OutcomeUnknown(ApiError):
    """A write was sent but no answer came back: it may or may not have taken effect.

    Never retried blindly; the applier finds out what happened (e.g. by a job's token).
    """

    default_code = "outcome-unknown"


_STATE_WORDS = ("state", "cannot be modified", "cannot be canceled", "could not be submitted")


def for_status(
    status: int,
    *,
    method: str,
    path: str,
    scheduler_message: str,
    scheduler_code: int | None = None,
) -> ApiError:
    """The error for an HTTP error status and the scheduler's (already redacted) message."""
    what = f"{method} {path} failed with HTTP {status}"
    message = f"{what}: {scheduler_message}" if scheduler_message else what
    lowered = scheduler_message.lower()

    def make(cls: type[ApiError], hint: str | None = None) -> ApiError:
        return cls(
            message,
            method=method,
            path=path,
            status=status,
            scheduler_message=scheduler_message,
            scheduler_code=scheduler_code,
            hint=hint,
        )

    if status == 404:
        return make(NotFound)
    if status == 401:
        return make(
            AuthFailed, "check the user name and password (HPCSPEC_USERNAME, --password-stdin)"
        )
    if status == 403:
        return make(
            AuthFailed, "the user may not act on this object; an administrator may use --as-user"
        )
    if status == 409 or (400 <= status < 500 and any(w in lowered for w in _STATE_WORDS)):
        return make(RefusedByState)
    if status == 429 or status >= 500:
        return make(ServerError, "the cluster is busy or failing; try again later")
    return make(BadRequest)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret (and nothing else) replaced by asterisks."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text
