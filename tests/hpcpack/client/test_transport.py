"""The transport's rules: retries and their bounds, POST exactly-once, TLS and http refusal."""

from __future__ import annotations

import base64
import socket

import pytest
import requests
import responses
import urllib3

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import errors
from hpcspec.hpcpack.transport import Credentials, RetryPolicy, Transport, TransportOptions
from tests.hpcpack.client.conftest import BASE, USER, FakeTime, make_client, props, sent


def _connect_refused() -> requests.exceptions.ConnectionError:
    """What requests raises when the TCP connection cannot be opened at all."""
    cause = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/hpc/jobs", cause)  # type: ignore[arg-type]
    )


def test_get_is_retried_on_503_with_growing_jittered_backoff(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time, jitter=0.5)
    url = BASE + "/cluster/version"
    mocked.add("GET", url, status=503)
    mocked.add("GET", url, status=503)
    mocked.add("GET", url, json="5.3.6450.0")
    assert client.version() == "5.3.6450.0"
    assert len(mocked.calls) == 3
    # full jitter: random(0.5) × base 1 s × 2**(n-1)
    assert fake_time.slept == [0.5, 1.0]


def test_full_jitter_never_exceeds_the_cap(mocked: responses.RequestsMock) -> None:
    fake = FakeTime()
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=3.0, total=1000.0)
    client = make_client(fake, retry=policy, jitter=0.999)
    mocked.add("GET", BASE + "/cluster/version", status=502)
    with pytest.raises(errors.ServerError) as failure:
        client.version()
    assert len(mocked.calls) == 6
    assert fake.slept == pytest.approx([0.999, 1.998, 2.997, 2.997, 2.997])
    assert failure.value.status == 502 and failure.value.method == "GET"


def test_retries_stop_at_the_total_time_budget(mocked: responses.RequestsMock) -> None:
    fake = FakeTime()
    policy = RetryPolicy(attempts=50, base_delay=4.0, max_delay=4.0, total=10.0)
    client = make_client(fake, retry=policy, jitter=1.0)
    mocked.add("GET", BASE + "/cluster/version", status=504)
    with pytest.raises(errors.ServerError):
        client.version()
    assert sum(fake.slept) <= 10.0
    assert len(mocked.calls) == 3  # 0 s, 4 s, 8 s; a fourth would start after 12 s


def test_retry_after_is_honoured(mocked: responses.RequestsMock, fake_time: FakeTime) -> None:
    client = make_client(fake_time, jitter=0.0)
    url = BASE + "/jobs/templates"
    mocked.add("GET", url, status=429, headers={"Retry-After": "7"})
    mocked.add("GET", url, json=["Default"])
    assert client.job_templates() == ["Default"]
    assert fake_time.slept == [7.0]


def test_put_is_retried_on_a_timeout(mocked: responses.RequestsMock, fake_time: FakeTime) -> None:
    client = make_client(fake_time)
    url = BASE + "/jobs/5"
    mocked.add("PUT", url, body=requests.exceptions.ReadTimeout("read timed out"))
    mocked.add("PUT", url, status=204)
    client.set_job(5, {"Name": "x"})
    assert len(mocked.calls) == 2


