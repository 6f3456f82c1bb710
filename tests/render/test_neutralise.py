"""Text from manifests and the server cannot act as a CI log command or a terminal escape."""

from __future__ import annotations

import json
import re
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from hpcspec.engine.drift import DriftReport, JobDrift
from hpcspec.engine.plan import DiffSection, FieldDiff
from hpcspec.engine.planfile import dumps
from hpcspec.render.drift import render_drift_markdown, render_drift_text
from hpcspec.render.neutralise import ZWSP, neutralise
from hpcspec.render.phrases import diff_values, quoted
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


def test_line_breaks_are_shown_exactly_not_obeyed() -> None:
    assert neutralise("ok\n::error::x") == "ok\\n::error::x"
    # `\r` is shown as itself: a value whose `\r` would overwrite a plan line looks different
    # from one with a line feed.
    assert neutralise("a\r\nb\rc\u2028d") == "a\\r\\nb\\rc\\u2028d"


def test_multiline_text_keeps_its_lines_but_each_is_inert() -> None:
    text = neutralise("first\r\n  ::error::x\n##vso[task.complete]", multiline=True)
    assert text.splitlines()[0] == "first"
    assert runner_commands(text) == []


def test_escapes_controls_and_invisible_characters_in_a_value_are_shown_as_escapes() -> None:
    raw = "\x1b[31mred\x1b[0m \x1b]0;title\x07 nul\x00 bidi\u202e zw\u200b tab\tend\ud800"
    assert neutralise(raw) == (
        "\\x1b[31mred\\x1b[0m \\x1b]0;title\\x07 nul\\x00 bidi\\u202e zw\\u200b tab\\tend\\ud800"
    )


def test_task_output_loses_its_colours_and_controls_but_keeps_its_lines() -> None:
    raw = "\x1b[31mred\x1b[0m \x1b]0;title\x07bell\x07 nul\x00 bidi\u202e tab\tend\ud800"
    assert neutralise(raw, multiline=True) == "red bell nul bidi tab end\ufffd"


def _invisible(text: str) -> list[str]:
    """Characters a terminal does not show as themselves (neutralise's own ZWSP aside)."""
    kinds = ("Cc", "Cf", "Cs", "Zl", "Zp")
    return [c for c in text if c != ZWSP and unicodedata.category(c) in kinds]


@given(st.text())
@example("\U000e0041\u2066\u061c\xad")  # a tag character, an isolate, a mark, soft hyphen
def test_a_value_shows_every_character_or_an_escape_for_it(text: str) -> None:
    assert _invisible(neutralise(text)) == []
    neutralise(text).encode("utf-8")  # raises on a lone surrogate: it can always be printed


def test_every_character_unicode_calls_invisible_is_shown_as_an_escape() -> None:
    kinds = ("Cc", "Cf", "Cs", "Zl", "Zp")
    hidden = "".join(c for c in map(chr, range(0x110000)) if unicodedata.category(c) in kinds)
    assert _invisible(neutralise(hidden)) == []


# Characters a terminal shows as nothing (controls, format characters, variation selectors,
# Default_Ignorable_Code_Point) or as a blank (Hangul fillers).
_SHOWN_AS_NOTHING = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u034f\u061c\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff\U000e0000-\U000e0fff]"
)
_SHOWN_AS_BLANK = re.compile("[\u115f\u1160\u3164\uffa0]")


@given(st.text(), st.text())
@example("build", "bu\u200bild")  # a zero-width space
@example("a\u202eb", "ab")  # a bidi override (removing it made these look the same)
@example("a\rb", "a\nb")
@example("##[x", "#\u200b#[x")  # our own zero-width space is not confused with a value's
@example("build\ufe0f", "build")  # a variation selector after a letter shows nothing
@example("a\u3164b", "a b")  # a Hangul filler shows as a blank
def test_two_different_quoted_values_never_look_the_same(first: str, second: str) -> None:
    def seen(value: str) -> str:  # what a reader sees: blanks and nothing for these
        return _SHOWN_AS_NOTHING.sub("", _SHOWN_AS_BLANK.sub(" ", quoted(value)))

    assert (seen(first) == seen(second)) == (first == second)


@given(st.text())
def test_no_input_survives_as_a_command(text: str) -> None:
    assert runner_commands(neutralise(text)) == []
    assert "\x1b" not in neutralise(text)


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf")).filter(
            lambda c: not _SHOWN_AS_NOTHING.match(c) and not _SHOWN_AS_BLANK.match(c)
        )
    )
)
def test_printable_single_line_text_reads_the_same(text: str) -> None:
    assert neutralise(text).replace(ZWSP, "") == text


@given(
    st.one_of(
        st.text(),
        st.lists(st.sampled_from([*PAYLOADS, "plain", "#", "##", "["]), max_size=6).map("".join),
    )
)
@example("cut \ud83d")  # a lone surrogate: raw, the document could not be written as UTF-8
@example("a\u202eb\u2067c\u200bd\ufeff")  # bidi controls, zero-width characters
def test_plan_json_is_inert_and_decodes_to_the_same_data(text: str) -> None:
    inert = dumps({"name": text, "nested": [{"x": text}]})
    inert.encode("utf-8")  # raises on a raw lone surrogate
    assert not re.search("[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]", inert)
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


_accented = st.text(st.sampled_from("aeiou cnAEIOUÉéèçñÅåü"), min_size=1, max_size=8).filter(
    lambda t: unicodedata.normalize("NFD", t) != t
)


@given(_accented, st.booleans())
@example("Café p1", False)
def test_a_value_kept_in_another_normal_form_is_shown_as_a_difference(
    text: str, literal: bool
) -> None:
    """A server that stores `é` as `e` and a combining accent keeps another value (plan shows
    it, test_respelling_server.py); the plan, drift and their markdown must not draw it as
    `"Café" → "Café"`, which a terminal draws alike (`told_apart`)."""

    def seen(shown: str) -> str:  # a reader sees canonically equivalent text alike
        return unicodedata.normalize("NFC", shown)

    live, wanted = unicodedata.normalize("NFD", text), unicodedata.normalize("NFC", text)
    diff = FieldDiff(DiffSection.PROPERTY, "Project", live, wanted, literal=literal)
    before, after = diff_values(diff).split(" → ")
    assert seen(before) != seen(after)
    report = DriftReport("s", (JobDrift("k", 1, "Running", (diff,)),))
    line = render_drift_text(report).splitlines()[1]
    shown_live, shown_wanted = line.split(": live ")[1].split(", manifest ")
    assert seen(shown_live) != seen(shown_wanted)
    row = render_drift_markdown(report).splitlines()[-2].split(" | ")
    assert seen(row[-2]) != seen(row[-1].rstrip(" |"))


def test_values_that_differ_in_their_normal_form_are_shown_with_escapes() -> None:
    diff = FieldDiff(DiffSection.ENV, "V", "Cafe\u0301", "Caf\u00e9")
    assert diff_values(diff) == '"Cafe\\u0301" → "Caf\\xe9"'
    plain = FieldDiff(DiffSection.ENV, "V", "Café", "Cafés")
    assert diff_values(plain) == '"Café" → "Cafés"'  # told apart as they are
