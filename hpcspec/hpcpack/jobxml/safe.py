"""Parsing untrusted job XML safely: no DOCTYPE at all, no entities, no network, bounded size.

The project's rule (common brief, Security): lxml with resolve_entities=False,
no_network=True, load_dtd=False, huge_tree=False, and any DOCTYPE refused before lxml sees
the document, so XXE, external DTDs and billion-laughs payloads never expand.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from lxml import etree

from hpcspec.errors import HpcspecError, Location

MAX_JOB_XML_BYTES = 64 * 1024 * 1024  # a 10,000-task job renders to about 6 MB
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_ENCODING = re.compile(rb"^(<\?xml[^>]*?)\s+encoding=[\"'][^\"']*[\"']")


class JobXmlError(HpcspecError):
    """Job XML that cannot be read: unsafe, malformed, or not what the importer accepts."""

    def __init__(self, message: str, *, source: str, hint: str | None = None) -> None:
        super().__init__(message, code="invalid-job-xml", hint=hint, location=Location(source))


def parse_root(data: bytes, *, source: str, what: str = "the job XML") -> etree._Element:
    """The root element of `data`; JobXmlError naming `source` for anything unsafe, its
    message calling the document `what` (a server's answer is no job XML the user wrote)."""
    data = _checked(data, source, what)
    try:
        root = etree.fromstring(data, etree.XMLParser(**_SAFE))  # type: ignore[arg-type]
    except etree.XMLSyntaxError as bad:
        raise JobXmlError(f"{what} is not well formed: {bad}", source=source) from None
    return _no_doctype(root, source, what)


def parse_streaming(
    data: bytes, *, source: str, tag: str, take: Callable[[etree._Element], bool]
) -> etree._Element:
    """Parse `data` as `parse_root` does, handing each `tag` element to `take` once it is
    complete. An element `take` accepts (returns True for) is emptied at once, and every
    `_FREE_EVERY` of them the emptied elements before it are removed, so a job of 100,000 tasks
    is never all held as XML. Returns the root, without the removed elements."""
    data = _checked(data, source)
    # remove_blank_text: the whitespace between elements is never read (every text the
    # reader takes is trimmed), and a task's indentation is a third of its nodes
    events = etree.iterparse(
        io.BytesIO(data), events=("end",), tag=tag, remove_blank_text=True, **_SAFE
    )
    taken = 0
    try:
        for _, element in events:
            if take(element):
                element.clear(keep_tail=True)
                taken += 1
                if not taken % _FREE_EVERY:  # in batches: one call, not three, per element
                    parent = element.getparent()
                    if parent is not None:  # only those before: the parser may be ahead
                        del parent[: parent.index(element)]
        root: etree._Element | None = events.root
    except etree.XMLSyntaxError as bad:
        raise JobXmlError(f"the job XML is not well formed: {bad}", source=source) from None
    return _no_doctype(root, source)


_FREE_EVERY = 256

# lxml's parser settings for untrusted job XML (the module docstring says why).
_SAFE: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def _checked(data: bytes, source: str, what: str = "the job XML") -> bytes:
    """`data` as UTF-8, once it passes what is checked before any parsing: its size, and no
    DOCTYPE or entity declaration anywhere."""
    if len(data) > MAX_JOB_XML_BYTES:
        raise JobXmlError(
            f"{what} is {len(data)} bytes; the limit is {MAX_JOB_XML_BYTES}", source=source
        )
    if data.startswith(_UTF16):
        data = _ENCODING.sub(rb"\1", data.decode("utf-16").encode("utf-8"), count=1)
    if _DOCTYPE.search(data):
        raise JobXmlError(
            f"{what} has a DOCTYPE or entity declaration; hpcspec refuses them "
            "(they enable XXE, external DTD and billion-laughs attacks)",
            source=source,
            hint="job files written by HPC Pack never contain a DOCTYPE: remove it",
        )
    return data


def _no_doctype(
    root: etree._Element | None, source: str, what: str = "the job XML"
) -> etree._Element:
    if root is None:
        raise JobXmlError(f"{what} document is empty", source=source)
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise JobXmlError(f"{what} has a DOCTYPE; hpcspec refuses it", source=source)
    return root


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace ('' for comments and the like)."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""  # `{namespace}Name`
