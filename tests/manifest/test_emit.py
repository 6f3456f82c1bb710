"""The manifest writer: every scalar reads back exactly; quoting only where it is needed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hpcspec.manifest.emit import Block, Flow, FlowMap, scalar, write
from hpcspec.manifest.source import load_yaml
from tests.conftest import examples

# Any text a job may carry, line breaks, controls, quotes and YAML indicators included.
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=examples(200), deadline=None)
@given(ANY_TEXT, KEYS)
def test_any_string_reads_back_as_written_in_block_and_flow(text: str, key: str) -> None:
    tree = Block(
        {
            key: text,
            "flow": Flow([text, text]),
            "map": FlowMap({key: text}),
            "rows": [FlowMap(a=text)],
        }
    )
    data = load_yaml(write(tree), file="t.yaml")
    assert data == {key: text, "flow": [text, text], "map": {key: text}, "rows": [{"a": text}]}


# Names, paths, command lines and numbers: the writer's shortcuts (texts surely plain, runs
# of digits) and its memory of decided texts, shared by block and flow, decide these.
CORE_WORDS = ("", "true", "false", "null", "True", "FALSE", "Null", "~", "0x1F", "0o7", "1e3")
CORE_WORDS += (".5", "-1", "+2", ".inf", "-.Inf", ".NaN", "2001-12-14", "<<", "=")
ASCII_TEXT = st.builds(
    str.__add__,  # YAML 1.2 core-schema words (bool, null, numbers, dates) begin most of them
    st.sampled_from(CORE_WORDS),
    st.text(st.sampled_from("abzAZ_019./\\ =+()$-:#,[]{}?'\"tfnyoTFNYO~!&*<"), max_size=24),
)


@settings(max_examples=examples(300), deadline=None)
@given(ASCII_TEXT, st.booleans())
def test_ascii_texts_read_back_in_flow_then_block_and_block_then_flow(
    text: str, flow_first: bool
) -> None:
    items: list[tuple[str, object]] = [("flow", Flow([text])), ("block", text)]
    tree = Block(items if flow_first else items[::-1])
    data = load_yaml(write(tree), file="t.yaml")
    assert data == {"flow": [text], "block": text}


@given(st.integers(-(2**40), 2**40), st.booleans())
def test_numbers_and_booleans_stay_typed(number: int, flag: bool) -> None:
    assert load_yaml(write(Block(n=number, b=flag)), file="t.yaml") == {"n": number, "b": flag}


def test_plain_where_it_reads_back_quoted_where_it_would_not() -> None:
    assert scalar("solve.exe --case *") == "solve.exe --case *"
    assert scalar("${solver} --case 3") == "${solver} --case 3"
    assert scalar("1e5") == "'1e5'"
    assert scalar("true") == "'true'"
    assert scalar("2026-11-29") == "'2026-11-29'"
    assert scalar("a: b") == "'a: b'"
    assert scalar("it's") == "it's"
    assert scalar("- x") == "'- x'"
    assert scalar("env:KEY", flow=True) == "'env:KEY'"
    assert scalar("a?", flow=True) == "'a?'"  # libyaml refuses ? in a flow plain scalar
    assert scalar("line\nbreak") == '"line\\nbreak"'
    assert scalar("sep\u2028x") == '"sep\\u2028x"'


def test_comments_and_empty_collections() -> None:
    job = Block(tasks=Block())
    job.comment = "identity: a=b"
    text = write(Block(jobs=Block(a=job), deps=Flow()), header=["first", "second"])
    assert text == (
        "# first\n# second\njobs:\n  a:\n    # identity: a=b\n    tasks: {}\ndeps: []\n"
    )
