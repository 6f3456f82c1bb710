"""The transport prepares each request itself: exactly what `PreparedRequest.prepare` makes.

`transport.prepare_request` skips the parts of requests' preparing that cannot change anything
for the transport's requests (checking the same headers again, an empty cookie jar, auth from
a URL that never carries credentials). These tests hold the result equal to requests' own,
field by field, for any method, path, query, body and cookie jar; and they check the
environment's proxy settings still reach every request of a transport (issue 13 item 9).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import responses
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.transport import (
    Transport,
    TransportOptions,
    prepare_request,
    prepared_url,
    url_prefix,
)
from tests.hpcpack.client.conftest import BASE, FakeTime, make_client

HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": "hpcspec/0.1.0",
    "Authorization": "Basic SFBDXGFkbWluOnB3",
}
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _jar(cookies: list[tuple[str, str]]) -> requests.cookies.RequestsCookieJar:
    jar = requests.cookies.RequestsCookieJar()
    for name, value in cookies:
        jar.set(name, value, domain="head", path="/hpc")
    return jar


def _as_requests_prepares(
    method: str,
    url: str,
    params: dict[str, str] | None,
    headers: dict[str, str],
    data: bytes | None,
    jar: requests.cookies.RequestsCookieJar,
) -> requests.PreparedRequest:
    prepared = requests.PreparedRequest()
    query = dict(params) if params else None
    prepared.prepare(method, url, dict(headers), data=data, params=query, cookies=jar)
    return prepared


def _fields(prepared: requests.PreparedRequest) -> tuple[object, ...]:
    cookies = getattr(prepared, "_cookies", None)
    return (
        prepared.method,
        prepared.url,
        list(prepared.headers.items()),
        prepared.body,
        prepared.hooks,
        id(cookies),
    )


@given(
    method=st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE"]),
    path=_TEXT,
    params=st.none() | st.dictionaries(_TEXT, _TEXT, max_size=3),
    content_type=st.booleans(),
    data=st.none() | st.binary(max_size=20),
    cookies=st.lists(st.tuples(st.sampled_from(["ARRAffinity", "s"]), st.text("abc", max_size=3))),
    base=st.sampled_from([BASE, "http://127.0.0.1:8080/hpc", "https://héad.example/hpc"]),
)
def test_a_request_is_prepared_exactly_as_requests_prepares_it(
    method: str,
    path: str,
    params: dict[str, str] | None,
    content_type: bool,
    data: bytes | None,
    cookies: list[tuple[str, str]],
    base: str,
) -> None:
    url = base + quote("/jobs/" + path, safe="/")
    headers = HEADERS | (
        {"Content-Type": "application/json; charset=utf-8"} if content_type else {}
    )
    jar = _jar(cookies)
    expected = _fields(_as_requests_prepares(method, url, params, headers, data, jar))
    assert _fields(prepare_request(method, url, params, headers, data, jar, checked=True)) == (
        expected
    )
    assert _fields(prepare_request(method, url, params, headers, data, jar)) == expected


@given(
    path=st.lists(_TEXT | st.sampled_from([".", "..", "", "a.b", "%41", "~x"]), max_size=4),
    params=st.none() | st.dictionaries(_TEXT, _TEXT | st.none(), max_size=3),
    base=st.sampled_from(
        [BASE, "http://127.0.0.1:8080/hpc", "https://héad.example/hpc", "https://HEAD:443",
         "https://head/a/../hpc%7e", "https://head/hpc?x=1", "https://[::1]:9/hpc"]
    ),
)  # fmt: skip
def test_a_url_built_directly_is_the_url_requests_prepares(
    path: list[str], params: dict[str, str | None] | None, base: str
) -> None:
    full_path = "/" + "/".join(path)
    built = prepared_url(url_prefix(base), full_path, params)
    expected = requests.PreparedRequest()
    expected.prepare_url(base + quote(full_path, safe="/"), dict(params) if params else None)
    assert built is None or built == expected.url
    if "/." not in full_path and "?" not in base:  # the usual case is built directly
        assert built is not None


@pytest.mark.parametrize(
    ("name", "value"), [("x-ms-as-user", "HPC\\bob\r\nX-Evil: 1"), ("Bad:Name", "v")]
)
def test_headers_requests_refuses_are_refused_as_requests_refuses_them(
    name: str, value: str
) -> None:
    headers = HEADERS | {name: value}
    jar = _jar([])
    with pytest.raises(requests.exceptions.InvalidHeader) as ours:
        prepare_request("GET", BASE + "/jobs", None, headers, None, jar)
    with pytest.raises(requests.exceptions.InvalidHeader) as theirs:
        _as_requests_prepares("GET", BASE + "/jobs", None, headers, None, jar)
    assert str(ours.value) == str(theirs.value)


def test_an_as_user_requests_refuses_fails_every_request_before_it_is_sent(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    # As before the transport prepared requests itself: requests refuses the header, each try
    # fails the same way, and nothing reaches the wire.
    client = make_client(fake_time, as_user="HPC\\bob\nX-Injected: yes")
    with pytest.raises(errors.TransportError, match=r"after 4 attempt.*InvalidHeader.*return"):
        client.version()  # type: ignore[attr-defined]
    assert len(mocked.calls) == 0


def test_a_cookie_the_server_sets_goes_back_with_the_next_requests(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    # e.g. ARRAffinity from an IIS load balancer in front of the head nodes
    set_cookie = {"Set-Cookie": "ARRAffinity=node2; Path=/hpc"}
    mocked.add("GET", BASE + "/cluster/version", json="1", headers=set_cookie)
    mocked.add("GET", BASE + "/cluster/version", json="1")
    client = make_client(fake_time)
    client.version()  # type: ignore[attr-defined]
    client.version()  # type: ignore[attr-defined]
    assert "Cookie" not in mocked.calls[0].request.headers
    assert mocked.calls[1].request.headers["Cookie"] == "ARRAffinity=node2"


@pytest.fixture
def proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://tls-proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain-proxy.example:3128")
    return monkeypatch


def _proxies_of_each_request(transport: Transport, url: str, count: int = 3) -> list[object]:
    """The proxy requests chooses for each of `count` requests (None: sent directly)."""
    with responses.RequestsMock() as mocked:
        mocked.add("GET", url + "/cluster/version", json="1")
        for _ in range(count):
            transport.request("GET", "/cluster/version")
        return [
            requests.utils.select_proxy(call.request.url, call.request.req_kwargs["proxies"])
            for call in mocked.calls
        ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://head.example/hpc", "http://tls-proxy.example:3128"),
        # plain http without credentials to a host that is not this machine: as requests does
        ("http://head.example/hpc", "http://plain-proxy.example:3128"),
    ],
)
def test_the_environment_proxy_reaches_every_request_of_a_transport(
    proxy_environment: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    transport = Transport(TransportOptions(url))
    assert _proxies_of_each_request(transport, url) == [expected] * 3


def test_no_proxy_sends_every_request_directly(proxy_environment: pytest.MonkeyPatch) -> None:
    proxy_environment.setenv("NO_PROXY", "localhost,.example")
    transport = Transport(TransportOptions("https://head.example/hpc"))
    assert _proxies_of_each_request(transport, "https://head.example/hpc") == [None] * 3


def test_a_netrc_file_is_never_read_for_credentials(
    proxy_environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # docs/configuration.md: credentials come only from hpcspec's own sources
    netrc = tmp_path / "netrc"
    netrc.write_text("machine head.example login eve password from-netrc\n")
    netrc.chmod(0o600)
    proxy_environment.setenv("NETRC", str(netrc))
    proxy_environment.setenv("NO_PROXY", "*")
    transport = Transport(TransportOptions("https://head.example/hpc"))
    with responses.RequestsMock() as mocked:
        mocked.add("GET", "https://head.example/hpc/cluster/version", json="1")
        transport.request("GET", "/cluster/version")
        transport.request("GET", "/cluster/version")
        assert [c.request.headers.get("Authorization") for c in mocked.calls] == [None, None]
    # the same file is what requests itself would have sent
    assert requests.utils.get_netrc_auth("https://head.example/hpc") == ("eve", "from-netrc")
