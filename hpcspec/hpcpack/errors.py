"""Typed errors of the HPC Pack REST API: what went wrong talking to the cluster.

One small family under `ApiError`, chosen by cause so callers decide by type, never by
parsing text (the httpx model): `NotFound`, `RefusedByState` (and its kind `Conflict`),
`AuthFailed` (and `BasicAuthUnsupported`), `BadRequest` (a bad value), `ServerError`,
`TransportError`, `InsecureConnection`, `BadResponse` and `OutcomeUnknown` — a write that may
or may not have happened, which the applier resolves by looking the object up. Each carries
the HTTP method, the path (without host or query), the status and the server's own message.
None ever carries the Authorization header or a password: the transport redacts every secret
it knows from the server's message before building one.

The `/hpc` API defines no error schema or status codes (`research/hpcpack-ground-truth.md`
§1.5, §8: only "4xx + the scheduler's message" was observed). So `classify` decides by the
status where it is unambiguous (401/403, 404, gateway statuses) and otherwise by the
scheduler's own message templates (`scheduler_messages.json`, a classified subset of
`reference/hpcpack/derived/error-codes.json`), whatever body shape carried them
(`error_body.py`). The table, not an English sentence in code, is what recognises a message.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape as xml_escape

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import encoded_secrets

REDACTED = "********"


class ApiError(HpcspecError):
    """A request to the HPC Pack REST API failed."""

    default_code = "api-error"
    body_shape = ""  # which kind of error body the server sent (`error_body.BodyShape` value)

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


class Conflict(RefusedByState):
    """The object already exists or is in use by the scheduler (HTTP 409's other meaning).

    A refusal tied to the object's current state like `RefusedByState`, of which it is a
    kind, so a caller that handles state refusals handles it too.
    """

    default_code = "conflict"


class BasicAuthUnsupported(AuthFailed):
    """The head node offers only Negotiate/NTLM: HPC Pack 2016 before Update 3 (no Basic)."""

    default_code = "basic-auth-unsupported"


class Kind(Enum):
    """What a server's refusal means to a caller: the closed set behind the error classes."""

    NOT_FOUND = "not-found"
    REFUSED_BY_STATE = "refused-by-state"
    CONFLICT = "conflict"
    BAD_VALUE = "bad-value"
    AUTH = "auth"
    SERVER = "server"


_CLASSES: dict[Kind, type[ApiError]] = {
    Kind.NOT_FOUND: NotFound,
    Kind.REFUSED_BY_STATE: RefusedByState,
    Kind.CONFLICT: Conflict,
    Kind.BAD_VALUE: BadRequest,
    Kind.AUTH: AuthFailed,
    Kind.SERVER: ServerError,
}
_HINTS: dict[Kind, str] = {
    Kind.CONFLICT: "another client got there first or the scheduler is busy with it: "
    "look the object up, then try again",
    Kind.SERVER: "the cluster is busy or failing; try again later",
}
GATEWAY_STATUSES = frozenset({429, 502, 503, 504})  # answered by whatever is in front


@dataclass(frozen=True)
class Template:
    """One scheduler message template (`derived/error-codes.json`) and the kind it means."""

    name: str
    code: int
    kind: Kind
    pattern: re.Pattern[str]
    weight: int  # characters of literal text: the most specific match wins


@functools.cache
def templates() -> tuple[Template, ...]:
    """The scheduler message templates hpcspec classifies by (`scheduler_messages.json`)."""
    table = json.loads(
        resources.files("hpcspec.hpcpack").joinpath("scheduler_messages.json").read_text("utf-8")
    )
    return tuple(
        Template(
            name=entry["name"],
            code=int(entry["code"]),
            kind=Kind(entry["kind"]),
            pattern=_compile(entry["template"]),
            weight=len(_PLACEHOLDER.sub("", entry["template"])),
        )
        for entry in table["templates"]
    )


_PLACEHOLDER = re.compile(r"\{\d+\}")


def _compile(template: str) -> re.Pattern[str]:
    """A template as a regex: `{0}` matches any text, runs of spaces match any whitespace."""
    pieces = _PLACEHOLDER.split(template.replace("{{", "{").replace("}}", "}"))
    literal = [r"\s+".join(re.escape(word) for word in piece.split()) for piece in pieces]
    return re.compile(r"\s*.*?\s*".join(literal), re.IGNORECASE | re.DOTALL)


def match_template(texts: tuple[str, ...], code: int | None = None) -> Template | None:
    """The scheduler template an error's code or texts show (the most specific one), or None."""
    if code is not None:
        by_code = next((t for t in templates() if t.code == code), None)
        if by_code is not None:
            return by_code
    best: Template | None = None
    for template in templates():
        if (best is None or template.weight > best.weight) and any(
            template.pattern.search(text) for text in texts
        ):
            best = template
    return best


def classify(
    status: int,
    texts: tuple[str, ...],
    code: int | None = None,
    statuses: Mapping[int, Kind] | None = None,
) -> Kind:
    """The kind of an HTTP error answer: by its status, then by the scheduler's message.

    401/403 are always auth and 404 always not-found; 429/502/503/504 come from whatever
    stands in front of the scheduler and are always server errors. Otherwise a recognised
    scheduler message (by code, else by template) decides, so a 500 that carries "Jobs in the
    Finished state cannot be canceled" is a refusal, not a server failure. With none, a 4xx
    that the cluster's profile (`statuses`: what `hpcspec cluster check` saw it answer for one
    kind of refusal only) names is that kind; else 409 is refused-by-state, another 4xx a bad
    value and a 5xx a server error (never a refusal by status alone: a crash after a write
    must stay an unknown outcome).
    """
    if status in (401, 403):
        return Kind.AUTH
    if status == 404:
        return Kind.NOT_FOUND
    if status in GATEWAY_STATUSES:
        return Kind.SERVER
    found = match_template(texts, code)
    if found is not None:
        return found.kind
    if statuses and status < 500 and status in statuses:
        return statuses[status]
    if status == 409:
        return Kind.REFUSED_BY_STATE
    return Kind.BAD_VALUE if status < 500 else Kind.SERVER


def offered_schemes(www_authenticate: str | None) -> tuple[str, ...]:
    """The auth schemes a `WWW-Authenticate` header offers, lower-cased, in order."""
    if not www_authenticate:
        return ()
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', www_authenticate)
    schemes = []
    for part in unquoted.split(","):
        words = part.split()
        if words and "=" not in words[0]:
            schemes.append(words[0].lower())
    return tuple(dict.fromkeys(schemes))


def for_status(
    status: int,
    *,
    method: str,
    path: str,
    scheduler_message: str,
    scheduler_code: int | None = None,
    texts: tuple[str, ...] = (),
    www_authenticate: str | None = None,
    html: bool = False,
    statuses: Mapping[int, Kind] | None = None,
) -> ApiError:
    """The error for an HTTP error status and the server's (already redacted) message."""
    what = f"{method} {path} failed with HTTP {status}"
    message = f"{what}: {scheduler_message}" if scheduler_message else what
    kind = classify(status, texts or (scheduler_message,), scheduler_code, statuses)
    hint = _HINTS.get(kind)
    cls = _CLASSES[kind]
    schemes = offered_schemes(www_authenticate)
    if status == 401 and schemes and "basic" not in schemes:
        cls, hint = BasicAuthUnsupported, _NO_BASIC_HINT
        offered = ", ".join(s.capitalize() if s != "ntlm" else "NTLM" for s in schemes)
        message = (
            f"{what}: the cluster does not accept Basic authentication (it offers {offered}); "
            "HPC Pack added Basic auth to the /hpc REST API in 2016 Update 3 (5.3.6435)"
        )
    elif status == 401:
        hint = "check the user name and password (HPCSPEC_USERNAME, --password-stdin)"
    elif status == 403:
        hint = "the user may not act on this object; an administrator may use --as-user"
    elif status == 404 and html:
        hint = (
            "the web server has no such page: check that the cluster URL is the REST API's "
            "(https://headnode/hpc) and that the head node runs HPC Pack 2016 Update 3 or later"
        )
    return cls(
        message,
        method=method,
        path=path,
        status=status,
        scheduler_message=scheduler_message,
        scheduler_code=scheduler_code,
        hint=hint,
    )


_NO_BASIC_HINT = (
    "update the head node to HPC Pack 2016 Update 3 or later (or HPC Pack 2019), or ask its "
    "administrator to enable Basic authentication for the /hpc web application in IIS"
)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret (and nothing else) replaced by asterisks, in every form a
    server may quote it back in (`quoted_forms`): a body that echoes the request escapes it."""
    forms = {form for secret in secrets if secret for form in quoted_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    if encoded_secrets.quotes_a_secret(text, secrets):  # every character encoded, base64…
        return WITHHELD
    return text


WITHHELD = "(the server's message is withheld: it quotes a secret in an encoded form)"


@functools.lru_cache(maxsize=256)
def quoted_forms(secret: str) -> frozenset[str]:
    """`secret` as sent, and as an error body may quote it: escaped for XML or HTML (the job
    XML a create sends), for JSON (ASCII-only or not, and with .NET's web-safe `\\u003c`
    escapes, in either hex case) up to twice (a JSON body quoted in a JSON message), XML
    inside a JSON string, and URL-encoded."""
    marked = {
        secret,
        xml_escape(secret),
        xml_escape(secret, {'"': "&quot;"}),
        xml_escape(secret, {'"': "&quot;", "'": "&apos;"}),
        html.escape(secret),
    }
    forms = marked | {quote(secret, safe=""), quote_plus(secret)}
    for _ in range(2):  # the client's own JSON body, quoted in a JSON error message
        forms |= {escaped for text in forms for escaped in _json_forms(text)}
    return frozenset(form for form in forms if form)


def _json_forms(text: str) -> tuple[str, ...]:
    return (
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        _web_json(text, upper=False),
        _web_json(text, upper=True),
    )


def _web_json(text: str, *, upper: bool) -> str:
    """JSON string content as .NET's JavaScriptStringEncode writes it: `<>&'` and every
    non-ASCII character as `\\uXXXX`."""
    out = []
    for char in text:
        if char in "<>&'" or not 0x20 <= ord(char) < 0x7F:
            code = f"{ord(char):04x}" if ord(char) < 0x10000 else None
            if code is None:  # beyond the BMP: a surrogate pair, as JSON writes it
                out.append(json.dumps(char)[1:-1])
                continue
            out.append("\\u" + (code.upper() if upper else code))
        elif char in '"\\':
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
