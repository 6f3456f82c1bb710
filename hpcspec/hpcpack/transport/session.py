"""How a request reaches the wire: requests' session and adapter, made cheaper for a transport
whose every request goes to one origin with the same settings.

`prepare_request` and `prepared_url` make the `PreparedRequest` requests would make (tests
hold them equal) without re-checking what cannot change. `Adapter` remembers the connection
pool, its TLS settings and the URL form a proxy needs, per origin, instead of finding them
again from the URL on every request; its pools' connections read answers with
`headers.Response`. A `responses` mock replaces `HTTPAdapter.send`, so it still answers every
request. `guard_session` keeps Basic credentials on plain http to loopback peers only.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from hpcspec.hpcpack.endpoint import is_loopback_address
from hpcspec.hpcpack.transport.headers import Response


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


def prepared_url(prefix: str | None, path: str, params: Mapping[str, str] | None) -> str | None:
    """The URL `prepare_url` makes of the base URL `prefix` came from, the quoted `path` and
    `params`, built directly (a test holds them equal): requests would parse and re-quote
    text that quoting made valid already. None where only `prepare_url` can say (no prefix,
    a dot segment it would remove, a value that is not text)."""
    if prefix is None:
        return None
    quoted = quote(path, safe="/")
    if not quoted.startswith("/") or "/." in quoted:
        return None
    if not params:
        return prefix + quoted
    pairs = [(k, v) for k, v in params.items() if v is not None]
    if not all(type(k) is str and type(v) is str for k, v in pairs):
        return None
    query = urlencode(pairs)
    return f"{prefix}{quoted}?{query}" if query else prefix + quoted


# The pools' connections read answers with `headers.Response`.


def _putheader(connection: Any, header: str, *values: str) -> None:
    """urllib3's `putheader`, checking and encoding each header line once per connection: a
    line it has written before is written again as it was (a handful per connection; the
    Authorization line is kept no longer than the headers that hold it)."""
    if len(values) != 1:
        urllib3.connection.HTTPConnection.putheader(connection, header, *values)
        return
    checked: dict[tuple[str, str], bytes] = connection.__dict__.setdefault("_checked_lines", {})
    line = checked.get((header, values[0]))
    if line is not None:
        connection._output(line)  # what http.client's putheader writes for this header
        return
    written = len(connection._buffer)
    urllib3.connection.HTTPConnection.putheader(connection, header, *values)
    if len(connection._buffer) == written + 1 and len(checked) < _CHECKED_LINES:
        checked[header, values[0]] = connection._buffer[-1]


_CHECKED_LINES = 32


class _Connection(urllib3.connection.HTTPConnection):
    response_class = Response
    putheader = _putheader


class _TLSConnection(urllib3.connection.HTTPSConnection):
    response_class = Response
    putheader = _putheader  # type: ignore[assignment]


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


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
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}

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


# Plain http with Basic credentials: `endpoint.route` decided the URL names this machine; each
# connection's peer is checked again, so a name that now resolves elsewhere gets no credentials.


class _LoopbackOnlyConnection(_Connection):
    """An http connection that is closed unless its peer is a loopback address."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            peer = str(sock.getpeername()[0])
        except OSError as failure:
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"no peer: {failure}") from None
        if not is_loopback_address(peer):
            sock.close()
            raise urllib3.exceptions.NewConnectionError(
                self,
                f"{self.host} now resolves to {peer}, not a loopback address; the Basic auth "
                "credentials were not sent",
            )
        return sock


class _LoopbackOnlyPool(_Pool):
    ConnectionCls = _LoopbackOnlyConnection


class LoopbackOnlyAdapter(Adapter):
    """Mounted for `http://` when credentials go over plain http: loopback peers only."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "http": _LoopbackOnlyPool,
        }


def guard_session(session: requests.Session) -> None:
    """Make every plain-http connection of `session` refuse a peer that is not loopback."""
    session.mount("http://", LoopbackOnlyAdapter())
