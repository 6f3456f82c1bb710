"""How bytes move to and from the HPC Pack REST API: the only package that imports requests.

`Transport.request(method, path, params=, body=)` sends one logical request under the base URL
(`https://head/hpc`) and returns a `Reply` whose body is already decoded (JSON, or the
DataContract XML the server may send instead, parsed safely). It owns every HTTP rule of
DESIGN.md §6:

- Basic auth, the credentials encoded as UTF-8 (RFC 7617 `charset="UTF-8"`); TLS verified (a
  custom CA bundle if given; `insecure` only when asked); Basic auth over plain http refused
  before any request unless the host resolves only to loopback, and then sent directly, never
  through a proxy (`endpoint.py`); redirects never followed (credentials would go along);
  explicit connect/read timeouts; `x-ms-as-user`; `Accept: application/json`;
  `User-Agent: hpcspec/<version>`. Proxy and CA-bundle environment variables (requests' rules)
  are read once, when the transport is made.
- Retries. GET and PUT (idempotent here) are retried on connection errors, timeouts and
  429/502/503/504 with full-jitter exponential backoff, bounded in attempts and total time,
  honouring `Retry-After`; a GET also on a 500 that names no refusal (a read changes nothing,
  and one failed read must not abort a whole apply). A POST is retried only when it provably
  never reached the server (the connection could not be opened); any other POST failure
  without an answer raises `OutcomeUnknown`. An HTTP error answer to a POST is the server's
  definite refusal.
- Errors: every error body a server sends (scheduler JSON, ASP.NET, XML faults, IIS pages,
  text; `error_body.py`) keeps the server's message and is classified by status and the
  scheduler's message templates (`errors.classify`, with the statuses the cluster's profile
  says it uses for one kind of refusal); a 5xx whose message is a recognised
  refusal is that refusal, not an unknown outcome. A 401 offering only Negotiate/NTLM is
  `BasicAuthUnsupported` (HPC Pack 2016 before Update 3).
- Secrets: the password (and any extra secret of a request, such as a submit Password) is
  redacted from every error and log line; headers are never logged or put in errors.

Sleep, clock and random source are injectable so tests run without waiting. How a request
reaches the wire at less cost per request than requests' own `Session.send` (with the same
result): `session.py`, `headers.py`.
"""

from __future__ import annotations

import json
import logging
import random
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests
import urllib3

from hpcspec import __version__
from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import endpoint, errors
from hpcspec.hpcpack.error_body import BodyShape, read_error_body
from hpcspec.hpcpack.transport.body import decode_body
from hpcspec.hpcpack.transport.session import (
    guard_session,
    new_session,
    prepare_request,
    prepared_url,
    url_prefix,
)
from hpcspec.hpcpack.transport_options import (
    IDEMPOTENT,
    READ_RETRY_STATUSES,
    RETRY_STATUSES,
    Credentials,
    Reply,
    RetryPolicy,
    TransportOptions,
    basic_token,
    check_url,
    retry_after,
)

# What callers import from here: the transport, requests' types, and what it is given.
__all__ = ["PreparedRequest", "Response", "Session", "Transport", "guard_session"]
__all__ += ["prepare_request", "prepared_url", "url_prefix"]
__all__ += ["Credentials", "Reply", "RetryPolicy", "TransportOptions", "basic_token", "check_url"]
__all__ += ["IDEMPOTENT", "READ_RETRY_STATUSES", "RETRY_STATUSES"]

# requests' own types, for what extends a session (hpcpack/check/trace.py) without importing
# requests itself
Session = requests.Session
Response = requests.Response
PreparedRequest = requests.PreparedRequest

log = logging.getLogger("hpcspec.hpcpack.transport")


