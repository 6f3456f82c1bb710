"""A refusal as the cluster sends it: status and body in the profile's error style.

Styles (`hpcspec.hpcpack.profile.ErrorStyle`): `scheduler` — our `{"Code","Message"}`, or with
`Accept: application/xml` the documented old-API fault `<HpcWebServiceFault>`
(`msdocs/schedulerwebservice--*.md`); `aspnet` — ASP.NET Web API's HttpError
(`{"Message": "An error has occurred.", "ExceptionMessage": …, "ExceptionType": …,
"StackTrace": null}`, or its `<Error>` XML form), what an unhandled scheduler exception becomes
in a Web API service; `iis-html` — an IIS error page; `plain-text` — the message alone. The
status per kind of refusal comes from the profile too.
"""

from __future__ import annotations

import json
from html import escape as html_escape

from hpcspec.emulator.errors import COMMON_NS, SchedulerError, xml_text
from hpcspec.hpcpack.profile import ClusterProfile, ErrorStyle

EXCEPTION_TYPE = "Microsoft.Hpc.Scheduler.Properties.SchedulerException"
_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 413: "Request Entity Too Large", 500: "Internal Server Error",
}  # fmt: skip


def status_of(error: SchedulerError, profile: ClusterProfile) -> int:
    """The status the profiled cluster answers for this kind of refusal."""
    return {
        400: profile.bad_value_status,
        403: profile.forbidden_status,
        404: profile.not_found_status,
        409: profile.refused_by_state_status,
    }.get(error.status, error.status)


def render_error(
    error: SchedulerError, profile: ClusterProfile, xml: bool
) -> tuple[int, bytes, str]:
    """(status, body, content type) of a refusal."""
    status = status_of(error, profile)
    style = profile.error_style
    if style is ErrorStyle.PLAIN_TEXT:
        return status, error.message.encode("utf-8", "replace"), "text/plain; charset=utf-8"
    if style is ErrorStyle.IIS_HTML:
        return status, _iis_page(status, error.message), "text/html; charset=utf-8"
    if style is ErrorStyle.ASPNET:
        if xml:
            text = (
                "<Error><Message>An error has occurred.</Message>"
                f"<ExceptionMessage>{xml_text(error.message)}</ExceptionMessage>"
                f"<ExceptionType>{EXCEPTION_TYPE}</ExceptionType><StackTrace/></Error>"
            )
            return status, text.encode("utf-8"), "application/xml; charset=utf-8"
        data: dict[str, object] = {
            "Message": "An error has occurred.",
            "ExceptionMessage": error.message,
            "ExceptionType": EXCEPTION_TYPE,
            "StackTrace": None,
        }
        return status, json.dumps(data).encode(), "application/json; charset=utf-8"
    if xml:
        text = (
            f'<HpcWebServiceFault xmlns="{COMMON_NS}" '
            'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
            f"<Code>{error.scheduler.code}</Code><Message>{xml_text(error.message)}</Message>"
            '<Values i:nil="true"/></HpcWebServiceFault>'
        )
        return status, text.encode("utf-8"), "application/xml; charset=utf-8"
    data = {"Code": error.scheduler.code, "Message": error.message}
    return status, json.dumps(data).encode(), "application/json; charset=utf-8"


def _iis_page(status: int, message: str) -> bytes:
    reason = _REASONS.get(status, "Error")
    page = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
        f"<title>IIS 10.0 Detailed Error - {status}.0 - {reason}</title>\n</head>\n"
        '<body>\n<div id="content">\n<div class="content-container">\n'
        f"<h3>HTTP Error {status}.0 - {reason}</h3>\n"
        f"<h4>{html_escape(message)}</h4>\n"
        "</div>\n</div>\n</body>\n</html>\n"
    )
    return page.encode("utf-8", "replace")
