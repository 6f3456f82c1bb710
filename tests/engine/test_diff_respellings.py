"""`diff.same_value`: a live value re-spelled as the references document the same value
compares equal, and any other value does not (docs/apply.md, "How plan compares
live values"). The end-to-end side, through a server that re-spells: test_respelling_server.py.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from hpcspec.engine.diff import UNORDERED, same_value, task_diffs
from hpcspec.hpcpack.catalogue import JOB_PROPERTIES, TASK_PROPERTIES
from hpcspec.hpcpack.definition import JobDefinition, SecretRef, TaskDefinition
from hpcspec.hpcpack.readback import task_definition
from hpcspec.hpcpack.values import parse_duration, parse_int, parse_priority

_name = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,6}", fullmatch=True)
_names = st.lists(_name, min_size=1, max_size=5, unique_by=str.lower)


@given(
    st.sampled_from(sorted(UNORDERED)),
    _names,
    st.randoms(use_true_random=False),
    st.sampled_from([",", ";", ", ", " ; "]),
)
def test_a_list_in_any_order_case_spacing_or_separator_is_the_same(
    prop: str, names: list[str], rnd: object, separator: str
) -> None:
    shuffled = list(names)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    live = separator.join(n.swapcase() for n in shuffled)
    assert same_value(prop, ",".join(names), live)


@given(st.sampled_from(sorted(UNORDERED)), _names, _name)
def test_a_list_with_an_item_more_or_less_is_not_the_same(
    prop: str, names: list[str], extra: str
) -> None:
    if extra.lower() not in {n.lower() for n in names}:
        assert not same_value(prop, ",".join(names), ",".join([*names, extra]))
    if len(names) > 1:
        assert not same_value(prop, ",".join(names), ";".join(names[1:]))


_bound = st.one_of(st.integers(-5, 99).map(str), st.sampled_from(["min", "max"]))
_code = st.one_of(
    st.integers(-5, 99).map(str), st.tuples(_bound, _bound).map(lambda b: f"{b[0]}..{b[1]}")
)


@given(
    st.lists(_code, min_size=1, max_size=4),
    st.sampled_from(["JobValidExitCodes", "TaskValidExitCodes"]),
)
def test_exit_codes_with_min_and_max_in_any_case_are_the_same(codes: list[str], prop: str) -> None:
    desired = ",".join(codes)
    assert same_value(prop, desired, desired.upper())
    assert same_value(prop, desired, ", ".join(c.title() for c in codes))
    assert not same_value(prop, desired, desired + ",100")


_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x24F), min_size=1, max_size=12)


@given(
    _text,
    st.sampled_from(
        [
            lambda v: v + " ",
            lambda v: " " + v,
            lambda v: v.strip(),
            lambda v: unicodedata.normalize("NFD", v),
            lambda v: unicodedata.normalize("NFC", v),
            lambda v: v.replace("\r\n", "\n"),
            lambda v: v[:3],
            str.lower,
        ]
    ),
)
def test_text_kept_any_other_way_is_a_difference(value: str, change: object) -> None:
    """The references document no normalisation of text (Name, Project, …), so white space,
    Unicode normal form, line breaks, length and case all count."""
    live = change(value)  # type: ignore[operator]
    for prop in ("Name", "Project", "EmailAddress", "OrderBy"):
        assert same_value(prop, value, live) is (live == value)


@given(st.integers(0, 2**31 - 1), st.integers(0, 3), st.sampled_from(["", "+", " ", " +"]))
def test_numbers_read_as_int_parse_reads_them(value: int, zeros: int, prefix: str) -> None:
    """Leading zeros, a sign and white space (.NET `int.Parse`, the job XML importer's rule)."""
    text = f"{prefix}{'0' * zeros}{value} "
    assert parse_int(text) == value
    assert parse_duration(text) == value
    if value <= 4000:
        assert parse_priority(text) == value


def test_every_list_property_compared_as_a_set_is_a_list_of_names() -> None:
    kinds = {
        name: (JOB_PROPERTIES.get(name) or TASK_PROPERTIES[name]).kind.value for name in UNORDERED
    }
    assert kinds == {
        "NodeGroups": "list",
        "RequestedNodes": "list",
        "SoftwareLicense": "list",
        "RequiredNodes": "string",  # a task's: comma-separated text
    }


def test_depends_on_is_split_at_commas_only() -> None:
    """A matrix names its tasks `post[mesh=coarse;re=1e5]`: `;` is part of a name."""
    task = task_definition({"Name": "t", "CommandLine": "x", "DependsOn": "a[x=1;y=2], b"})
    assert task.depends_on == ("a[x=1;y=2]", "b")
    wanted = TaskDefinition("t", "x", depends_on=("A[x=1;y=2]", "b"))
    assert task_diffs((wanted,), (task,), allowed=True) == []
    split = TaskDefinition("t", "x", depends_on=("a[x=1", "y=2]", "b"))
    assert [d.name for d in task_diffs((split,), (task,), allowed=True)] == ["t/dependsOn"]


def test_the_pairs_job_xml_would_trim_are_named_by_their_place() -> None:
    job = JobDefinition(
        custom_properties=(("hpcspec.key", "k"), ("ok", "v"), ("team", "t\n")),
        env=(("S", SecretRef("env", "X")), (" V", "v"), ("W", "w")),
        tasks=(
            TaskDefinition("t", "x", env=(("E", "\u00a0e"),), custom_properties=(("c ", "v"),)),
        ),
    )
    assert job.xml_trimmed_pairs() == (
        ("env", " V"),
        ("customProperties", "team"),
        ("tasks", "t", "env", "E"),
        ("tasks", "t", "customProperties", "c "),
    )


def test_a_template_or_node_group_name_is_the_same_in_any_case_other_text_is_not() -> None:
    assert same_value("JobTemplate", "default", "Default")
    assert same_value("RequestedNodeGroup", "HighMem", "HIGHMEM")
    assert not same_value("JobTemplate", "Default", "Default2")
    assert not same_value("Project", "default", "Default")
