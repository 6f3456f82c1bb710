"""XML 1.0 escaping of the values `write.render` puts in job XML, byte for byte as libxml2's
serializer writes them (the renderer formerly built the file with lxml; a hypothesis test in
tests/jobxml/test_render_equivalence.py holds the two equal).

An attribute value escapes `& < > "` and writes tab, line feed and carriage return as
character references; element text escapes `& < >` and a carriage return. Anything else,
non-ASCII included, is written as itself (the file is UTF-8). A value XML 1.0 cannot carry
(C0 controls other than tab/LF/CR, U+FFFE, U+FFFF, lone surrogates) is refused with the
`ValueError` lxml raised for it, so `render`'s error stays what it was.
"""

from __future__ import annotations

import re

from hpcspec.hpcpack.xml_chars import UNCARRIABLE as _UNCARRIABLE
from hpcspec.hpcpack.xml_chars import first_uncarriable

# The first character `attribute` would change or refuse (None: `value` is written as is).
find_attribute_special = re.compile(f'[&<>"\t\n\r{_UNCARRIABLE}]').search
_TEXT_SPECIAL = re.compile(f"[&<>\r{_UNCARRIABLE}]").search
# lxml's words for a string it refuses (lxml/apihelpers.pxi, `_utf8`)
NOT_XML = (
    "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
)


def attribute(value: str) -> str:
    """`value` as the text between an attribute's double quotes."""
    if find_attribute_special(value) is None:  # nearly always: names, command lines, paths
        return value
    _refuse_uncarriable(value)
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def text(value: str) -> str:
    """`value` as an element's text content."""
    if _TEXT_SPECIAL(value) is None:
        return value
    _refuse_uncarriable(value)
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _refuse_uncarriable(value: str) -> None:
    if first_uncarriable(value) is not None:
        value.encode("utf-8")  # a lone surrogate: the UnicodeEncodeError lxml raised
        raise ValueError(NOT_XML)
