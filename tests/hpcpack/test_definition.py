"""definition.py: `task_definition` builds exactly what `TaskDefinition(...)` builds."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpcspec.hpcpack.definition import Sweep, TaskDefinition, task_definition

TEXT = st.text(max_size=8)
PAIRS = st.lists(st.tuples(TEXT, TEXT), max_size=3).map(tuple)


FIELDS = st.tuples(
    TEXT,
    TEXT,
    st.none() | TEXT,
    st.lists(TEXT, max_size=3).map(tuple),
    st.lists(st.tuples(TEXT, st.integers() | st.booleans() | TEXT), max_size=3).map(tuple),
    PAIRS,
    PAIRS,
    st.none() | st.builds(Sweep, st.integers(0, 9), st.integers(0, 9), st.integers(1, 3)),
)


@given(FIELDS)
def test_task_definition_equals_the_dataclass_built_the_usual_way(
    values: tuple[object, ...],
) -> None:
    fast, usual = task_definition(*values), TaskDefinition(*values)  # type: ignore[arg-type]
    assert fast == usual and hash(fast) == hash(usual) and repr(fast) == repr(usual)
    assert [getattr(fast, f.name) for f in dataclasses.fields(TaskDefinition)] == list(values)


def test_a_task_definition_built_fast_stays_frozen() -> None:
    task = task_definition("a", "echo", None, (), (), (), (), None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.name = "b"  # type: ignore[misc]
