"""The error contract (issue 15): every error body a real server can send keeps the server's
message and the class apply relies on (refused-by-state, not-found, conflict, bad value, auth).

Bodies are served with `responses`; the message templates are checked against
`../shared/reference/hpcpack/derived/error-codes.json` (skipped when it is absent).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.hpcpack import errors
from hpcspec.hpcpack.error_body import MAX_MESSAGE, BodyShape, read_error_body
from tests.hpcpack.client.conftest import BASE, FakeTime, make_client

STACK = (
    "   at Microsoft.Hpc.Scheduler.Store.StoreServer.SetJobProps(Int32 jobId)\r\n"
    "   at Microsoft.Hpc.Scheduler.Rest.JobsController.Put(Int32 id)"
)
SCHEDULER_EXCEPTION = "Microsoft.Hpc.Scheduler.Properties.SchedulerException"
SERIAL = "http://schemas.microsoft.com/2003/10/Serialization/"
COMMON = "http://schemas.microsoft.com/HPCS2008R2/common"
XML = "application/xml; charset=utf-8"
HTML = "text/html; charset=utf-8"


def aspnet(message: str, *, inner: str | None = None) -> dict[str, Any]:
    """An ASP.NET Web API `HttpError` for an unhandled exception (IncludeErrorDetail on)."""
    body: dict[str, Any] = {
        "Message": "An error has occurred.",
        "ExceptionMessage": message,
        "ExceptionType": SCHEDULER_EXCEPTION,
        "StackTrace": STACK,
    }
    if inner is not None:
        body["InnerException"] = {
            "Message": "An error has occurred.",
            "ExceptionMessage": inner,
            "ExceptionType": SCHEDULER_EXCEPTION,
            "StackTrace": STACK,
        }
    return body


IIS_404 = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>404 - File or directory not found.</title>
<style type="text/css"><!-- body{margin:0;font-size:.7em;} --></style>
</head><body><div id="header"><h1>Server Error</h1></div>
<div id="content"><div class="content-container"><fieldset>
<h2>404 - File or directory not found.</h2>
<h3>The resource you are looking for might have been removed, had its name changed, or is
temporarily unavailable.</h3></fieldset></div></div></body></html>"""

