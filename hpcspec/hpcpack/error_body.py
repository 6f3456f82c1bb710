"""Reading the body of an HTTP error answer: the server's own message, whatever shape it has.

The `/hpc` API documents no error schema (`research/hpcpack-ground-truth.md` §1.5, §8), so
the transport reads every shape a real head node (or something in front of it) can send:

- hpcspec's emulator: `{"Code": -2147220984, "Message": "Jobs in the Finished state …"}`;
- ASP.NET Web API (`HttpError`), which the `/hpc` service is built on:
  `{"Message": "An error has occurred.", "ExceptionMessage": "…", "ExceptionType": "…",
  "StackTrace": "…", "InnerException": {…}}`, `{"Message": "The request is invalid.",
  "ModelState": {…}}`, `{"Message": "No HTTP resource …", "MessageDetail": "…"}` — in JSON or
  as `<Error>` XML; the generic "An error has occurred." gives way to the exception's message;
- DataContract XML: `<HpcWebServiceFault><Code/><Message/></HpcWebServiceFault>` and
  `<string xmlns="…/Serialization/">message</string>` (the old `/WindowsHPC` API);
- IIS and HTTP.sys HTML pages (title and headings only: no markup, no stack trace);
- plain text, or a bare JSON string.

Whatever the shape, the message is one line of plain text, capped at `MAX_MESSAGE` characters.
A stack trace is never kept. `texts` holds every message the body carries (outermost first),
for `errors.classify` to match against the scheduler's message templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from html.parser import HTMLParser
from typing import Any

from lxml import etree

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack.answer_body import load_json
from hpcspec.hpcpack.jobxml.safe import local_name, parse_root

MAX_MESSAGE = 1000  # characters of the server's message kept in an error
MAX_PARSED = 1024 * 1024  # bytes of an error body parsed at most
_SPACE = re.compile(r"\s+")


class BodyShape(Enum):
    """Which kind of error body the server sent."""

    EMPTY = "empty"
    SCHEDULER = "scheduler"  # {"Code","Message"} or an HpcWebServiceFault
    ASPNET = "aspnet"  # an ASP.NET Web API HttpError (JSON or XML)
    JSON = "json"  # another JSON document, or a bare JSON string
    XML = "xml"  # another XML document (a DataContract <string>, a SOAP fault…)
    HTML = "html"  # an IIS / HTTP.sys / ASP.NET error page
    TEXT = "text"


@dataclass(frozen=True)
class ErrorBody:
    """What an error body says: one readable message, the scheduler's code, every text in it."""

    message: str
    code: int | None
    texts: tuple[str, ...]
    shape: BodyShape