class Transport:
    """One HTTP session to one cluster; see the module docstring for its rules."""

    def __init__(
        self,
        options: TransportOptions,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        statuses: Mapping[int, errors.Kind] | None = None,
    ) -> None:
        self.options = options
        # The cluster's own error statuses, from its profile (`ClusterProfile.status_kinds`).
        self.statuses: Mapping[int, errors.Kind] = dict(statuses or {})
        self.route = endpoint.route(
            options.base_url, with_credentials=options.credentials is not None
        )
        self.base_url = self.route.base_url
        self._session = session or new_session()
        if options.credentials is not None and self.route.loopback_http:
            guard_session(self._session)
        # A session whose `send` is requests' own adds nothing to a request of this transport
        # (no hooks, no redirects followed, the environment read once): its adapter is called
        # directly (a `responses` mock still answers: it replaces the adapter's `send`). A
        # session that extends `send` (the check's recording) is sent through.
        self._adapter = self._session.get_adapter(self.base_url)
        self._url_prefix = url_prefix(self.base_url)
        self._direct = type(self._session).send is requests.Session.send
        verify: bool | str = False if options.insecure else (options.ca_bundle or True)
        # What the environment says (HTTPS_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE), read once:
        # requests would otherwise walk os.environ on every request.
        settings = self._session.merge_environment_settings(self.base_url, {}, None, verify, None)
        self._proxies = self.route.proxies(settings["proxies"])
        self._verify: bool | str = settings["verify"] if settings["verify"] is not None else True
        self._session.trust_env = False
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self._secrets: tuple[str, ...] = ()
        self._headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": f"hpcspec/{__version__}",
        }
        if options.as_user:
            self._headers["x-ms-as-user"] = options.as_user
        if options.credentials:  # the password, and the Authorization value it makes
            user, password = options.credentials.username, options.credentials.password
            token = basic_token(user, password)
            self._headers["Authorization"] = f"Basic {token}"
            self._secrets = (password, token)
        self._json_headers = self._headers | {"Content-Type": "application/json; charset=utf-8"}
        try:  # requests checks the headers of every request; these are checked once
            requests.PreparedRequest().prepare_headers(self._json_headers)
            self._headers_valid = True
        except requests.exceptions.InvalidHeader:  # then every request raises it, as before
            self._headers_valid = False
        self._adapter_options: dict[str, Any] = {
            "verify": self._verify,
            "proxies": self._proxies,
            "cert": None,
            "stream": False,
            "timeout": (options.connect_timeout, options.read_timeout),
        }
        self._send_options = self._adapter_options | {"allow_redirects": False}

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        secrets: tuple[str, ...] = (),
        retry: bool = True,
    ) -> Reply:
        """Send one request (retrying as the rules allow) and return the decoded answer."""
        method = method.upper()
        hidden = self._secrets + tuple(s for s in secrets if s)
        deadline = self._clock() + self.options.retry.total
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, path, params, body)
            except requests.RequestException as failure:
                wait = self._after_failure(method, path, failure, attempt, deadline, retry, hidden)
            else:
                if response.status_code < 300:
                    return self._reply(method, path, response, hidden)
                wait = self._after_status(method, path, response, attempt, deadline, retry, hidden)
            self._sleep(wait)

    def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, body: object
    ) -> requests.Response:
        headers = self._headers
        data = None
        if body is not None:
            headers = self._json_headers
            data = json.dumps(body).encode("utf-8")
        # Prepared here and sent with Session.send: Session.request would merge the same
        # session settings into every request again (a third of the client's time per call).
        jar, checked = self._session.cookies, self._headers_valid
        url = prepared_url(self._url_prefix, path, params)
        if url is not None:
            prepared = prepare_request(
                method, url, None, headers, data, jar, checked=checked, ready=True
            )
        else:
            url = self.base_url + quote(path, safe="/")
            prepared = prepare_request(method, url, params, headers, data, jar, checked=checked)
        if not self.options.insecure:
            return self._dispatch(prepared)
        with warnings.catch_warnings():  # asked for, and printed by the CLI instead
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return self._dispatch(prepared)

    def _dispatch(self, prepared: requests.PreparedRequest) -> requests.Response:
        """What `Session.send` does for this transport's requests: the adapter sends, a cookie
        the server sets is kept for the next requests, and the body is read."""
        if not self._direct:
            return self._session.send(prepared, **self._send_options)
        response = self._adapter.send(prepared, **self._adapter_options)
        if "Set-Cookie" in response.headers or "Set-Cookie2" in response.headers:
            jar = self._session.cookies
            requests.cookies.extract_cookies_to_jar(jar, prepared, response.raw)  # type: ignore[no-untyped-call]
        response.content  # noqa: B018  (read now, as Session.send does, so the pool gets it back)
        return response

    def _after_failure(
        self,
        method: str,
        path: str,
        failure: requests.RequestException,
        attempt: int,
        deadline: float,
        retry: bool,
        hidden: tuple[str, ...],
    ) -> float:
        """The wait before the next try after no answer came, or the error to raise."""
        reason = errors.redact(_describe(failure), hidden)
        fields: dict[str, Any] = {"method": method, "path": path}
        if isinstance(failure, requests.exceptions.SSLError):
            raise errors.TransportError(
                f"{method} {path}: TLS failed: {reason}",
                hint="give the cluster's CA with --ca-bundle (or HPCSPEC_CA_BUNDLE)",
                **fields,
            )
        never_sent = _never_sent(failure)
        if method not in IDEMPOTENT and not never_sent:
            raise errors.OutcomeUnknown(
                f"{method} {path} was sent but no answer came back ({reason}); "
                "it may or may not have taken effect",
                hint="look the object up before trying again",
                **fields,
            )
        wait = self.options.retry.delay(attempt, None, self._jitter)
        if not retry or attempt >= self.options.retry.attempts or self._clock() + wait > deadline:
            raise errors.TransportError(
                f"{method} {path} failed after {attempt} attempt(s): {reason}",
                hint="check the cluster URL, the network and --request-timeout",
                **fields,
            )
        log.info("%s %s: %s; retrying in %.1f s", method, path, reason, wait)
        return wait

    def _after_status(
        self,
        method: str,
        path: str,
        response: requests.Response,
        attempt: int,
        deadline: float,
        retry: bool,
        hidden: tuple[str, ...],
    ) -> float:
        """The wait before the next try after an error status, or the error to raise."""
        status = response.status_code
        if 300 <= status < 400:
            raise errors.TransportError(
                f"{method} {path} was redirected (HTTP {status}); hpcspec does not follow "
                "redirects, because the credentials would go along",
                method=method,
                path=path,
                status=status,
                hint="give the final URL of the REST API as the cluster URL",
            )
        said = read_error_body(response.content, response.headers.get("Content-Type"))
        message = errors.redact(said.message, hidden)
        code = said.code
        error = errors.for_status(
            status,
            method=method,
            path=path,
            scheduler_message=message,
            scheduler_code=code,
            texts=tuple(errors.redact(t, hidden) for t in said.texts),
            www_authenticate=response.headers.get("WWW-Authenticate"),
            html=said.shape is BodyShape.HTML,
            statuses=self.statuses,
        )
        error.body_shape = said.shape.value
        if not isinstance(error, errors.ServerError):
            raise error  # a definite answer (a 5xx that names a refusal included)
        retried = READ_RETRY_STATUSES if method == "GET" else RETRY_STATUSES
        if method in IDEMPOTENT and status in retried and retry:
            said_wait = retry_after(response.headers.get("Retry-After"))
            wait = self.options.retry.delay(attempt, said_wait, self._jitter)
            within = self._clock() + wait <= deadline
            if attempt < self.options.retry.attempts and within:
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

    def _reply(
        self, method: str, path: str, response: requests.Response, hidden: tuple[str, ...]
    ) -> Reply:
        log.debug("%s %s -> HTTP %s", method, path, response.status_code)
        try:
            body = decode_body(response.content, response.headers.get("Content-Type"))
        except (ValueError, HpcspecError) as bad:
            why = errors.redact(bad.message if isinstance(bad, HpcspecError) else str(bad), hidden)
            raise errors.BadResponse(
                f"{method} {path}: the answer could not be read: {why}",
                method=method,
                path=path,
                status=response.status_code,
            ) from None
        return Reply(response.status_code, dict(response.headers), body)


def _never_sent(failure: requests.RequestException) -> bool:
    """True when the connection could not even be opened (so nothing reached the server)."""
    if isinstance(failure, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(failure, requests.exceptions.ConnectionError):
        return False
    reason: object = failure.args[0] if failure.args else None
    reason = getattr(reason, "reason", reason)  # MaxRetryError wraps the cause
    return isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionRefusedError)


def _describe(failure: requests.RequestException) -> str:
    if isinstance(failure, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(failure, requests.exceptions.Timeout):
        return "timed out"
    reason: object = failure.args[0] if failure.args else failure
    reason = getattr(reason, "reason", reason)
    return f"{type(failure).__name__}: {reason}"
