"""The markdown renderer: marker, summary table first, folded details, a hard size cap."""

from __future__ import annotations

import re

from hpcspec.engine.plan import Action, Change, DiffSection, FieldDiff, Plan, Reason, ReasonCode
from hpcspec.engine.planfile import plan_digest
from hpcspec.render import render_markdown
from hpcspec.render.markdown import escape
from tests.render import plans


def test_the_first_line_is_a_hidden_marker_with_stack_and_digest() -> None:
    plan = plans.every_action()
    first = render_markdown(plan).splitlines()[0]
    assert first == f"<!-- hpcspec-plan stack=cfd-nightly digest={plan_digest(plan)} -->"


def test_the_marker_cannot_be_closed_early_by_a_stack_name() -> None:
    plan = Plan(stack="a --> <b>x</b>", cluster="c", changes=())
    first = render_markdown(plan).splitlines()[0]
    assert first.count("-->") == 1 and first.endswith("-->")


def test_stack_and_cluster_are_named_and_the_table_comes_before_details() -> None:
    text = render_markdown(plans.every_action())
    assert "stack <code>cfd-nightly</code>" in text.splitlines()[1]
    assert "https://head.example.org/hpc" in text.splitlines()[1]
    assert text.index("| Action | Jobs |") < text.index("<details")
    assert "| <code>&#45;/+</code> replace | 2 |" in text


def test_refused_changes_are_called_out_and_open() -> None:
    text = render_markdown(plans.every_action())
    assert "> **Refused:** 1 change (<code>solve</code>)" in text
    assert "<details open><summary><code>&#45;/+</code> <b>solve</b>" in text


def test_user_text_is_escaped() -> None:
    assert escape("*bold* <img src=x> [l](u) `c` a|b ~s~ $x$ &amp;") == (
        "&#42;bold&#42; &#60;img src=x&#62; &#91;l&#93;(u) &#96;c&#96; a&#124;b "
        "&#126;s&#126; &#36;x&#36; &#38;amp;"
    )
    assert escape("# heading") == "&#35; heading"
    assert escape("1. item") == "1&#46; item"
    assert "@org" not in escape("ping @org/team")


def _big_plan(jobs: int) -> Plan:
    changes = tuple(
        Change(
            f"job-{i:04d}",
            Action.UPDATE if i % 2 else Action.CREATE,
            reasons=(Reason(ReasonCode.SPEC_CHANGED, f"the spec of job {i} changed"),),
            diffs=(FieldDiff(DiffSection.PROPERTY, "Name", f"old name {i}", f"new name {i}"),),
            live_id=1000 + i,
            live_state="Queued",
        )
        for i in range(jobs)
    )
    return Plan(stack="big", cluster="https://head/hpc", changes=changes)


def test_a_plan_of_2000_jobs_stays_under_60000_characters_with_a_note_of_what_was_cut() -> None:
    text = render_markdown(_big_plan(2000))
    assert len(text) <= 60_000
    shown = text.count("<details>")
    assert 0 < shown < 2000
    note = re.search(r"… (\d+) more jobs not shown \(plan too large: (.*?)\)", text)
    assert note, text[-500:]
    assert int(note.group(1)) == 2000 - shown
    assert "run hpcspec plan locally" in text
    assert "| <code>&#43;</code> create | 1000 |" in text  # the counts still cover every job
    assert text.count("</details>") == shown  # whole sections only


def test_a_plan_that_fits_is_not_cut() -> None:
    text = render_markdown(_big_plan(20))
    assert text.count("<details>") == 20 and "not shown" not in text


def test_the_limit_is_honoured_for_any_size() -> None:
    plan = _big_plan(50)
    for limit in (300, 500, 2_000, 7_777):
        text = render_markdown(plan, limit=limit)
        assert len(text) <= limit
        assert "not shown" in text


def test_no_ansi_ever() -> None:
    assert "\x1b" not in render_markdown(plans.every_action())
