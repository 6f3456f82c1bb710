"""A plan too large for a pull-request comment or a step summary is cut, and the note that
says so is never hidden inside a job's fold (`hpcspec/markdown_cut.py`)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec import pr_comment
from hpcspec.cli import ci
from hpcspec.markdown_cut import cut_at_line
from hpcspec.render import render_markdown
from tests.render.test_injection import hostile_plan


def _big_plan_markdown() -> str:
    """Two stacks' plans of 60 refused replaces (open folds), about 120,000 characters."""
    plan = hostile_plan("x" * 50)
    change = plan.changes[0]
    plan = replace(plan, changes=tuple(replace(change, key=f"job{i}") for i in range(60)))
    one = render_markdown(plan)
    return one + "\n\n" + one


def _folds_open_before(text: str, note: str) -> int:
    before = text[: text.index(note)]
    return len(re.findall(r"<details[\s>]", before)) - before.count("</details>")


@pytest.mark.parametrize("limit", [20_011, 40_000, 65_000, 70_000])
def test_a_cut_comment_closes_its_folds_before_the_note(limit: int) -> None:
    body = pr_comment.compose("plan a.yaml", _big_plan_markdown(), limit=limit)
    assert len(body) <= limit
    assert _folds_open_before(body, "> **hpcspec:** cut to fit") == 0


@pytest.mark.parametrize("room", [20_011, 40_000, 65_000, 70_000])
def test_a_cut_step_summary_closes_its_folds_before_the_note(room: int) -> None:
    summary = ci.truncated_summary(_big_plan_markdown(), room)
    assert len(summary.encode("utf-8")) <= room
    assert _folds_open_before(summary, "> **hpcspec:** this summary was cut") == 0


@given(
    st.lists(
        st.sampled_from(["<details><summary>x</summary>", "</details>", "row é", "", "| a |"]),
        max_size=30,
    ),
    st.integers(min_value=0, max_value=300),
    st.booleans(),
)
def test_a_cut_ends_at_a_line_fits_and_leaves_no_fold_open(
    lines: list[str], room: int, in_bytes: bool
) -> None:
    markdown = "".join(line + "\n" for line in lines)
    cut = cut_at_line(markdown, room, in_bytes=in_bytes)
    assert (len(cut.encode("utf-8")) if in_bytes else len(cut)) <= room
    assert cut == "" or cut.endswith("\n")
    opened = len(re.findall(r"<details[\s>]", cut)) - cut.count("</details>")
    assert opened <= 0
    kept = re.sub(r"(\n</details>\n\n)+\Z", "", cut)  # what was added: closers only
    assert markdown.startswith(kept)
