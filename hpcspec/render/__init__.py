"""Renderers: pure functions from a `Plan` to text for terminals, markdown and JSON.

They never decide anything (the planner did); they choose words, layout and colour, and they
neutralise every string that came from a manifest or the server so it can act neither as a
CI log command nor as a terminal escape (`neutralise`).

- `render_text(plan, color=…)` and `use_color(stream, env)`: terminals and plain logs;
- `render_markdown(plan, limit=60_000)`: pull-request comments and CI job summaries;
- `render_json(plan)`: the versioned document of `hpcspec.engine.planfile`.
"""

from hpcspec.render.jsonplan import render_json
from hpcspec.render.markdown import render_markdown
from hpcspec.render.neutralise import neutralise
from hpcspec.render.text import render_text, use_color

__all__ = [
    "neutralise",
    "render_json",
    "render_markdown",
    "render_text",
    "use_color",
]
