"""Renderers: pure functions from a `Plan` to text for terminals, markdown and JSON.

They never decide anything (the planner did); they choose words, layout and colour, and they
neutralise every string that came from a manifest or the server so it can act neither as a
CI log command nor as a terminal escape (`neutralise`).

- `render_text(plan, color=…)` and `use_color(stream, env)`: terminals and plain logs;
- `render_markdown(plan, limit=60_000)`: pull-request comments and CI job summaries;
- `render_json(plan)`: the versioned document of `hpcspec.engine.planfile`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hpcspec.render.neutralise import neutralise

if TYPE_CHECKING:
    from hpcspec.render.jsonplan import render_json
    from hpcspec.render.markdown import render_markdown
    from hpcspec.render.text import render_text, use_color

__all__ = [
    "neutralise",
    "render_json",
    "render_markdown",
    "render_text",
    "use_color",
]

# The renderers are loaded on first use of their name, so what only neutralises a message
# (every error report, `cli.report`) does not load the plan renderers and the plan document's
# models (start-up of `validate` on an invalid manifest, issue 17).
_LOADED_ON_USE = {
    "render_json": "hpcspec.render.jsonplan",
    "render_markdown": "hpcspec.render.markdown",
    "render_text": "hpcspec.render.text",
    "use_color": "hpcspec.render.text",
}


def __getattr__(name: str) -> object:
    module = _LOADED_ON_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