def test_post_create_that_times_out_after_sending_is_not_retried(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    mocked.add("POST", BASE + "/jobs", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(errors.OutcomeUnknown) as failure:
        client.create_job({"Name": "mesh"})
    assert len(mocked.calls) == 1
    assert fake_time.slept == []
    assert failure.value.code == "outcome-unknown"
    assert (failure.value.method, failure.value.path) == ("POST", "/jobs")


def test_get_is_retried_on_an_unrecognised_500(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    url = BASE + "/jobs/templates"
    mocked.add("GET", url, status=500, json={"Message": "Object reference not set."})
    mocked.add("GET", url, json=["Default"])
    assert client.job_templates() == ["Default"]
    assert len(mocked.calls) == 2 and len(fake_time.slept) == 1


def test_put_answered_by_an_unrecognised_500_is_not_retried(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    mocked.add("PUT", BASE + "/jobs/5", status=500, json={"Message": "Object reference not set."})
    with pytest.raises(errors.ServerError):
        client.set_job(5, {"Name": "x"})
    assert len(mocked.calls) == 1


def test_get_gives_up_after_the_bounded_attempts_of_500s(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    for _ in range(10):
        mocked.add("GET", BASE + "/jobs/templates", status=500)
    with pytest.raises(errors.ServerError):
        client.job_templates()
    assert 1 < len(mocked.calls) <= 5  # bounded by attempts and by total time


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_answered_by_a_5xx_is_outcome_unknown_and_not_retried(
    status: int, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    mocked.add("POST", BASE + "/jobs/jobFile", status=status)
    with pytest.raises(errors.OutcomeUnknown):
        client.create_job_xml("<Job/>")
    assert len(mocked.calls) == 1


def test_post_dropped_connection_is_outcome_unknown(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    dropped = requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
    )
    mocked.add("POST", BASE + "/jobs/3/submit", body=dropped)
    with pytest.raises(errors.OutcomeUnknown):
        client.submit_job(3)
    assert len(mocked.calls) == 1


def test_post_is_retried_when_the_connection_never_opened(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    mocked.add("POST", BASE + "/jobs", body=_connect_refused())
    mocked.add("POST", BASE + "/jobs", body=requests.exceptions.ConnectTimeout("connect"))
    mocked.add("POST", BASE + "/jobs", json=19)
    assert client.create_job({}) == 19
    assert len(mocked.calls) == 3


def test_post_refused_by_the_scheduler_is_a_definite_error(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client = make_client(fake_time)
    message = "Jobs in the Finished state cannot be canceled."
    mocked.add(
        "POST", BASE + "/jobs/9/cancel", status=409, json={"Code": -2147220984, "Message": message}
    )
    with pytest.raises(errors.RefusedByState) as failure:
        client.cancel_job(9, "stop")
    assert failure.value.scheduler_message == message
    assert failure.value.scheduler_code == -2147220984
    assert failure.value.status == 409
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [(404, errors.NotFound), (401, errors.AuthFailed), (403, errors.AuthFailed),
     (400, errors.BadRequest), (409, errors.RefusedByState)],
)  # fmt: skip
def test_error_status_maps_to_a_typed_error(
    status: int, kind: type[errors.ApiError], mocked: responses.RequestsMock, client: object
) -> None:
    mocked.add("GET", BASE + "/jobs/77", status=status, body="The specified Job ID is not valid.")
    with pytest.raises(kind) as failure:
        client.job_properties(77)  # type: ignore[attr-defined]
    assert isinstance(failure.value, HpcspecError)
    assert failure.value.scheduler_message == "The specified Job ID is not valid."
    assert "GET /jobs/77" in failure.value.render()


def test_a_real_refused_connection_is_retried_then_a_transport_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeTime()
    client = make_client(fake, url=f"http://127.0.0.1:{port}/hpc")
    with pytest.raises(errors.TransportError):
        client.create_job({"Name": "x"})  # a POST: retried because it never left
    assert len(fake.slept) == 3


@pytest.mark.parametrize("host", ["head.example.test", "10.0.0.5", "[2001:db8::1]"])
def test_basic_auth_over_http_to_a_remote_host_is_refused_before_any_request(
    host: str, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    with pytest.raises(errors.InsecureConnection):
        make_client(fake_time, url=f"http://{host}/hpc")
    assert len(mocked.calls) == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "[::1]", "localhost"])
def test_basic_auth_over_http_to_loopback_is_allowed(
    host: str, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"http://{host}:8080/hpc"
    mocked.add("GET", url + "/cluster/version", json="1.0")
    assert make_client(fake_time, url=url).version() == "1.0"


def test_credentials_in_the_url_are_refused(fake_time: FakeTime) -> None:
    with pytest.raises(HpcspecError, match="must not carry"):
        make_client(fake_time, url="https://bob:secret@head/hpc")


def test_redirects_are_not_followed(mocked: responses.RequestsMock, client: object) -> None:
    mocked.add("GET", BASE + "/cluster/version", status=302, headers={"Location": "https://evil/"})
    with pytest.raises(errors.TransportError, match="redirect"):
        client.version()  # type: ignore[attr-defined]
    assert len(mocked.calls) == 1


def test_tls_options_reach_requests(
    mocked: responses.RequestsMock, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    mocked.add("GET", BASE + "/cluster/version", json="1")
    make_client(fake_time).version()
    make_client(fake_time, ca_bundle="/etc/ca.pem").version()
    make_client(fake_time, insecure=True).version()
    assert [c.request.req_kwargs["verify"] for c in mocked.calls] == [True, "/etc/ca.pem", False]
    assert all(c.request.req_kwargs["timeout"] == (10.0, 60.0) for c in mocked.calls)


def test_the_environment_ca_bundle_and_proxy_are_honoured_and_read_once(
    mocked: responses.RequestsMock, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/ca.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    mocked.add("GET", BASE + "/cluster/version", json="1")
    from_env = make_client(fake_time)
    explicit = make_client(fake_time, ca_bundle="/etc/ca.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.example:3128")  # read at creation only
    from_env.version()
    explicit.version()
    assert [c.request.req_kwargs["verify"] for c in mocked.calls] == ["/env/ca.pem", "/etc/ca.pem"]
    proxies = [c.request.req_kwargs["proxies"].get("https") for c in mocked.calls]
    assert proxies == ["http://proxy.example:3128"] * 2


@pytest.mark.parametrize(
    ("user", "password"),
    [(USER, "pässword"), ("HPC\\jürgen", "ascii-only"), ("HPC\\李", "密码-€")],
)
def test_basic_credentials_are_utf8_whatever_the_characters(
    user: str, password: str, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    mocked.add("GET", BASE + "/cluster/version", json="1")
    make_client(fake_time, password=password, user=user).version()
    scheme, token = mocked.calls[0].request.headers["Authorization"].split()
    # RFC 7617 charset="UTF-8" (requests alone would send Latin-1 where it can)
    assert (scheme, base64.b64decode(token).decode("utf-8")) == ("Basic", f"{user}:{password}")


def test_tls_failure_is_not_retried_and_suggests_a_ca_bundle(
    mocked: responses.RequestsMock, client: object
) -> None:
    mocked.add("GET", BASE + "/cluster/version", body=requests.exceptions.SSLError("bad cert"))
    with pytest.raises(errors.TransportError) as failure:
        client.version()  # type: ignore[attr-defined]
    assert "--ca-bundle" in (failure.value.hint or "")
    assert len(mocked.calls) == 1


def test_as_user_header(mocked: responses.RequestsMock, fake_time: FakeTime) -> None:
    mocked.add("GET", BASE + "/cluster/version", json="1")
    make_client(fake_time, as_user="HPC\\bob").version()
    assert mocked.calls[0].request.headers["x-ms-as-user"] == "HPC\\bob"


def test_datacontract_xml_answers_are_understood(
    mocked: responses.RequestsMock, client: object
) -> None:
    common = "http://schemas.microsoft.com/HPCS2008R2/common"
    serial = "http://schemas.microsoft.com/2003/10/Serialization/"
    xml = "application/xml; charset=utf-8"
    mocked.add("POST", BASE + "/jobs", body=f'<int xmlns="{serial}">19</int>', content_type=xml)
    mocked.add(
        "GET",
        BASE + "/jobs/19",
        body=f'<ArrayOfProperty xmlns="{common}"><Property><Name>Id</Name><Value>19</Value>'
        "</Property><Property><Name>Name</Name><Value/></Property></ArrayOfProperty>",
        content_type=xml,
    )
    mocked.add(
        "GET",
        BASE + "/jobs/20",
        status=404,
        body=f'<HpcWebServiceFault xmlns="{common}"><Code>-2147220986</Code>'
        "<Message>The specified Job ID is not valid.</Message></HpcWebServiceFault>",
        content_type=xml,
    )
    assert client.create_job({}) == 19  # type: ignore[attr-defined]
    assert client.job_properties(19) == {"Id": "19", "Name": ""}  # type: ignore[attr-defined]
    with pytest.raises(errors.NotFound) as failure:
        client.job_properties(20)  # type: ignore[attr-defined]
    assert failure.value.scheduler_message == "The specified Job ID is not valid."
    assert failure.value.scheduler_code == -2147220986


def test_xml_with_a_doctype_is_refused(mocked: responses.RequestsMock, client: object) -> None:
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><string>&e;</string>'
    mocked.add("GET", BASE + "/cluster/version", body=evil, content_type="application/xml")
    with pytest.raises(errors.BadResponse):
        client.version()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body",
    [
        "<html>cut short",  # a proxy's page, cut off (Content-Type says JSON)
        '<?xml version="1.0"?><!DOCTYPE x><string>x</string>',
    ],
)
def test_an_unreadable_xml_answer_is_called_an_answer_not_job_xml(
    mocked: responses.RequestsMock, client: object, body: str
) -> None:
    """The user sent no job XML: the error names the request and its answer."""
    mocked.add("GET", BASE + "/jobs/2", body=body, content_type="application/json")
    with pytest.raises(errors.BadResponse) as failure:
        client.job_properties(2, ("ClientSource",))  # type: ignore[attr-defined]
    message = failure.value.message
    assert message.startswith("GET /jobs/2: the answer could not be read: the XML answer ")
    assert "job XML" not in message


def test_an_unexpected_body_shape_is_a_bad_response(
    mocked: responses.RequestsMock, client: object
) -> None:
    mocked.add("POST", BASE + "/jobs", json={"id": 3})
    with pytest.raises(errors.BadResponse):
        client.create_job({})  # type: ignore[attr-defined]


def test_submit_password_is_sent_but_never_in_the_transport_repr() -> None:
    transport = Transport(TransportOptions(BASE, Credentials("u", "pw-hidden")))
    assert "pw-hidden" not in repr(transport.options)


def test_submit_sends_run_as_credentials(mocked: responses.RequestsMock, client: object) -> None:
    mocked.add("POST", BASE + "/jobs/4/submit", status=204)
    client.submit_job(4, {"Priority": "Normal"}, username="HPC\\svc", password="x")  # type: ignore[attr-defined]
    # submit takes the body as given (UserName/Password are not catalogue properties)
    assert sent(mocked.calls[0])[3] == props(Priority="Normal", UserName="HPC\\svc", Password="x")


def test_retry_after_as_an_http_date_is_honoured(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    import email.utils
    import time

    client = make_client(fake_time, jitter=0.0)
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    mocked.add("GET", BASE + "/jobs/templates", status=503, headers={"Retry-After": when})
    mocked.add("GET", BASE + "/jobs/templates", json=["Default"])
    assert client.job_templates() == ["Default"]
    assert len(fake_time.slept) == 1 and 3.0 <= fake_time.slept[0] <= 5.0


def test_a_retry_after_beyond_the_time_budget_stops_the_retries(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    policy = RetryPolicy(attempts=5, base_delay=1.0, max_delay=30.0, total=10.0)
    client = make_client(fake_time, retry=policy)
    mocked.add("GET", BASE + "/jobs/templates", status=503, headers={"Retry-After": "25"})
    with pytest.raises(errors.ServerError):
        client.job_templates()
    assert fake_time.slept == [] and len(mocked.calls) == 1
