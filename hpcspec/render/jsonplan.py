"""A plan as the versioned JSON document (`--output json`), safe to print in a CI log.

The document itself is defined in `hpcspec.engine.planfile` (saved plans are the same
document plus an `extra` envelope) and described field by field in docs/plan-format.md.
"""

from __future__ import annotations

from hpcspec.engine.plan import Plan
from hpcspec.engine.planfile import dumps, plan_document
from hpcspec.render.neutralise import inert_json


def render_json(plan: Plan) -> str:
    """Deterministic JSON (sorted keys, no secrets) whose text holds no CI log command."""
    return inert_json(dumps(plan_document(plan)))
