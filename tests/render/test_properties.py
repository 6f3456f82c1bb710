"""Properties of every renderer over generated plans: safe in CI logs, bounded, faithful."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hpcspec.engine.plan import Plan
from hpcspec.engine.planfile import plan_document
from hpcspec.render import render_json, render_markdown, render_text
from tests.conftest import examples
from tests.render.ci import runner_commands
from tests.render.strategies import plan_strategy

_OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


@settings(max_examples=examples(50), deadline=None)
@given(plan=plan_strategy, limit=st.integers(min_value=200, max_value=5_000))
def test_any_plan_renders_safely_everywhere(plan: Plan, limit: int) -> None:
    text = render_text(plan, color=False)
    coloured = render_text(plan, color=True)
    markdown = render_markdown(plan, limit=limit)
    document = render_json(plan)
    for output in (text, _OUR_COLOURS.sub("", coloured), markdown, document):
        assert runner_commands(output) == []
        assert "\x1b" not in output
    assert _OUR_COLOURS.sub("", coloured) == text
    assert len(markdown) <= limit
    assert markdown.startswith("<!-- hpcspec-plan stack=")
    assert json.loads(document) == json.loads(json.dumps(plan_document(plan)))
    assert text.splitlines()[0].startswith("Plan for stack ")
