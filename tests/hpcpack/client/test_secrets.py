"""No password and no Authorization value ever reaches an exception or a log record.

A canary password goes through every failure path; the tests grep each raised error (its
text, its JSON fields, its repr) and every captured log record for the canary and for the
Basic credentials it would produce.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from collections.abc import Callable
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape as xml_escape

import pytest
import requests
import responses

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.client import HpcPackClient
from hpcspec.hpcpack.definition import JobDefinition, SecretRef, TaskDefinition
from tests.hpcpack.client.conftest import BASE, CANARY, USER, FakeTime, make_client

RUN_AS_CANARY = "runas-canary-91d2"
AUTH_VALUE = base64.b64encode(f"{USER}:{CANARY}".encode()).decode()
FORBIDDEN = (CANARY, AUTH_VALUE, RUN_AS_CANARY)


def _echo(text: str) -> str:
    """An error body that quotes the secrets back, as a careless server might."""
    return f"bad request from {USER}:{CANARY} Basic {AUTH_VALUE} password={RUN_AS_CANARY}"


Arrange = Callable[[responses.RequestsMock], None]
CASES: list[tuple[str, Arrange, Callable[[HpcPackClient], object]]] = [
    ("get-404", lambda m: m.add("GET", BASE + "/jobs/1", status=404, body=_echo("")),
     lambda c: c.job_properties(1)),
    ("get-401-json", lambda m: m.add("GET", BASE + "/jobs/1", status=401,
                                     json={"Message": _echo("")}),
     lambda c: c.job_properties(1)),
    ("get-503-exhausted", lambda m: m.add("GET", BASE + "/jobs/1", status=503, body=_echo("")),
     lambda c: c.job_properties(1)),
    ("submit-500", lambda m: m.add("POST", BASE + "/jobs/1/submit", status=500, body=_echo("")),
     lambda c: c.submit_job(1, username="HPC\\svc", password=RUN_AS_CANARY)),
    ("submit-400", lambda m: m.add("POST", BASE + "/jobs/1/submit", status=400, body=_echo("")),
     lambda c: c.submit_job(1, {"Password": RUN_AS_CANARY})),
    ("submit-timeout", lambda m: m.add("POST", BASE + "/jobs/1/submit",
                                       body=requests.exceptions.ReadTimeout(_echo(""))),
     lambda c: c.submit_job(1, username="u", password=RUN_AS_CANARY)),
    ("connection-error", lambda m: m.add("GET", BASE + "/jobs/1",
                                         body=requests.exceptions.ConnectionError(_echo(""))),
     lambda c: c.job_properties(1)),
    ("tls-error", lambda m: m.add("GET", BASE + "/jobs/1",
                                  body=requests.exceptions.SSLError(_echo(""))),
     lambda c: c.job_properties(1)),
    ("bad-body", lambda m: m.add("GET", BASE + "/jobs/1", json={"x": _echo("")}),
     lambda c: c.job_properties(1)),
    ("submit-500-aspnet", lambda m: m.add("POST", BASE + "/jobs/1/submit", status=500, json={
        "Message": "An error has occurred.", "ExceptionMessage": _echo(""),
        "StackTrace": f"at Submit(password={RUN_AS_CANARY})",
        "InnerException": {"ExceptionMessage": "Jobs in the Finished state cannot be canceled. "
                           + _echo("")}}),
     lambda c: c.submit_job(1, username="HPC\\svc", password=RUN_AS_CANARY)),
    ("get-404-html", lambda m: m.add("GET", BASE + "/jobs/1", status=404,
                                     content_type="text/html",
                                     body=f"<html><title>{_echo('')}</title><h1>{_echo('')}</h1>"
                                     "</html>"),
     lambda c: c.job_properties(1)),
    ("xml-fault", lambda m: m.add("GET", BASE + "/jobs/1", status=403,
                                  content_type="application/xml",
                                  body=f"<HpcWebServiceFault><Message>{_echo('')}</Message>"
                                  "</HpcWebServiceFault>"),
     lambda c: c.job_properties(1)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "arrange", "act"), CASES, ids=[c[0] for c in CASES])
def test_no_secret_in_errors_or_logs(
    name: str,
    arrange: Arrange,
    act: Callable[[HpcPackClient], object],
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    arrange(mocked)
    client = make_client(FakeTime())
    with pytest.raises(errors.ApiError) as failure:
        act(client)
    error = failure.value
    texts = [str(error), error.render(), repr(error), str(error.as_dict()), error.hint or ""]
    texts += [str(a) for a in error.args]
    texts += [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    # the run-as password is a secret the client knows only on the submit paths
    forbidden = FORBIDDEN if name.startswith("submit") else (CANARY, AUTH_VALUE)
    for text in texts:
        for secret in forbidden:
            assert secret not in text, (name, text)
    assert mocked.calls, "the request was really made"
    assert any(AUTH_VALUE in (c.request.headers.get("Authorization") or "") for c in mocked.calls)


def test_redaction_keeps_the_rest_of_the_message() -> None:
    assert errors.redact("user x:s3cret failed", ("s3cret",)) == "user x:******** failed"


ENV_CANARY = "env-canary-5be0a1"  # a `{secret: env:…}` value the client resolves itself


def _quoting(request: object) -> tuple[int, dict[str, str], str]:
    """A careless server's 500: it quotes the request body back."""
    body = getattr(request, "body", b"") or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    return 500, {}, f"internal error while handling {text}"


def _resolve(ref: SecretRef) -> str:
    return ENV_CANARY


