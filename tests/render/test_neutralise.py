"""Text from manifests and the server cannot act as a CI log command or a terminal escape."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from hpcspec.engine.planfile import dumps
from hpcspec.render.neutralise import ZWSP, neutralise
from tests.render.ci import PAYLOADS, runner_commands


def test_github_workflow_commands_are_inert() -> None:
    assert neutralise("::set-output name=x::y") == ":" + ZWSP + ":set-output name=x::y"
    assert runner_commands(neutralise("  ::add-mask::hunter2")) == []


def test_azure_logging_commands_are_inert_anywhere_in_a_line() -> None:
    text = neutralise("build ok ##vso[task.setvariable variable=PATH]x and ##[group]y")
    assert runner_commands(text) == []
    assert (
        text.replace(ZWSP, "") == "build ok ##vso[task.setvariable variable=PATH]x and ##[group]y"
    )


def test_text_that_is_not_a_command_is_unchanged() -> None:
    for text in ("std::vector<int>", "[IO.Path]::Combine($a, $b)", "C# ## heading", r"\\fs\cfd"):
        assert neutralise(text) == text


def test_line_breaks_are_shown_not_obeyed() -> None:
    assert neutralise("ok\n::error::x") == "ok\\n::error::x"
    assert neutralise("a\r\nb\rc\u2028d") == "a\\nb\\nc\\nd"


def test_multiline_text_keeps_its_lines_but_each_is_inert() -> None:
    text = neutralise("first\r\n  ::error::x\n##vso[task.complete]", multiline=True)
    assert text.splitlines()[0] == "first"
    assert runner_commands(text) == []


def test_ansi_escapes_and_control_characters_are_removed() -> None:
    raw = "\x1b[31mred\x1b[0m \x1b]0;title\x07bell\x07 nul\x00 bidi\u202e tab\tend"
    assert neutralise(raw) == "red bell nul bidi tab end"


@given(st.text())
def test_no_input_survives_as_a_command(text: str) -> None:
    assert runner_commands(neutralise(text)) == []
    assert "\x1b" not in neutralise(text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf"))))
def test_printable_single_line_text_reads_the_same(text: str) -> None:
    assert neutralise(text).replace(ZWSP, "") == text


@given(
    st.one_of(
        st.text(),
        st.lists(st.sampled_from([*PAYLOADS, "plain", "#", "##", "["]), max_size=6).map("".join),
    )
)
def test_plan_json_is_inert_and_decodes_to_the_same_data(text: str) -> None:
    inert = dumps({"name": text, "nested": [{"x": text}]})
    assert json.loads(inert) == {"name": text, "nested": [{"x": text}]}
    assert runner_commands(inert) == []


# What the renderers write around a value: indentation or a word before it, a `:` (`key:
# no change`), `[N]` (a sweep instance), ` (job 7)` after it.
_BEFORE = ("", "  ", "    ~ ", "job ")
_AFTER = ("", ":", ": no change", "[3]", " (job 7)")


@given(
    st.one_of(
        st.text(),
        st.lists(
            st.sampled_from([*PAYLOADS, ":", "#", "##", "[", " ", "vso", "VSO"]), max_size=4
        ).map("".join),
    ),
    st.sampled_from(_BEFORE),
    st.sampled_from(_AFTER),
)
@example(":", "    ", ": no change")  # found by Hypothesis in the plan renderer: `    :: no change`
@example("x##", "", "[3]")
@example("x##vSo", "", "[3]")  # the review's: Azure's `##vso[` in any case
def test_a_value_stays_inert_with_what_a_renderer_writes_around_it(
    text: str, before: str, after: str
) -> None:
    assert runner_commands(before + neutralise(text) + after) == []
