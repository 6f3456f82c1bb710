"""How bytes move to and from the HPC Pack REST API: the only module that imports requests.

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

Sleep, clock and random source are injectable so tests run without waiting. A request reaches
the wire at less cost than through requests' own `Session.send`, with the same result:
`prepare_request` makes the `PreparedRequest` requests would make (a test holds them equal)
without re-checking what cannot change, and `Adapter` remembers per origin the pool, its TLS
settings and the URL form a proxy needs; its pools' connections are `connections.py`'s. A
`responses` mock replaces `HTTPAdapter.send`, so it still answers every request.
"""

from __future__ import annotations

import json
import random
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from hpcspec import __version__
from hpcspec.hpcpack import answers, endpoint, errors
from hpcspec.hpcpack.connections import LoopbackOnlyPool, Pool, TLSPool, prepared_url
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
            tried = answers.Try(
                method, path, attempt, deadline, retry, self.options.retry, self._clock,
                self._jitter, hidden,
            )  # fmt: skip
            try:
                response = self._send(method, path, params, body)
            except requests.RequestException as failure:
                tls = isinstance(failure, requests.exceptions.SSLError)
                never_sent = _never_sent(failure)
                wait = answers.after_failure(
                    tried, _describe(failure), tls=tls, never_sent=never_sent
                )
            else:
                status, content, headers = response.status_code, response.content, response.headers
                if status < 300:
                    return answers.reply(method, path, status, content, headers, hidden)
                wait = answers.after_status(tried, status, content, headers, self.statuses)
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


def prepare_request(
    method: str,
    url: str,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str],
    data: bytes | None,
    jar: requests.cookies.RequestsCookieJar,
    *,
    checked: bool = False,
    ready: bool = False,
) -> requests.PreparedRequest:
    """The request `PreparedRequest.prepare` makes of these parts (a test holds them equal),
    without its work that changes nothing here: headers already `checked` are not checked
    again, an empty cookie jar gives no Cookie header, and there is no auth to prepare (the
    URL never carries credentials: `endpoint.route` refuses them). A `ready` URL is one
    `prepared_url` made: what `prepare_url` makes of it already."""
    prepared = requests.PreparedRequest()
    prepared.method = method
    if ready:
        prepared.url = url
    else:
        prepared.prepare_url(url, dict(params) if params else None)
    if checked:
        prepared.headers = requests.structures.CaseInsensitiveDict(headers)
    else:  # requests checks every name and value (and raises what it always raised)
        prepared.prepare_headers(headers)
    if len(jar):
        prepared.prepare_cookies(jar)
    else:
        prepared._cookies = jar  # type: ignore[attr-defined]
    body = data or None  # what `prepare_body` and `prepare_content_length` make of bytes
    if body is not None:
        prepared.headers["Content-Length"] = str(len(body))
    elif method not in ("GET", "HEAD"):
        prepared.headers["Content-Length"] = "0"
    prepared.body = body
    return prepared


_PROBE = "/probe"


def url_prefix(base_url: str) -> str | None:
    """What `prepare_url` makes of the base URL (the host IDNA-encoded, the path normalised),
    for `prepared_url`; None when the base has a query or fragment a path cannot follow."""
    parts = urlsplit(base_url)
    if parts.query or parts.fragment or "#" in base_url or "?" in base_url:
        return None
    probe = requests.PreparedRequest()
    probe.prepare_url(base_url + _PROBE, None)
    url = str(probe.url)
    return url[: -len(_PROBE)] if url.endswith(_PROBE) else None


class Adapter(HTTPAdapter):
    """requests' adapter, remembering what is the same for every request to one origin (the
    connection pool, its TLS settings, whether a proxy needs the full URL) instead of parsing
    the URL two more times per request to find it again; and extracting cookies only from an
    answer that sets one."""

    def __init__(self) -> None:
        super().__init__()
        # (origin "scheme://netloc/", verify, cert, proxies) -> (pool, full URL to a proxy)
        self._known: tuple[tuple[str, object, object, object], Any, bool] | None = None

    def _remembered(self, url: str, verify: object, cert: object, proxies: object) -> Any:
        known = self._known
        if known is None or not url.startswith(known[0][0]) or "#" in url:
            return None
        if known[0][1:] != (verify, cert, proxies) or known[1].pool is None:  # closed
            return None
        return known

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Any = None,
        cert: Any = None,
    ) -> Any:
        url = str(request.url)
        known = self._remembered(url, verify, cert, proxies)
        if known is not None:
            return known[1]
        pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        self.cert_verify(pool, url, verify, cert)
        end = url.find("/", url.find("://") + 3)
        if end > 0:
            full = super().request_url(request, proxies) != request.path_url
            self._known = ((url[: end + 1], verify, cert, proxies), pool, full)
        return pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        known = self._known
        if known is not None and known[1] is conn and known[0][1:3] == (verify, cert):
            return  # set on this pool when it was first chosen, by the same settings
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        url = str(request.url)
        known = self._known
        if known is not None and not known[2] and url.startswith(known[0][0]) and "#" not in url:
            return url[len(known[0][0]) - 1 :]  # the path and query: `path_url`
        return super().request_url(request, proxies)

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        headers = getattr(resp, "headers", {})
        if "Set-Cookie" in headers or "Set-Cookie2" in headers:
            return super().build_response(req, resp)
        response = requests.Response()  # what requests builds, but its cookie extraction
        response.status_code = getattr(resp, "status", None)  # type: ignore[assignment]
        response.headers = requests.structures.CaseInsensitiveDict(headers)
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url.decode("utf-8") if isinstance(req.url, bytes) else str(req.url)
        response.request = req
        response.connection = self
        return response


def new_session() -> requests.Session:
    """A session whose adapters are `Adapter`s."""
    session = requests.Session()
    session.mount("https://", Adapter())
    session.mount("http://", Adapter())
    return session


class LoopbackOnlyAdapter(Adapter):
    """Mounted for `http://` when credentials go over plain http: loopback peers only."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "http": LoopbackOnlyPool,
        }


def guard_session(session: requests.Session) -> None:
    """Make every plain-http connection of `session` refuse a peer that is not loopback."""
    session.mount("http://", LoopbackOnlyAdapter())


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
