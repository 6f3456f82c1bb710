"""An answer's bytes as plain Python: JSON, or the DataContract XML the server may answer with
(`ArrayOfProperty`, `int`, `string`, `HpcWebServiceFault`…), parsed by the project's safe
parser (`jobxml.safe`: no DOCTYPE, no entities, no network). The transport decodes every
answer with `decode_body`; the codec (`codec.py`) reads the result.
"""

from __future__ import annotations

import json
import re

from lxml import etree

from hpcspec.hpcpack.jobxml.safe import JobXmlError, local_name, parse_root

MAX_BODY_BYTES = 64 * 1024 * 1024

# A JSON `\\ud800` escape without its other half decodes to a lone surrogate, which no UTF-8
# output can carry (printing it, or a plan holding it, raised UnicodeEncodeError). .NET strings
# are UTF-16, so a head node that cuts a Name between the halves of a pair sends one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_body(content: bytes, content_type: str | None) -> object:
    """JSON, or the DataContract XML forms the server may answer with, as plain Python."""
    if len(content) > MAX_BODY_BYTES:
        raise ValueError(f"the answer is larger than {MAX_BODY_BYTES} bytes")
    if not content.strip():
        return None
    kind = (content_type or "").lower()
    if "xml" in kind or content.lstrip()[:1] == b"<":
        try:
            root = parse_root(content, source="response", what="the XML answer")
        except JobXmlError as bad:
            raise ValueError(bad.message) from None
        return _from_xml(root)
    if "json" in kind or content.lstrip()[:1] in b'[{"-0123456789tfn':
        return load_json(content)
    return content.decode("utf-8", errors="replace")


def load_json(content: bytes) -> object:
    """`json.loads(content)`, each lone surrogate replaced by U+FFFD (as .NET's UTF-8 encoder
    writes one), so every string from the server can be printed and saved (docs/security.md).
    Raises ValueError for what is not JSON, and for JSON nested too deep to read (json's
    RecursionError, which the transport would not take for a bad answer)."""
    try:
        data = json.loads(content)
    except RecursionError:
        raise ValueError("the JSON answer is nested too deeply") from None
    return _sound(data) if _SURROGATE_ESCAPE.search(content) else data


def _sound(value: object) -> object:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_sound(v) for v in value]
    if isinstance(value, dict):
        return {_sound(k): _sound(v) for k, v in value.items()}
    return value


def _from_xml(element: etree._Element) -> object:
    """DataContract XML (`ArrayOfProperty`, `ArrayOfObject`, `int`, `string`, faults)."""
    name = local_name(element)
    children = [c for c in element if local_name(c)]
    if name == "int" or name == "long":
        return int((element.text or "").strip())
    if name == "string":
        return element.text or ""
    if name.startswith("ArrayOf"):
        return [_from_xml(c) for c in children]
    if name == "Property":
        fields = {local_name(c).lower(): c.text or "" for c in children}
        return {"Name": fields.get("name", ""), "Value": fields.get("value", "")}
    if name == "Object":
        props = next((c for c in children if local_name(c) == "Properties"), None)
        return {"Properties": [_from_xml(p) for p in (props if props is not None else [])]}
    if name == "HpcWebServiceFault" or children:
        out: dict[str, object] = {}
        for child in children:
            text = (child.text or "").strip()
            out[local_name(child)] = int(text) if text.lstrip("-").isdigit() else text
        return out
    return element.text or ""
