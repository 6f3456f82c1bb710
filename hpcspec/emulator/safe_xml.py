"""Parsing untrusted XML safely: no DTD, no entities, no network, bounded size.

Per the project's security rules (lxml with resolve_entities=False, no_network=True,
load_dtd=False, huge_tree=False, and any DOCTYPE refused), so XXE and billion-laughs
documents are rejected before anything reads them.
"""

from __future__ import annotations

import re

from lxml import etree

from hpcspec.emulator import errors, messages

MAX_XML_BYTES = 8 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse(data: bytes | str) -> etree._Element:
    """The root element; SchedulerError (400) for anything unsafe or malformed."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_XML_BYTES:
        raise errors.bad_request(
            messages.INVALID_OPERATION, f" the XML document is larger than {MAX_XML_BYTES} bytes."
        )
    if _DOCTYPE.search(raw):
        raise errors.bad_request(
            messages.INVALID_OPERATION, " XML documents with a DOCTYPE or entities are refused."
        )
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as error:
        raise errors.bad_request(
            messages.INVALID_OPERATION, f" the XML is not well formed: {error}."
        ) from None
    if root is None:
        raise errors.bad_request(messages.INVALID_OPERATION, " the XML document is empty.")
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", ""):
        raise errors.bad_request(
            messages.INVALID_OPERATION, " XML documents with a DOCTYPE or entities are refused."
        )
    return root


def local_name(element: etree._Element) -> str:
    """`{namespace}Name` → `Name`; comments and processing instructions → ""."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]