SECRET_JOB = JobDefinition(
    properties=(("Name", "j"),),
    env=(("TOKEN", SecretRef("env", "TOKEN")),),
    tasks=(TaskDefinition("t", "echo hi", env=(("TASK_TOKEN", SecretRef("env", "T")),)),),
)
SECRET_CASES: list[tuple[str, str, Callable[[HpcPackClient], object]]] = [
    ("job-env", "/jobs/1/envVariables",
     lambda c: c.set_job_env(1, dict(SECRET_JOB.env), secret=_resolve)),
    ("task-env", "/jobs/1/tasks/2/envVariables",
     lambda c: c.set_task_env(1, 2, dict(SECRET_JOB.tasks[0].env), secret=_resolve)),
    ("job-xml", "/jobs/jobFile", lambda c: c.create_job_xml(SECRET_JOB, secret=_resolve)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "path", "act"), SECRET_CASES, ids=[c[0] for c in SECRET_CASES])
def test_a_secret_env_value_is_redacted_from_a_5xx_that_quotes_the_request(
    name: str,
    path: str,
    act: Callable[[HpcPackClient], object],
    mocked: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The REST create path sends secret env values; a 500 quoting the request must not put
    them in the error (issue 13, finding 7), nor in any later error of the same client."""
    caplog.set_level(logging.DEBUG)
    mocked.add_callback("POST", BASE + path, callback=_quoting)
    mocked.add("GET", BASE + "/jobs/1", status=404, body=f"no job; last request had {ENV_CANARY}")
    client = make_client(FakeTime())
    with pytest.raises(errors.ApiError) as failure:
        act(client)
    with pytest.raises(errors.NotFound) as later:
        client.job_properties(1)
    sent_bodies = b"".join(
        c.request.body or b"" for c in mocked.calls if c.request.method == "POST"
    )
    assert ENV_CANARY.encode() in sent_bodies, "the secret really went out"
    texts = []
    for error in (failure.value, later.value):
        texts += [str(error), error.render(), repr(error), str(error.as_dict())]
    texts += [r.getMessage() for r in caplog.records]
    assert "internal error while handling" in str(failure.value)
    assert all(ENV_CANARY not in text for text in texts), texts


AWKWARD = [
    "Pässwort_CANARY",
    "a\\b_CANARY",
    'J"ü&<b>\\x_CANARY',
    "it's<&>_CANARY",
    "π 😀 +/_CANARY",
]


def _echo_escaped(request: object) -> tuple[int, dict[str, str], str]:
    """A 400 whose text quotes the request body as a JSON string: a job XML body then shows
    its values XML-escaped inside JSON escapes (`\\"`, `\\u00fc`, `&amp;`, `\\\\`)."""
    body = getattr(request, "body", b"") or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    return 400, {"Content-Type": "text/plain"}, f"cannot take {json.dumps(text)}"


@pytest.mark.parametrize("canary", AWKWARD)
@pytest.mark.parametrize("kind", ["submit-password", "job-xml-env"])
def test_a_secret_quoted_back_escaped_is_redacted_too(
    canary: str, kind: str, mocked: responses.RequestsMock
) -> None:
    """Red-team finding: redaction matched only the secret's exact text, so a password with
    a non-ASCII character, a quote or a backslash came back readable in a 400's echo."""
    client = make_client(FakeTime())
    if kind == "submit-password":
        mocked.add_callback("POST", BASE + "/jobs/1/submit", callback=_echo_escaped)
        with pytest.raises(errors.ApiError) as failure:
            client.submit_job(1, username="HPC\\svc", password=canary)
    else:
        mocked.add_callback("POST", BASE + "/jobs/jobFile", callback=_echo_escaped)
        with pytest.raises(errors.ApiError) as failure:
            client.create_job_xml(SECRET_JOB, secret=lambda ref: canary)
    text = " ".join([str(failure.value), failure.value.render(), str(failure.value.as_dict())])
    assert "cannot take" in text and errors.REDACTED in text, text
    assert "CANARY" not in text, text


@pytest.mark.parametrize("canary", AWKWARD)
def test_every_quoted_form_of_a_secret_is_redacted(canary: str) -> None:
    forms = [
        canary,
        json.dumps(canary)[1:-1],
        json.dumps(canary, ensure_ascii=False)[1:-1],
        json.dumps(xml_escape(canary, {'"': "&quot;"}))[1:-1],
        html.escape(canary),
        quote(canary, safe=""),
        quote_plus(canary),
    ]
    for form in forms:
        assert errors.redact(f"<{form}>", (canary,)) == f"<{errors.REDACTED}>", form


ENCODINGS = {
    "xml-hex-entities": lambda s: "".join(f"&#x{ord(c):x};" for c in s),
    "xml-decimal-entities": lambda s: "".join(f"&#{ord(c)};" for c in s),
    "percent-every-byte": lambda s: "".join(f"%{b:02X}" for b in s.encode()),
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "c-hex-escapes-upper": lambda s: "".join(f"\\x{ord(c):02X}" for c in s),
    "entities-inside-json": lambda s: json.dumps("".join(f"&#x{ord(c):x};" for c in s)),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_secret_quoted_back_in_any_encoding_withholds_the_message(encoding: str) -> None:
    """Red-team verification: a server that encoded every character of the echoed request
    (entities, %XX, base64, \\xXX) got past the redaction of known forms."""
    secret = "RunAsPW_CANARY7"
    text = f"cannot take the request: {ENCODINGS[encoding](secret)} (see log)"
    said = errors.redact(text, (secret,))
    assert "CANARY" not in said and said == errors.WITHHELD, said


def test_a_message_that_merely_looks_encoded_is_shown_as_it_is() -> None:
    text = "job 12 refused: token c29tZXRoaW5nIGVsc2U= is unknown &amp; %41 stays"
    assert errors.redact(text, ("RunAsPW_CANARY7", "ab")) == text
