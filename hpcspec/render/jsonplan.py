"""A plan as the versioned JSON document (`--output json`), safe to print in a CI log.

The document itself is defined in `hpcspec.engine.planfile` (saved plans are the same
document plus an `extra` envelope) and described field by field in docs/plan-format.md;
`planfile.dumps` writes it so that no CI runner reads a log command in it.
"""

from __future__ import annotations

from hpcspec.engine.plan import Plan
from hpcspec.engine.planfile import dumps, plan_document


def render_json(plan: Plan) -> str:
    """Deterministic JSON (sorted keys, no secrets) whose text holds no CI log command."""
    return dumps(plan_document(plan))