HTTP_SYS_503 = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>Service Unavailable</TITLE>
<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>
<BODY><h2>Service Unavailable</h2>
<hr><p>HTTP Error 503. The service is unavailable.</p>
</BODY></HTML>"""

ASPNET_YSOD = """<!DOCTYPE html><html><head><title>Runtime Error</title></head><body>
<span><H1>Server Error in '/hpc' Application.<hr width=100% size=1 color=silver></H1>
<h2> <i>Runtime Error</i> </h2></span>
<b> Description: </b>An application error occurred on the server.<br><br>
<pre>System.NullReferenceException: Object reference not set
   at Microsoft.Hpc.Rest.Controller.Get()</pre></body></html>"""

# (id, method, path, status, content type, body, class, message the error keeps)
SHAPES: list[tuple[str, str, str, int, str | None, str, type[errors.ApiError], str]] = [
    ("emulator-json-409", "POST", "/jobs/9/cancel", 409, "application/json",
     json.dumps({"Code": -2147220984, "Message": "Jobs in the Finished state cannot be canceled."}),
     errors.RefusedByState, "Jobs in the Finished state cannot be canceled."),
    ("aspnet-json-400", "PUT", "/jobs/9", 400, "application/json",
     json.dumps(aspnet("Job could not be modified because jobs in the Finished state cannot be "
                       "modified.")),
     errors.RefusedByState,
     "Job could not be modified because jobs in the Finished state cannot be modified."),
    ("aspnet-json-500", "PUT", "/jobs/9", 500, "application/json",
     json.dumps(aspnet("The property Priority cannot be set when the job is in state Running.")),
     errors.RefusedByState,
     "The property Priority cannot be set when the job is in state Running."),
    ("aspnet-inner-exception", "PUT", "/jobs/9", 500, "application/json",
     json.dumps(aspnet("Job modification failed: see the inner exception",
                       inner="Job's property RunTime cannot be modified on a queued job.")),
     errors.RefusedByState, "Job modification failed: see the inner exception — Job's "
     "property RunTime cannot be modified on a queued job."),
    ("aspnet-route-404", "GET", "/jobz", 404, "application/json",
     json.dumps({"Message": "No HTTP resource was found that matches the request URI "
                            "'https://head.example.test/hpc/jobz'.",
                 "MessageDetail": "No type was found that matches the controller named 'jobz'."}),
     errors.NotFound, "No HTTP resource was found that matches the request URI "
     "'https://head.example.test/hpc/jobz'.: No type was found that matches the controller "
     "named 'jobz'."),
    ("aspnet-model-state", "POST", "/jobs", 400, "application/json",
     json.dumps({"Message": "The request is invalid.",
                 "ModelState": {"properties[0].Value": ["Could not convert string to integer."]}}),
     errors.BadRequest,
     "The request is invalid.: properties[0].Value: Could not convert string to integer."),
    ("aspnet-xml", "POST", "/jobs/9/cancel", 500, XML,
     "<Error><Message>An error has occurred.</Message><ExceptionMessage>Jobs in the Canceled "
     "state cannot be canceled.</ExceptionMessage><ExceptionType>" + SCHEDULER_EXCEPTION +
     "</ExceptionType><StackTrace>" + STACK + "</StackTrace></Error>",
     errors.RefusedByState, "Jobs in the Canceled state cannot be canceled."),
    ("hpc-fault-xml-by-code", "GET", "/jobs/20", 400, XML,
     f'<HpcWebServiceFault xmlns="{COMMON}"><Code>-2147220986</Code><Message>The specified Job '
     "ID is not valid. Check your Job ID and try again.</Message></HpcWebServiceFault>",
     errors.NotFound, "The specified Job ID is not valid. Check your Job ID and try again."),
    ("datacontract-string", "GET", "/jobs/20/tasks/4", 400, XML,
     f'<string xmlns="{SERIAL}">The specified task or subtask ID is not valid or the specified '
     "subtask has not been expanded yet. Check your task ID and try again.</string>",
     errors.NotFound, "The specified task or subtask ID is not valid or the specified subtask "
     "has not been expanded yet. Check your task ID and try again."),
    ("json-string", "GET", "/jobs/21", 400, "application/json",
     json.dumps("The specified Job ID is not valid. Check your Job ID and try again."),
     errors.NotFound, "The specified Job ID is not valid. Check your Job ID and try again."),
    ("iis-html-404", "GET", "/jobs/22", 404, HTML, IIS_404, errors.NotFound,
     "404 - File or directory not found. — Server Error — The resource you are looking for "
     "might have been removed, had its name changed, or is temporarily unavailable."),
    ("aspnet-html-500", "POST", "/jobs/22/submit", 500, HTML, ASPNET_YSOD,
     errors.OutcomeUnknown, "Runtime Error — Server Error in '/hpc' Application."),
    ("plain-text-409", "POST", "/jobs/23/submit", 409, "text/plain",
     "The job could not be submitted because it is not in the configuring state.  To restart a "
     'Canceled or Failed job, use the "job requeue" command.  To create a new job that is based '
     'on a Finished or Running job use the "job clone" command.',
     errors.RefusedByState, "The job could not be submitted because it is not in the "
     'configuring state. To restart a Canceled or Failed job, use the "job requeue" command. To '
     'create a new job that is based on a Finished or Running job use the "job clone" command.'),
    ("plain-text-400", "PUT", "/jobs/23", 400, "text/plain", "Something was wrong\r\nwith it",
     errors.BadRequest, "Something was wrong with it"),
    ("conflict-409", "PUT", "/jobs/24", 409, "application/json",
     json.dumps({"Message": "A custom property by the name hpcspec.key already exists."}),
     errors.Conflict, "A custom property by the name hpcspec.key already exists."),
    ("auth-by-message-400", "POST", "/jobs/25/cancel", 400, "application/json",
     json.dumps(aspnet("Permission denied.")), errors.AuthFailed, "Permission denied."),
    ("bad-value-on-a-500-post", "POST", "/jobs", 500, "application/json",
     json.dumps(aspnet("The value for 'Name' is too long. The length should not exceed 80 "
                       "characters.")),
     errors.BadRequest, "The value for 'Name' is too long. The length should not exceed 80 "
     "characters."),
    ("server-busy-on-a-400", "PUT", "/jobs/26", 400, "application/json",
     json.dumps({"Message": "The scheduler server is busy. It cannot handle the client request "
                            "now. Please try again later. For detailed information please check "
                            "the scheduler event log on head node. ex timeout."}),
     errors.ServerError, "The scheduler server is busy."),
    ("odata-error", "GET", "/jobs/27", 400, "application/json",
     json.dumps({"error": {"code": "0x80040206", "message": {"lang": "en-US", "value":
                 "The specified Job ID is not valid. Check your Job ID and try again."}}}),
     errors.NotFound, "The specified Job ID is not valid. Check your Job ID and try again."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "status", "content_type", "body", "kind", "message"),
    [case[1:] for case in SHAPES],
    ids=[case[0] for case in SHAPES],
)
def test_every_error_body_keeps_the_servers_message_and_class(
    method: str,
    path: str,
    status: int,
    content_type: str | None,
    body: str,
    kind: type[errors.ApiError],
    message: str,
    mocked: responses.RequestsMock,
    fake_time: FakeTime,
) -> None:
    mocked.add(method, BASE + path, status=status, body=body, content_type=content_type)
    transport = make_client(fake_time).transport
    with pytest.raises(errors.ApiError) as failure:
        transport.request(method, path, body=[] if method != "GET" else None)
    error = failure.value
    assert type(error) is kind, error.render()
    assert error.scheduler_message.startswith(message) or message in error.scheduler_message
    assert error.status == status and (error.method, error.path) == (method, path)
    for noise in ("An error has occurred.", "StackTrace", "StackTrace", " at Microsoft", "<"):
        if noise not in message:
            assert noise not in error.render()
    assert len(mocked.calls) == 1  # a definite answer is never retried


def test_the_generic_aspnet_message_alone_is_kept_when_nothing_better_is_said(
    mocked: responses.RequestsMock, client: Any
) -> None:
    mocked.add("GET", BASE + "/jobs/5", status=400, json={"Message": "An error has occurred."})
    with pytest.raises(errors.BadRequest) as failure:
        client.job_properties(5)
    assert failure.value.scheduler_message == "An error has occurred."


def test_a_post_refused_with_a_500_is_a_refusal_not_an_unknown_outcome(
    mocked: responses.RequestsMock, client: Any
) -> None:
    """apply relies on this: a 500 naming the state is a definite 'no', nothing happened."""
    body = aspnet("Jobs in the Canceled state cannot be canceled.")
    mocked.add("POST", BASE + "/jobs/9/cancel", status=500, json=body)
    with pytest.raises(errors.RefusedByState) as failure:
        client.cancel_job(9, "stop")
    assert not isinstance(failure.value, errors.OutcomeUnknown)
    assert failure.value.code == "refused-by-state"
    assert len(mocked.calls) == 1


def test_a_post_failing_with_an_unrecognised_500_is_still_an_unknown_outcome(
    mocked: responses.RequestsMock, client: Any
) -> None:
    mocked.add("POST", BASE + "/jobs", status=500, json=aspnet("Object reference not set."))
    with pytest.raises(errors.OutcomeUnknown) as failure:
        client.create_job({})
    assert "Object reference not set." in failure.value.message


def test_a_get_answered_by_http_sys_503_is_retried_then_reads_well(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    mocked.add("GET", BASE + "/cluster/version", status=503, body=HTTP_SYS_503, content_type=HTML)
    with pytest.raises(errors.ServerError) as failure:
        make_client(fake_time).version()
    assert failure.value.scheduler_message == (
        "Service Unavailable — HTTP Error 503. The service is unavailable."
    )
    assert len(mocked.calls) == 4


def test_an_html_404_hints_at_the_cluster_url(mocked: responses.RequestsMock, client: Any) -> None:
    mocked.add("GET", BASE + "/cluster/version", status=404, body=IIS_404, content_type=HTML)
    with pytest.raises(errors.NotFound) as failure:
        client.version()
    assert "/hpc" in (failure.value.hint or "")


def test_a_huge_error_page_is_capped_and_carries_no_markup() -> None:
    page = "<html><head><title>" + "x" * 5000 + "</title></head><body>" + "<p>y</p>" * 10**4
    said = read_error_body(page.encode(), "text/html")
    assert said.shape is BodyShape.HTML
    assert len(said.message) <= 500 and "<" not in said.message
    text = read_error_body(("word " * 10**5).encode(), "text/plain")
    assert len(text.message) <= MAX_MESSAGE and text.message.endswith("…")


@given(
    st.binary(max_size=2000), st.sampled_from([None, "application/json", XML, HTML, "text/plain"])
)
def test_reading_an_error_body_never_fails_and_gives_one_line(
    content: bytes, content_type: str | None
) -> None:
    said = read_error_body(content, content_type)
    assert "\n" not in said.message and "\r" not in said.message
    assert len(said.message) <= MAX_MESSAGE


@pytest.mark.parametrize(
    ("header", "schemes"),
    [
        ("Negotiate, NTLM", ("negotiate", "ntlm")),
        ('Basic realm="HPC, Pack", charset="UTF-8"', ("basic",)),
        ("Negotiate oYH1MIHyoAMKAQChCwYJKoZIgvcSAQICooHdBIHaYIHX, NTLM", ("negotiate", "ntlm")),
        ('Bearer realm="x", error="invalid_token", Basic realm="y"', ("bearer", "basic")),
        ("", ()),
    ],
)
def test_offered_auth_schemes(header: str, schemes: tuple[str, ...]) -> None:
    assert errors.offered_schemes(header) == schemes


def test_a_head_node_without_basic_auth_is_recognised(
    mocked: responses.RequestsMock, client: Any
) -> None:
    """HPC Pack 2016 before Update 3: /hpc answers 401 offering only Negotiate and NTLM."""
    mocked.add(
        "GET",
        BASE + "/cluster/version",
        status=401,
        headers={"WWW-Authenticate": "Negotiate, NTLM"},  # two headers, as requests joins them
        body="<html><head><title>401 - Unauthorized: Access is denied due to invalid "
        "credentials.</title></head></html>",
        content_type=HTML,
    )
    with pytest.raises(errors.BasicAuthUnsupported) as failure:
        client.version()
    error = failure.value
    assert isinstance(error, errors.AuthFailed) and error.code == "basic-auth-unsupported"
    assert "does not accept Basic authentication (it offers Negotiate, NTLM)" in error.message
    assert "2016 Update 3" in error.message and "Update 3 or later" in (error.hint or "")


def test_a_401_that_offers_basic_is_a_wrong_password(
    mocked: responses.RequestsMock, client: Any
) -> None:
    mocked.add(
        "GET",
        BASE + "/cluster/version",
        status=401,
        headers={"WWW-Authenticate": 'Basic realm="HPC Pack", Negotiate, NTLM'},
        json={"Message": "Authorization has been denied for this request."},
    )
    with pytest.raises(errors.AuthFailed) as failure:
        client.version()
    assert type(failure.value) is errors.AuthFailed
    assert "check the user name and password" in (failure.value.hint or "")


def _instance(template: str) -> str:
    return re.sub(r"\{\d+\}", "Finished", template).replace("{{", "{").replace("}}", "}")


@pytest.mark.parametrize("status", [400, 409, 500])
def test_every_template_classifies_as_its_table_says(status: int) -> None:
    for template in errors.templates():
        entry = _table()[template.name]
        text = f"Job modification failed: {_instance(entry['template'])}"
        expected = errors.Kind(entry["kind"])
        assert errors.classify(status, (text,)) is expected, template.name
        assert errors.classify(status, ("unrelated",), template.code) is expected


def test_gateway_statuses_and_http_semantics_win_over_the_message() -> None:
    refused = ("Jobs in the Finished state cannot be canceled.",)
    assert errors.classify(503, refused) is errors.Kind.SERVER
    assert errors.classify(404, refused) is errors.Kind.NOT_FOUND
    assert errors.classify(403, refused) is errors.Kind.AUTH
    assert errors.classify(409, ("something else",)) is errors.Kind.REFUSED_BY_STATE
    assert errors.classify(422, ("something else",)) is errors.Kind.BAD_VALUE
    assert errors.classify(500, ("something else",)) is errors.Kind.SERVER


def _table() -> dict[str, dict[str, Any]]:
    import hpcspec.hpcpack

    path = Path(hpcspec.hpcpack.__file__).parent / "scheduler_messages.json"
    return {e["name"]: e for e in json.loads(path.read_text("utf-8"))["templates"]}


def test_the_template_table_is_the_references_own_text(reference: Path) -> None:
    codes = json.loads((reference / "derived" / "error-codes.json").read_text("utf-8"))["codes"]
    by_name = {c["name"]: c for c in codes}
    table = _table()
    assert table, "the table is not empty"
    for name, entry in table.items():
        assert name in by_name, name
        assert (entry["code"], entry["template"]) == (
            by_name[name]["code"],
            by_name[name]["message"],
        ), name
