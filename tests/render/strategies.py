"""Hypothesis strategies for Plans: every field generated, sensitive diffs as the planner
makes them (`(sensitive)` or absent), strings mixed with CI log-command payloads."""

from __future__ import annotations

from hypothesis import strategies as st

from hpcspec.engine.plan import (
    Action,
    Block,
    BlockCode,
    Change,
    DiffSection,
    Extension,
    FailedOnly,
    FieldDiff,
    Plan,
    Reason,
    ReasonCode,
)
from tests.render.ci import PAYLOADS

words = st.text(max_size=20) | st.sampled_from(PAYLOADS)
maybe = st.none() | words


@st.composite
def field_diffs(draw: st.DrawFn) -> FieldDiff:
    sensitive = draw(st.booleans())
    value = st.sampled_from([None, "(sensitive)"]) if sensitive else maybe
    return FieldDiff(
        section=draw(st.sampled_from(DiffSection)),
        name=draw(words),
        before=draw(value),
        after=draw(value),
        sensitive=sensitive,
        allowed_now=draw(st.booleans()),
    )


changes = st.builds(
    Change,
    key=words,
    action=st.sampled_from(Action),
    reasons=st.lists(st.builds(Reason, st.sampled_from(ReasonCode), words), max_size=3).map(tuple),
    diffs=st.lists(field_diffs(), max_size=4).map(tuple),
    blocks=st.lists(st.builds(Block, st.sampled_from(BlockCode), words, words), max_size=2).map(
        tuple
    ),
    live_id=st.none() | st.integers(min_value=1, max_value=2**31),
    live_state=maybe,
    live_change_time=maybe,
    live_digest=maybe,
    desired_digest=maybe,
    live_content=maybe,
    running_tasks=st.integers(min_value=0, max_value=10_000),
    duplicates=st.lists(st.integers(min_value=1, max_value=2**31), max_size=3).map(tuple),
    failed_only=st.none() | st.builds(FailedOnly, st.integers(0, 10_000), st.integers(0, 10_000)),
    extension=st.none()
    | st.builds(
        Extension,
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.lists(st.tuples(words, st.none() | st.integers(-(2**31), 2**31)), max_size=3).map(tuple),
    ),
)
plan_strategy = st.builds(
    Plan,
    stack=words,
    cluster=words,
    changes=st.lists(changes, max_size=5).map(tuple),
    source=words,
    insecure=st.booleans(),
    notes=st.lists(words, max_size=2).map(tuple),
)
