"""`jobxml.render` writes job XML as text; these tests hold it byte-equal to the lxml-built
renderer it replaced (`lxml_reference.py`) for any definition: element and attribute order,
indentation, escaping of `& < > "`, tab/LF/CR, non-ASCII and astral characters, empty and
absent values, duplicate properties, secrets; and the same error where lxml refused a value
(control characters, U+FFFE/U+FFFF, lone surrogates).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import jobxml
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES
from hpcspec.hpcpack.definition import JobDefinition, SecretRef, Sweep, TaskDefinition
from hpcspec.hpcpack.jobxml import escape
from hpcspec.hpcpack.jobxml.schema import TASK_STRUCTURAL
from tests.conftest import examples
from tests.jobxml import lxml_reference

# What the escaping must get right, and what XML 1.0 cannot carry.
_MARKUP = "&<>\"'\t\n\r ]]>;#x"
_UNUSUAL = "é€\u00a0\u0085\u2028\u200b\x7f\x80\x9f\ufdd0\ufeff\U0001f600\U0010ffff"
_UNCARRIABLE = "\x00\x01\x08\x0b\x0c\x0e\x1f\ufffe\uffff\ud800\udbff\udc00\udfff"

_carriable_char = st.one_of(
    st.sampled_from(_MARKUP + _UNUSUAL),
    st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff"),
)
carriable = st.text(_carriable_char, max_size=12)
# Now and then a character XML cannot carry: most such definitions are refused, by both.
anything = st.text(st.one_of(_carriable_char, st.sampled_from(_UNCARRIABLE)), max_size=8)


def _definitions(text: st.SearchStrategy[str]) -> st.SearchStrategy[JobDefinition]:
    values = st.one_of(st.integers(-5000, 5000), st.booleans(), text)
    env_values = st.one_of(text, st.builds(SecretRef, st.sampled_from(["env", "file"]), text))

    def properties(names: list[str]) -> st.SearchStrategy[tuple[tuple[str, object], ...]]:
        """Known (imported or not) and unknown names, in any order, duplicates included."""
        name = st.one_of(st.sampled_from(names), st.sampled_from(["Unknown", "Version"]))
        return st.lists(st.tuples(name, values), max_size=5).map(tuple)

    def entries(value: st.SearchStrategy[object]) -> st.SearchStrategy[tuple[object, ...]]:
        return st.lists(st.tuples(text, value), max_size=3).map(tuple)

    tasks = st.builds(
        TaskDefinition,
        name=text,
        command_line=text,
        work_directory=st.none() | text,
        depends_on=st.lists(text, max_size=3).map(tuple),
        properties=properties(list(TASK_PROPERTIES)),
        custom_properties=entries(text),
        env=entries(env_values),
        sweep=st.none()
        | st.builds(Sweep, st.integers(-10, 100), st.integers(-10, 100), st.integers()),
    )
    return st.builds(
        JobDefinition,
        properties=properties(list(JOB_PROPERTIES)),
        custom_properties=entries(text),
        env=entries(env_values),
        tasks=st.lists(tasks, max_size=4).map(tuple),
        parent_job_ids=st.lists(st.integers(0, 10**6), max_size=3).map(tuple),
    )


def _resolver(kind: str) -> jobxml.SecretResolver | None:
    if kind == "none":
        return None
    if kind == "plain":
        return lambda ref: f"{ref.name}-value"
    return lambda ref: f"{ref.name}\x01"  # a secret XML cannot carry


def _outcome(render: object, definition: JobDefinition, secrets: str) -> object:
    try:
        return render(definition, secrets=_resolver(secrets))  # type: ignore[operator]
    except HpcspecError as refused:
        return ("refused", str(refused), refused.code, refused.hint)


@settings(max_examples=examples(60))
@given(_definitions(carriable), st.sampled_from(["none", "plain", "uncarriable"]))
@example(JobDefinition(), "none")
@example(JobDefinition(tasks=(TaskDefinition("", ""),)), "none")
@example(
    JobDefinition(
        properties=(("Name", "a&b<c>\"d'\t\n\r"), ("Priority", 2005), ("IsExclusive", True)),
        custom_properties=(("k", ""), ("", "v\r\n\t<&>\"'")),
        env=(("S", SecretRef("env", "X")), ("E", "é😀")),
        tasks=(TaskDefinition("t", "c", env=(("A", ""),), sweep=Sweep(1, 5, 2)),),
    ),
    "plain",
)
@example(JobDefinition(properties=(("Name", "a\ud800\x01"),)), "none")
@example(JobDefinition(properties=(("Name", "a\x01\ud800"),)), "none")
@example(JobDefinition(tasks=(TaskDefinition("\x00", "\udfff"),)), "none")
@example(JobDefinition(properties=(("MinCores", True), ("MaxCores", 1))), "none")
def test_render_is_byte_equal_to_the_lxml_built_renderer(
    definition: JobDefinition, secrets: str
) -> None:
    assert _outcome(jobxml.render, definition, secrets) == _outcome(
        lxml_reference.render, definition, secrets
    )


@settings(max_examples=examples(30))
@given(_definitions(anything), st.sampled_from(["none", "plain"]))
def test_a_value_xml_cannot_carry_is_refused_as_the_lxml_built_renderer_refused_it(
    definition: JobDefinition, secrets: str
) -> None:
    assert _outcome(jobxml.render, definition, secrets) == _outcome(
        lxml_reference.render, definition, secrets
    )


@settings(max_examples=examples(20))
@given(_definitions(carriable))
def test_what_renders_parses_back_with_every_task_value_intact(definition: JobDefinition) -> None:
    data = jobxml.render(definition, secrets=_resolver("plain"))
    tasks = etree.fromstring(data).findall(f"{{{jobxml.NAMESPACE}}}Tasks/*")
    assert [t.get("CommandLine") for t in tasks] == [t.command_line for t in definition.tasks]
    assert [t.get("Name") for t in tasks] == [t.name or None for t in definition.tasks]


@pytest.mark.parametrize(
    ("value", "attribute", "text"),
    [
        ("plain", "plain", "plain"),
        ("a&b", "a&amp;b", "a&amp;b"),
        ("<x>", "&lt;x&gt;", "&lt;x&gt;"),
        ("\"q'", "&quot;q'", "\"q'"),
        ("t\tl\nc\r", "t&#9;l&#10;c&#13;", "t\tl\nc&#13;"),
        ("é😀\x7f", "é😀\x7f", "é😀\x7f"),
        ("", "", ""),
    ],
)
def test_values_are_escaped_as_libxml2_writes_them(value: str, attribute: str, text: str) -> None:
    assert escape.attribute(value) == attribute
    assert escape.text(value) == text


@pytest.mark.parametrize("value", ["\x00", "a\x0bb", "\x1f", "\ufffe", "\uffff"])
def test_characters_xml_cannot_carry_are_refused_as_lxml_refused_them(value: str) -> None:
    for write in (escape.attribute, escape.text):
        with pytest.raises(ValueError, match="must be XML compatible"):
            write(value)


def test_a_lone_surrogate_is_refused_with_its_position() -> None:
    with pytest.raises(UnicodeEncodeError, match="position 1: surrogates not allowed"):
        escape.attribute("a\ud800")


def test_no_imported_property_is_written_under_a_structural_attribute_name() -> None:
    # the renderer writes each attribute once; a property named like a structural attribute
    # would write it twice, where lxml's `set` replaced the first
    task_names = {TASK_PROPERTIES[n].xml_name for n in jobxml.IMPORTED_TASK_PROPERTIES}
    job_names = {JOB_PROPERTIES[n].xml_name for n in jobxml.IMPORTED_JOB_PROPERTIES}
    assert not task_names & {*TASK_STRUCTURAL, "IsParametric"}
    assert not job_names & {"Version", "ParentJobIds", "xmlns"}


def test_kept_attributes_are_not_reused_for_equal_values_of_another_class() -> None:
    # True == 1 and hash alike, but a bool is written "true" and an int "1"
    for value in (True, 1, False, 0, "1", True):
        task = TaskDefinition("t", "c", properties=(("MinCores", value), ("IsExclusive", value)))
        definition = JobDefinition(properties=(("MinCores", value),), tasks=(task,))
        assert jobxml.render(definition) == lxml_reference.render(definition)