def read_error_body(content: bytes, content_type: str | None) -> ErrorBody:
    """The server's message (and code) from an error body of any shape; never raises."""
    data = content[:MAX_PARSED]
    head = data.lstrip()[:256].lower()
    kind = (content_type or "").lower()
    if not data.strip():
        return ErrorBody("", None, (), BodyShape.EMPTY)
    if "html" in kind or head.startswith((b"<!doctype html", b"<html")):
        return _html(data)
    if "xml" in kind or head.startswith(b"<"):
        return _xml(data)
    if "json" in kind or head[:1] in (b"{", b"[", b'"'):
        try:
            document = load_json(data)
        except ValueError:
            return _text(data)
        return _json(document)
    return _text(data)


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` on one line, whitespace collapsed, cut to `limit` characters."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _text(data: bytes) -> ErrorBody:
    text = one_line(data.decode("utf-8", errors="replace"))
    return ErrorBody(text, None, (text,) if text else (), BodyShape.TEXT)


def _json(document: object) -> ErrorBody:
    if isinstance(document, str):
        text = one_line(document)
        return ErrorBody(text, None, (text,) if text else (), BodyShape.JSON)
    if isinstance(document, Mapping):
        return _mapping(document, BodyShape.JSON)
    text = one_line(json.dumps(document))
    return ErrorBody(text, None, (), BodyShape.JSON)


def _mapping(document: Mapping[Any, object], shape: BodyShape) -> ErrorBody:
    """A JSON object or an XML element read as one: scheduler, ASP.NET, OData or OAuth form."""
    fields = {str(k).lower(): v for k, v in document.items()}
    code = _code(fields.get("code", fields.get("errorcode")))
    nested = fields.get("error")
    if isinstance(nested, Mapping):  # OData: {"error": {"code", "message": "…" | {"value"}}}
        inner = _mapping(nested, shape)
        return ErrorBody(inner.message, inner.code if inner.code is not None else code,
                         inner.texts, inner.shape)  # fmt: skip
    exceptions = _exception_messages(fields)
    message = _string(fields.get("message")) or _string(nested)
    message = message or _string(fields.get("error_description"))
    texts = [t for t in (*exceptions, message) if t]
    if exceptions:  # outer first, then what it wraps ("…failed: see inner" — the reason)
        shown, shape = " — ".join(exceptions), BodyShape.ASPNET
    elif "modelstate" in fields or "messagedetail" in fields:
        shape = BodyShape.ASPNET
        details = _model_state(fields.get("modelstate")) or _string(fields.get("messagedetail"))
        shown = f"{message}: {details}" if message and details else message or details
        texts.append(details)
    else:
        shown = message
        if code is not None and shape is not BodyShape.XML:
            shape = BodyShape.SCHEDULER
    return ErrorBody(one_line(shown), code, tuple(one_line(t) for t in texts if t), shape)


def _exception_messages(fields: Mapping[str, object]) -> list[str]:
    """ExceptionMessage of an ASP.NET HttpError and of each InnerException, outermost first."""
    found: list[str] = []
    current: object = fields
    for _ in range(8):  # InnerException chains are short; a cycle cannot come from JSON
        if not isinstance(current, Mapping):
            break
        lowered = {str(k).lower(): v for k, v in current.items()}
        text = _string(lowered.get("exceptionmessage"))
        if text and text not in found:
            found.append(text)
        current = lowered.get("innerexception")
    return found


def _model_state(value: object) -> str:
    if not isinstance(value, Mapping):
        return ""
    parts = []
    for field, problems in value.items():
        items = problems if isinstance(problems, list) else [problems]
        said = "; ".join(_string(p) for p in items if _string(p))
        parts.append(f"{field}: {said}" if field and said else said)
    return "; ".join(p for p in parts if p)


def _string(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):  # OData v3: "message": {"lang": "en-US", "value": "…"}
        inner = {str(k).lower(): v for k, v in value.items()}.get("value")
        return inner.strip() if isinstance(inner, str) else ""
    return ""


def _code(value: object) -> int | None:
    """The scheduler's error code: a signed int32, or an HRESULT written in hex."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip() if isinstance(value, str) else ""
    try:
        number = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None
    return number - (1 << 32) if (1 << 31) <= number < (1 << 32) else number


def _xml(data: bytes) -> ErrorBody:
    try:
        root = parse_root(data, source="error response")
    except HpcspecError:
        return _text(data)
    name = local_name(root)
    if not [child for child in root if local_name(child)]:  # <string>message</string>
        text = one_line(root.text or "")
        return ErrorBody(text, None, (text,) if text else (), BodyShape.XML)
    shape = BodyShape.SCHEDULER if name == "HpcWebServiceFault" else BodyShape.XML
    body = _mapping(_element(root), shape)
    if name == "Error" and body.shape is BodyShape.XML and body.message:
        body = ErrorBody(body.message, body.code, body.texts, BodyShape.ASPNET)
    if not body.message:  # a SOAP fault or another document: all its text, flattened
        text = one_line(" ".join(str(t) for t in root.itertext()))
        return ErrorBody(text, body.code, (text,) if text else (), shape)
    return body


def _element(element: etree._Element) -> dict[str, object]:
    """An XML element as a mapping of child names to text or nested mappings."""
    out: dict[str, object] = {}
    for child in element:
        name = local_name(child)
        if not name:
            continue
        has_children = any(local_name(c) for c in child)
        out[name] = _element(child) if has_children else (child.text or "").strip()
    return out


class _Headings(HTMLParser):
    """Collects an HTML page's title, headings and first paragraph as plain text."""

    WANTED = frozenset({"title", "h1", "h2", "h3", "h4", "p"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._open: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.WANTED:
            self._open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            name, parts = self._open.pop()
            text = one_line("".join(parts), 300)
            if text:
                self.found.append((name, text))

    def handle_data(self, data: str) -> None:
        for _, parts in self._open:
            parts.append(data)


def _html(data: bytes) -> ErrorBody:
    parser = _Headings()
    try:
        parser.feed(data.decode("utf-8", errors="replace"))
        parser.close()
    except AssertionError:  # html.parser's rare give-up on broken markup
        pass
    headings = list(dict.fromkeys(text for tag, text in parser.found if tag != "p"))
    paragraphs = [text for tag, text in parser.found if tag == "p"]
    # HTTP.sys says it in one heading and a paragraph: <h2>Service Unavailable</h2><p>HTTP …
    extra = paragraphs[:1] if len(headings) <= 1 else []
    unique = list(dict.fromkeys([*headings, *extra]))
    text = one_line(" — ".join(unique), 500)
    return ErrorBody(text, None, tuple(unique), BodyShape.HTML)
